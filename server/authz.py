"""Who may do what: every client event and every HTTP route, as data.

This module is the declared truth. The gateway refuses to register a client
event that has no entry in ``EVENTS`` and checks each event's phase, role and
rate cost before its handler runs; the REST middleware refuses a route that
has no entry in ``ROUTES`` and checks its credential. The domain keeps its own
checks (``require_facilitator``, room membership) as a second line.

The table in ``docs/security.md`` is generated from here:
``python -m server.authz docs/security.md`` rewrites it; a test fails when the two differ.
"""

import enum
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


class Phase(enum.Enum):
    CONNECTED = "connected"
    """An authenticated connection (a valid invitation token), before ``join``."""
    JOINED = "joined"
    """A connection bound to a participant present in the meeting."""


class Who(enum.Enum):
    ANYONE = "any"
    FACILITATOR = "facilitator"


class Scope(enum.Enum):
    """Which part of the connection's meeting an event may touch. No event names a
    meeting: a connection acts only in the meeting of its invitation token."""

    MEETING = "own meeting"
    OWN_ROOM = "own room"
    """Acts in the sender's current room; the room is never taken from the payload."""
    PEER = "peer in own room"
    """Addressed to one participant, who must be in the sender's room now."""
    READABLE = "readable room"
    """Names a room whose board the sender may read (own room, closed rooms;
    facilitators any)."""
    ANY_ROOM = "any room"
    """Names any room of the meeting (facilitators only)."""


@dataclass(frozen=True)
class EventRule:
    phase: Phase
    who: Who
    scope: Scope
    cost: int = 1
    """Tokens taken from the connection's rate bucket (30/s, bursts of 60)."""
    limits: str = ""


J, C = Phase.JOINED, Phase.CONNECTED
ANY, FAC = Who.ANYONE, Who.FACILITATOR

EVENTS: dict[str, EventRule] = {
    "join": EventRule(C, ANY, Scope.MEETING, 1,
                      "role from the invitation (or the resumed participant); "
                      "name, municipality 1–80"),
    "sync": EventRule(J, ANY, Scope.MEETING, 5, "only events the sender may see"),
    "leave": EventRule(J, ANY, Scope.MEETING),
    "chat": EventRule(J, ANY, Scope.OWN_ROOM, 1, "text 1–2000 after trimming"),
    "hand.raise": EventRule(J, ANY, Scope.MEETING),
    "hand.lower": EventRule(J, ANY, Scope.MEETING, 1, "another's hand: facilitators only"),
    "hands.clear": EventRule(J, FAC, Scope.MEETING),
    "react": EventRule(J, ANY, Scope.OWN_ROOM, 1, "one of 8 emoji"),
    "round.preview": EventRule(J, FAC, Scope.MEETING, 1,
                               "duration 60–10800 s, closing ≤ 600 s, warning ≤ 3600 s"),
    "round.regroup": EventRule(J, FAC, Scope.MEETING),
    "round.choose": EventRule(J, ANY, Scope.MEETING, 1,
                              "self-select preview; assignable participants only"),
    "round.cancel": EventRule(J, FAC, Scope.MEETING),
    "round.open": EventRule(J, FAC, Scope.MEETING),
    "round.extend": EventRule(J, FAC, Scope.MEETING, 1, "delta ±3 h; round ≤ 3 h"),
    "round.close": EventRule(J, FAC, Scope.MEETING),
    "round.broadcast": EventRule(J, FAC, Scope.MEETING, 1, "text ≤ 500"),
    "round.visit": EventRule(J, FAC, Scope.ANY_ROOM, 1, "a group's room of the open round"),
    "help.request": EventRule(J, ANY, Scope.OWN_ROOM, 1, "from a breakout group"),
    "help.answer": EventRule(J, FAC, Scope.MEETING),
    "network": EventRule(J, FAC, Scope.MEETING, 5, "the cohort's encounter report"),
    "agenda.templates": EventRule(J, ANY, Scope.MEETING),
    "agenda.set": EventRule(J, FAC, Scope.MEETING),
    "agenda.start": EventRule(J, FAC, Scope.MEETING),
    "signal": EventRule(J, ANY, Scope.PEER, 1, "sdp ≤ 64 KiB, candidate ≤ 2048; not logged"),
    "media": EventRule(J, ANY, Scope.OWN_ROOM),
    "speaking": EventRule(J, ANY, Scope.OWN_ROOM, 1,
                          "the sender's own state; ≤ 8 per 4 s; to facilitators; not logged"),
    "ice.refresh": EventRule(J, ANY, Scope.MEETING, 1, "credentials for the sender only"),
    "stage.add": EventRule(J, FAC, Scope.MEETING),
    "stage.remove": EventRule(J, FAC, Scope.MEETING),
    "board.update": EventRule(J, ANY, Scope.OWN_ROOM, 1,
                              "update ≤ 64 KiB; board ≤ 20,000 elements"),
    "board.fetch": EventRule(J, ANY, Scope.READABLE, 2),
    "board.clear": EventRule(J, FAC, Scope.ANY_ROOM),
    "board.show": EventRule(J, FAC, Scope.ANY_ROOM),
    "board.gallery": EventRule(J, ANY, Scope.MEETING, 5, "closed rounds' boards only"),
    "invite.info": EventRule(C, ANY, Scope.MEETING, 1,
                             "its own token's meeting title, start and role only"),
    "chat.history": EventRule(J, ANY, Scope.OWN_ROOM, 2, "the sender's current room only"),
    "meeting.end": EventRule(J, FAC, Scope.MEETING),
    "round.move": EventRule(J, FAC, Scope.MEETING, 1,
                            "a present participant; round open or closing"),
    "round.go": EventRule(J, ANY, Scope.MEETING, 1,
                          "the sender only; a roaming round, open or closing"),
    "round.message": EventRule(J, FAC, Scope.MEETING, 1, "one group of the open round; text ≤ 500"),
    "round.overview": EventRule(J, FAC, Scope.MEETING, 2),
    "hands.restore": EventRule(J, FAC, Scope.MEETING, 1, "only when no round is running"),
    "mix.constraints": EventRule(J, FAC, Scope.MEETING, 1, "≤ 200 pairs each; present people"),
    "sfu.publish": EventRule(J, ANY, Scope.OWN_ROOM, 1,
                             "present, in a room served by the SFU now; an offer ≤ 64 KiB; "
                             "`screen` a `mid` ≤ 64 characters (it labels only the sender's "
                             "own stream); `update` renegotiates only the sender's own "
                             "publishing connection"),
    "sfu.subscribe": EventRule(J, ANY, Scope.OWN_ROOM, 1,
                               "≤ 100 feeds, each a present member of the sender's room"),
    "sfu.answer": EventRule(J, ANY, Scope.OWN_ROOM, 1, "to the sender's own subscription"),
    "sfu.trickle": EventRule(J, ANY, Scope.OWN_ROOM, 1, "to the sender's own handles"),
}


class Credential(enum.Enum):
    PUBLIC = "none"
    ADMIN = "admin token"
    ADMIN_OR_EXPORT = "admin token, or a board export token"
    INVITATION = "invitation token (Socket.IO auth)"
    ORGANISER = "organiser session (cookie)"
    ORGANISER_CSRF = "organiser session (cookie) and its CSRF token"
    PERSONAL_LINK = "personal link token (signed, not revoked, cohort not over)"
    SIGN_IN_FORM = "none; the form's own signed token"
    REVIEWER = ("organiser session, admin token, or that meeting's facilitator: a roster "
                "person's personal link (a guest facilitator's resume token outside "
                "workspace cohorts)")


@dataclass(frozen=True)
class RouteRule:
    credential: Credential
    limits: str = ""


BODY = "body ≤ 128 KiB"
IMPORT = "CSV ≤ 128 KiB; all or nothing"
STREAMED = "streamed in batches of 5,000 events"
ROUTES: dict[tuple[str, str], RouteRule] = {
    ("GET", "/socket.io/"): RouteRule(Credential.INVITATION,
                                      "message ≤ 128 KiB, ≤ 2 attachments; see events"),
    ("POST", "/socket.io/"): RouteRule(Credential.INVITATION, "long-polling; as GET"),
    ("OPTIONS", "/socket.io/"): RouteRule(Credential.PUBLIC, "CORS preflight"),
    ("POST", "/api/meetings"): RouteRule(Credential.ADMIN, f"{BODY}; title 1–120"),
    ("GET", "/api/meetings"): RouteRule(Credential.ADMIN),
    ("GET", "/api/meetings/{id}"): RouteRule(Credential.ADMIN),
    ("POST", "/api/meetings/{id}/invites"): RouteRule(Credential.ADMIN),
    ("POST", "/api/meetings/{id}/end"): RouteRule(Credential.ADMIN),
    ("GET", "/api/meetings/{id}/network"): RouteRule(Credential.ADMIN),
    ("GET", "/api/meetings/{id}/log"): RouteRule(Credential.ADMIN, "limit ≤ 10,000 events"),
    ("GET", "/api/meetings/{id}/state"): RouteRule(Credential.ADMIN),
    ("POST", "/api/meetings/{id}/participants/{participant}/erase"): RouteRule(
        Credential.ADMIN, "an ended meeting; rewrites the log, then VACUUM"),
    ("GET", "/api/meetings/{id}/participants/{participant}/data"): RouteRule(
        Credential.ADMIN, "one person's own data (GDPR Art. 15)"),
    ("DELETE", "/api/meetings/{id}/recording"): RouteRule(Credential.ADMIN, "an ended meeting"),
    ("GET", "/api/meetings/{id}/boards/{room}.{fmt}"): RouteRule(
        Credential.ADMIN_OR_EXPORT, "export token: a board its participant may read"),
    ("GET", "/"): RouteRule(Credential.PUBLIC),
    ("GET", "/healthz"): RouteRule(Credential.PUBLIC),
    ("GET", "/metrics"): RouteRule(Credential.PUBLIC, "counters only; no ids or names"),
    ("GET", "/m/{meeting}"): RouteRule(Credential.PUBLIC, "the client page; no meeting data"),
    # Review (server/review_pages.py checks the credential itself, 401/403 before lookup).
    ("GET", "/review/{meeting}"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/moment"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/state.json"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/events.json"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/next.json"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/boards/{room}.svg"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/boards/{room}.ybin"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/timeline.jsonl"): RouteRule(Credential.REVIEWER, STREAMED),
    ("GET", "/review/{meeting}/timeline.msgpack"): RouteRule(Credential.REVIEWER, STREAMED),
    ("GET", "/review/{meeting}/summary"): RouteRule(Credential.REVIEWER),
    ("GET", "/review/{meeting}/summary.csv"): RouteRule(Credential.REVIEWER),
    ("GET", "/static"): RouteRule(Credential.PUBLIC),
    ("GET", "/assets/{name}"): RouteRule(Credential.PUBLIC),
    ("GET", "/favicon.ico"): RouteRule(Credential.PUBLIC),
    ("GET", "/accessibility"): RouteRule(Credential.PUBLIC),
    ("GET", "/municipalities.json"): RouteRule(Credential.PUBLIC, "the public list"),
    ("GET", "/p/{token}"): RouteRule(Credential.PERSONAL_LINK),
    ("POST", "/signin"): RouteRule(Credential.SIGN_IN_FORM,
                                   "5 failures per username per 15 min"),
    ("POST", "/signout"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/api/organisers"): RouteRule(Credential.ADMIN, BODY),
    ("GET", "/api/programmes"): RouteRule(Credential.ADMIN),
    ("GET", "/api/cohorts/{cohort}/links"): RouteRule(Credential.ADMIN),
    # The organiser's workspace (server/pages): checked by ``signed_in`` in
    # server/pages/template.py, which also checks the CSRF token of every POST.
    ("GET", "/o"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/p/{programme}"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/people/{person}"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/links"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/links.csv"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/network"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/network.csv"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/c/{cohort}/network.{fmt}"): RouteRule(Credential.ORGANISER),
    ("GET", "/o/m/{meeting}"): RouteRule(Credential.ORGANISER),
    ("POST", "/o/programmes"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/p/{programme}/cohorts"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/c/{cohort}/meetings"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/c/{cohort}/people"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/c/{cohort}/people/{person}"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/c/{cohort}/people/{person}/{action}"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/c/{cohort}/import"): RouteRule(Credential.ORGANISER_CSRF, IMPORT),
    ("POST", "/o/c/{cohort}/import/confirm"): RouteRule(Credential.ORGANISER_CSRF, IMPORT),
    ("POST", "/o/m/{meeting}"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/agenda/template"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/agenda/add"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/agenda/remove"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/guest-link"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/end"): RouteRule(Credential.ORGANISER_CSRF),
    ("POST", "/o/m/{meeting}/cohort"): RouteRule(Credential.ORGANISER_CSRF),
}
"""(method, aiohttp's canonical path) -> rule; HEAD follows GET."""


class MissingRule(LookupError):
    """An event or route that nobody has declared a rule for."""


def event_rule(name: str) -> EventRule:
    rule = EVENTS.get(name)
    if rule is None:
        raise MissingRule(
            f"The client event {name!r} has no entry in server/authz.py EVENTS. Add one "
            "(phase, who, scope, cost, limits) and regenerate the table in docs/security.md "
            "with `python -m server.authz docs/security.md`.")
    return rule


def route_rule(method: str, canonical: str) -> RouteRule | None:
    return ROUTES.get(("GET" if method == "HEAD" else method, canonical))


def routes_without_rule(router: web.UrlDispatcher) -> list[str]:
    """Every registered route that ``ROUTES`` does not cover, as 'METHOD path'."""
    return sorted({f"{r.method} {r.resource.canonical}" for r in router.routes()
                   if r.resource is not None and r.method != "*"
                   and route_rule(r.method, r.resource.canonical) is None})


def require_routes(router: web.UrlDispatcher) -> None:
    missing = routes_without_rule(router)
    if missing:
        raise MissingRule(
            f"These routes have no entry in server/authz.py ROUTES: {', '.join(missing)}. "
            "Add a RouteRule for each (credential, limits) and regenerate the table in "
            "docs/security.md with `python -m server.authz docs/security.md`.")


def check_payload(name: str, fields: Iterable[str]) -> None:
    """The payload's shape must match the declared scope: no event names a meeting,
    a room only where the scope allows it, a peer exactly when the scope is a peer."""
    fields, scope = set(fields), event_rule(name).scope
    wrong = ("meeting" in fields
             or ("room" in fields and scope not in (Scope.READABLE, Scope.ANY_ROOM))
             or ("to" in fields) != (scope is Scope.PEER))
    if wrong:
        raise MissingRule(f"The payload fields of {name!r} ({', '.join(sorted(fields))}) do "
                          f"not fit its scope {scope.value!r} in server/authz.py EVENTS.")


def markdown() -> str:
    """The authorisation tables of docs/security.md."""
    lines = ["| event | phase | role | scope | rate cost | limits |",
             "|---|---|---|---|---|---|"]
    lines += [f"| `{name}` | {r.phase.value} | {r.who.value} | {r.scope.value} | {r.cost} | "
              f"{r.limits} |" for name, r in EVENTS.items()]
    lines += ["", "| method | path | credential | limits |", "|---|---|---|---|"]
    lines += [f"| {method} | `{path}` | {r.credential.value} | {r.limits} |"
              for (method, path), r in ROUTES.items()]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- authz-table:begin -->", "<!-- authz-table:end -->"


def write_into(path: Path) -> None:
    """Replace the table between the markers of ``path`` (docs/security.md)."""
    head, rest = path.read_text("utf-8").split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{markdown()}{END}{tail}", "utf-8")


if __name__ == "__main__":  # python -m server.authz [docs/security.md]
    if len(sys.argv) > 1:
        write_into(Path(sys.argv[1]))
    else:
        sys.stdout.write(markdown())
