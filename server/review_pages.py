"""The review player, summary and exports over HTTP (see ``server.review``).

The player is a server-rendered page plus a small script (``static/review.js``):
the server renders the moment (room map, round and clock, chats, boards as the
SVG export at that ``seq``), the script scrubs, plays 1×–16× and jumps by
fetching that same fragment. A moment is in the URL (``?at=`` server ms or ``?seq=``).
"""

import csv
import functools
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from facilitation.history import earlier, opened_groups, person_key
from facilitation.session import Session
from programmes import Person
from rooms.municipalities import canonical_name, municipality_id
from server import privacy
from server.keys import CREDENTIALS, DISPATCHER, HUB, STORE
from server.live import LiveMeeting
from server.pages.template import CSP, Text, esc, lang_of, page
from server.review import (
    FILTERS,
    JUMPS,
    Review,
    Reviewer,
    ReviewError,
    events_of,
    export_header,
    jsonl_lines,
    meeting_of,
    msgpack_records,
    problem,
    read_range,
    review_view,
    type_filter,
    whole,
)

REVIEW = web.AppKey("review", Review)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@functools.cache
def _catalog(lang: str) -> dict[str, str]:
    text = resources.files("server.review_i18n").joinpath(f"{lang}.json").read_text("utf-8")
    return dict(json.loads(text))


class RText(Text):
    def raw(self, key: str, **values: object) -> str:
        if key.startswith("r."):
            text = _catalog(self.lang).get(key[2:]) or _catalog("sv").get(key[2:]) or key
            return text.format(**values) if values else text
        return super().raw(key, **values)


def guarded(handler: Handler) -> Handler:
    """Errors of review as clear JSON 4xx (401/403 before anything is disclosed)."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ReviewError as exc:
            return problem(exc)
    return wrapped


def _review(request: web.Request) -> Review:
    return request.app[REVIEW]


def _q(who: Reviewer, **params: object) -> str:
    values = {k: v for k, v in params.items() if v is not None}
    if who.key:
        values["key"] = who.key
    return "?" + urlencode(values) if values else ""


def _clock(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).strftime("%H:%M:%S UTC")


def moment_html(t: RText, live: LiveMeeting, view: dict[str, Any], who: Reviewer,
                names: dict[str, str]) -> str:
    """The room map, the round and its clock, every room's chat, the boards."""
    base = f"/review/{esc(live.id)}"
    rooms = []
    for room in view["rooms"]:
        members = "".join(
            f'<li data-participant="{esc(p["id"])}" class="{"on" if p["online"] else "off"}">'
            f'{esc(p["name"])} <small>({esc(p["municipality"])}) · '
            f'{t("r.online") if p["online"] else t("r.offline")}</small></li>'
            for p in room["members"]) or f'<li>{t("r.no_members")}</li>'
        rooms.append(f'<li data-room="{esc(room["id"])}"><strong>{esc(room["name"])}</strong>'
                     f'<ul class="plain">{members}</ul></li>')
    r = view["round"]
    if r is None:
        round_html = f'<p>{t("r.round_none")}</p>'
    else:
        phase = t.raw("r.phase." + str(r["phase"]))
        round_html = (f'<p data-round="{esc(r["number"])}">'
                      + t("r.round_number", number=r["number"], phase=phase) + "</p>")
        if view["clock"] is not None:
            left = view["clock"]["remaining_ms"] // 1000
            round_html += (f'<p class="clock" data-remaining="{left}">'
                           + t("r.remaining", minutes=left // 60, seconds=left % 60) + "</p>")
        if r.get("prompts"):
            tasks = "; ".join(esc(x) for x in dict.fromkeys(r["prompts"]))
            round_html += f'<p>{t("r.task")}: {tasks}</p>'
    chats = []
    for room in view["rooms"]:
        lines = "".join(f'<li><time>{_clock(c["ts"])}</time> <strong>{esc(c["name"])}</strong>: '
                        f'<span class="text">{esc(c["text"])}</span></li>' for c in room["chat"])
        chats.append(f'<section data-chat="{esc(room["id"])}" aria-label="{t("r.chat")} '
                     f'{esc(room["name"])}"><h3>{esc(room["name"])}</h3>'
                     + (f'<ol class="plain">{lines}</ol>' if lines
                        else f'<p>{t("r.chat_none")}</p>') + "</section>")
    boards = "".join(
        f'<figure><img data-board="{esc(room["id"])}" width="320" height="200" loading="lazy" '
        f'src="{base}/boards/{esc(room["id"])}.svg{esc(_q(who, seq=view["seq"]))}" '
        f'alt="{t("r.board_of", room=room["name"])}"><figcaption>{esc(room["name"])}'
        f'</figcaption></figure>'
        for room in view["rooms"] if room["board_updates"])
    del names
    return (f'<div id="moment" data-seq="{view["seq"]}" data-at="{view["at"]}">'
            f'<section aria-labelledby="h-rooms"><h2 id="h-rooms">{t("r.rooms")}</h2>'
            f'<ul class="plain columns" id="map">{"".join(rooms)}</ul></section>'
            f'<section aria-labelledby="h-round"><h2 id="h-round">{t("r.round")}</h2>'
            f'{round_html}</section>'
            f'<section aria-labelledby="h-chat"><h2 id="h-chat">{t("r.chat")}</h2>'
            f'{"".join(chats)}</section>'
            f'<section aria-labelledby="h-boards"><h2 id="h-boards">{t("r.boards")}</h2>'
            f'<div class="boards">{boards}</div></section></div>')


async def _moment(request: web.Request) -> tuple[LiveMeeting, Reviewer, dict[str, Any]]:
    live, who = meeting_of(request)
    review = _review(request)
    seq = await review.moment(request, live)
    idx = await review.index(live)
    state = await review.state_at(live, seq)
    at = int(request.query["at"]) if "at" in request.query and "seq" not in request.query \
        else (idx.ts[seq - 1] if seq else 0)
    return live, who, review_view(state, at)


@guarded
async def player(request: web.Request) -> web.Response:
    t = RText(lang_of(request))
    live, who, view = await _moment(request)
    idx = await _review(request).index(live)
    first, last = (idx.ts[0], idx.ts[-1]) if idx.ts else (0, 0)
    base = f"/review/{live.id}"
    speeds = "".join(f'<option value="{n}">{n}×</option>' for n in (1, 2, 4, 8, 16))
    filters = "".join(
        f'<label><input type="checkbox" name="types" value="{k}" checked> '
        f'{t("r.filter." + k)}</label> ' for k in FILTERS)
    key = f' data-key="{esc(who.key)}"' if who.key else ""
    body = f"""<nav class="actions" aria-label="{t("r.summary")}">
<a href="{esc(base)}/summary{esc(_q(who))}">{t("r.summary")}</a>
<a href="{esc(base)}/timeline.jsonl{esc(_q(who))}">{t("r.export_jsonl")}</a>
<a href="{esc(base)}/timeline.msgpack{esc(_q(who))}">{t("r.export_msgpack")}</a></nav>
<form id="player" data-base="{esc(base)}"{key} data-first="{first}" data-last="{last}"
 data-play="{t("r.play")}" data-pause="{t("r.pause")}">
<div class="field"><label for="scrub">{t("r.moment")}</label>
<input id="scrub" type="range" min="{first}" max="{last}" step="1" value="{view["at"]}">
<output id="when" for="scrub">{_clock(view["at"]) if view["at"] else ""}</output></div>
<button type="button" id="play">{t("r.play")}</button>
<label for="speed">{t("r.speed")}</label> <select id="speed">{speeds}</select>
<button type="button" data-jump="round">{t("r.next_round")}</button>
<button type="button" data-jump="help">{t("r.next_help")}</button>
<button type="button" data-jump="chat">{t("r.next_chat")}</button></form>
<div id="live" aria-live="polite">{moment_html(t, live, view, who, {})}</div>
<section aria-labelledby="h-events"><h2 id="h-events">{t("r.events")}</h2>
<fieldset id="filters"><legend>{t("r.filters")}</legend>{filters}</fieldset>
<ol id="events" class="plain"></ol></section>
<script src="/static/review.js" defer></script>"""
    return page(request, t.raw("r.title", title=live.state.meeting.title), body)


@guarded
async def moment_fragment(request: web.Request) -> web.Response:
    t = RText(lang_of(request))
    live, who, view = await _moment(request)
    return web.Response(text=moment_html(t, live, view, who, {}), content_type="text/html",
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP})


@guarded
async def state_json(request: web.Request) -> web.Response:
    _, _, view = await _moment(request)
    return web.Response(body=msgspec.json.encode(view), content_type="application/json",
                        headers={"Cache-Control": "no-store"})


@guarded
async def events_json(request: web.Request) -> web.Response:
    live, _ = meeting_of(request)
    review = _review(request)
    idx = await review.index(live)
    after = whole(request.query.get("after", "0"))
    limit = whole(request.query.get("limit", "200"))
    if after is None or limit is None or not 1 <= limit <= 2000:
        raise ReviewError(400, "invalid_filter", "after ≥ 0 and limit 1–2000, whole numbers.")
    types = type_filter(request.query.get("types"))
    out: list[dict[str, Any]] = []
    names = {p.id: p.name for p in live.state.meeting.participants.values()}
    cursor = after
    while len(out) < limit and cursor < idx.head:
        batch = await read_range(review.store, live.id, cursor, idx.head)
        if not batch:
            break
        for e in batch:
            if types is None or e.type.startswith(types):
                out.append({"seq": e.seq, "ts": e.ts, "type": e.type, "actor": e.actor,
                            "name": names.get(e.actor, e.actor), "text": _describe(e.data)})
                if len(out) == limit:
                    break
        cursor = batch[-1].seq
    return web.json_response({"events": out, "head": idx.head},
                             headers={"Cache-Control": "no-store"})


def _describe(data: dict[str, Any]) -> str:
    if "text" in data and isinstance(data["text"], str):
        return data["text"][:200]
    return ", ".join(f"{k}={v}" for k, v in data.items()
                     if isinstance(v, str | int | bool) and k not in ("update",))[:200]


@guarded
async def next_json(request: web.Request) -> web.Response:
    """The next round opening, help request or chat message after ``after``."""
    live, _ = meeting_of(request)
    kind = request.query.get("kind", "")
    after = whole(request.query.get("after", "0"))
    if kind not in JUMPS or after is None:
        raise ReviewError(400, "invalid_filter", f"kind is one of {', '.join(JUMPS)}; "
                          "after a whole number.")
    review = _review(request)
    idx = await review.index(live)
    cursor = after
    while cursor < idx.head:
        batch = await read_range(review.store, live.id, cursor, idx.head)
        if not batch:
            break
        for e in batch:
            if e.type in JUMPS[kind]:
                return web.json_response({"seq": e.seq, "at": e.ts})
        cursor = batch[-1].seq
    return web.json_response({"seq": None, "at": None})


async def _known_room(review: Review, live: LiveMeeting, room: str) -> None:
    """A room the meeting ever had (a board before the room opened is empty)."""
    idx = await review.index(live)
    if room not in live.state.meeting.rooms and room not in idx.board_seqs:
        raise ReviewError(404, "unknown_room", "There was no such room.")


@guarded
async def board_svg(request: web.Request) -> web.Response:
    live, _ = meeting_of(request)
    room = request.match_info["room"]
    review = _review(request)
    seq = await review.moment(request, live)
    await _known_room(review, live, room)
    svg = await review.svg_at(live, room, seq)
    return web.Response(text=svg, content_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})


@guarded
async def board_updates(request: web.Request) -> web.Response:
    """A board at a moment as Yjs updates (a msgpack array of v1 updates: the nearest
    checkpoint and the later updates merged); applied to an empty document they make
    the board as it was. The SVG of the same moment is ``{room}.svg``."""
    live, _ = meeting_of(request)
    room = request.match_info["room"]
    review = _review(request)
    seq = await review.moment(request, live)
    await _known_room(review, live, room)
    updates = await review.board_updates_at(live, room, seq)
    return web.Response(body=msgspec.msgpack.encode(updates), content_type="application/x-msgpack",
                        headers={"Cache-Control": "no-store"})


async def _export(request: web.Request, kind: str) -> web.StreamResponse:
    live, _ = meeting_of(request)
    head = live.durable
    store = request.app[STORE]
    resp = web.StreamResponse(headers={
        "Content-Type": "application/x-ndjson" if kind == "jsonl" else "application/x-msgpack",
        "Content-Disposition": f'attachment; filename="{live.id}.{kind}"',
        "Cache-Control": "no-store"})
    await resp.prepare(request)
    header = export_header(live, head)
    await resp.write(msgspec.json.encode(header) + b"\n" if kind == "jsonl"
                     else msgspec.msgpack.encode(header))
    async for batch in events_of(store, live.id, head):
        await resp.write(jsonl_lines(batch) if kind == "jsonl" else msgpack_records(batch))
    await resp.write_eof()
    return resp


@guarded
async def export_jsonl(request: web.Request) -> web.StreamResponse:
    return await _export(request, "jsonl")


@guarded
async def export_msgpack(request: web.Request) -> web.StreamResponse:
    return await _export(request, "msgpack")


# -- summary ---------------------------------------------------------------------------


async def summarise(request: web.Request, live: LiveMeeting) -> dict[str, Any]:
    review = _review(request)
    idx = await review.index(live)
    s: Session = await review.state_at(live, idx.head) if idx.head else Session()
    m = s.meeting
    chats: dict[str, int] = {}
    hands: dict[str, int] = {}
    asked: dict[str, tuple[int, str]] = {}
    help_rows: list[dict[str, Any]] = []
    async for batch in events_of(review.store, live.id, idx.head):
        for e in batch:
            if e.type == "chat.sent":
                chats[e.actor] = chats.get(e.actor, 0) + 1
            elif e.type == "hand.raised":
                hands[e.data["id"]] = hands.get(e.data["id"], 0) + 1
            elif e.type == "help.requested":
                asked[e.data["participant"]] = (e.ts, e.data["room"])
            elif e.type == "help.answered" and e.data["participant"] in asked:
                at, room = asked.pop(e.data["participant"])
                help_rows.append({"participant": e.data["participant"], "room": room,
                                  "at": at, "answered_s": round((e.ts - at) / 1000, 1)})
    help_rows += [{"participant": p, "room": r, "at": at, "answered_s": None}
                  for p, (at, r) in asked.items()]
    end = idx.ts[-1] if idx.ts else 0
    attendance = s.attendance_ms(end)
    before: dict[str, set[str]] = {}
    for other in earlier(s, request.app[HUB].cohort_of(live.id)):
        key_of = {pid: person_key(p) for pid, p in other.meeting.participants.items()}
        for groups in opened_groups(other):
            for g in groups:
                keys = {key_of[x] for x in g if x in key_of}
                for k in keys:
                    before.setdefault(k, set()).update(keys - {k})
    met: dict[str, set[str]] = {}
    for groups in opened_groups(s):
        for g in groups:
            for pid in g:
                met.setdefault(pid, set()).update(set(g) - {pid})
    people = []
    for p in sorted(m.participants.values(), key=lambda p: p.joined_at):
        mine = person_key(p)
        new = [q for q in met.get(p.id, set())
               if q in m.participants and person_key(m.participants[q])
               not in before.get(mine, set())]
        towns = sorted({canonical_name(m.participants[q].municipality) for q in new
                        if municipality_id(m.participants[q].municipality)
                        != municipality_id(p.municipality)})
        people.append({"id": p.id, "name": p.name, "municipality": p.municipality,
                       "minutes": round(attendance.get(p.id, 0) / 60000, 1),
                       "new_colleagues": sorted(m.participants[q].name for q in new),
                       "new_municipalities": towns,
                       "chat_messages": chats.get(p.id, 0), "hands": hands.get(p.id, 0)})
    names = {p.id: p.name for p in m.participants.values()}
    rounds = [{"number": r.number, "prompts": list(r.prompts),
               "groups": [[names.get(x, x) for x in g] for g in r.groups],
               "opened_at": r.opened_at, "closed_at": r.closed_at}
              for r in s.rounds if r.opened_at is not None]
    for h in help_rows:
        h["name"] = names.get(h["participant"], h["participant"])
    boards = [room for room, n in s.board_updates.items() if n and room in m.rooms]
    return {"meeting": {"id": m.id, "title": m.title, "starts_at": m.starts_at},
            "participants": people, "rounds": rounds, "help": help_rows, "boards": boards,
            "seq": idx.head}


@guarded
async def summary_page(request: web.Request) -> web.Response:
    from server.pages.template import table
    t = RText(lang_of(request))
    live, who = meeting_of(request)
    data = await summarise(request, live)
    base = f"/review/{live.id}"
    people = table(t("r.attendance"), [t("r.name"), t("r.municipality"), t("r.minutes"),
                                       t("r.new_people"), t("r.new_municipalities"),
                                       t("r.chats"), t("r.hands")],
                   [[esc(p["name"]), esc(p["municipality"]), str(p["minutes"]),
                     esc(", ".join(p["new_colleagues"])), esc(", ".join(p["new_municipalities"])),
                     str(p["chat_messages"]), str(p["hands"])] for p in data["participants"]])
    rounds = table(t("r.rounds_title"), [t("r.round"), t("r.task"), t("r.groups")],
                   [[str(r["number"]), esc("; ".join(dict.fromkeys(r["prompts"]))),
                     "<br>".join(esc(", ".join(g)) for g in r["groups"])]
                    for r in data["rounds"]])
    help_table = table(t("r.help_title"), [t("r.name"), t("r.room"), t("r.asked_at"),
                                           t("r.answered_after")],
                       [[esc(h["name"]), esc(h["room"]), _clock(h["at"]),
                         str(h["answered_s"]) if h["answered_s"] is not None
                         else t("r.unanswered")] for h in data["help"]])
    thumbs = "".join(f'<figure><img width="240" height="150" alt="{t("r.board_of", room=r)}" '
                     f'src="{esc(base)}/boards/{esc(r)}.svg{esc(_q(who))}">'
                     f'<figcaption>{esc(r)}</figcaption></figure>' for r in data["boards"])
    printable = request.query.get("print") == "1"
    nav = "" if printable else (
        f'<nav class="actions" aria-label="{t("r.summary")}">'
        f'<a href="{esc(base)}{esc(_q(who))}">{t("r.player")}</a>'
        f'<a href="{esc(base)}/summary.csv{esc(_q(who))}">{t("r.csv")}</a>'
        f'<a href="{esc(base)}/summary{esc(_q(who, print=1))}">{t("r.print")}</a></nav>')
    body = (f'{nav}<h2>{t("r.attendance")}</h2>{people}<h2>{t("r.rounds_title")}</h2>{rounds}'
            f'<h2>{t("r.help_title")}</h2>{help_table}<h2>{t("r.boards")}</h2>'
            f'<div class="boards">{thumbs}</div>')
    return page(request, t.raw("r.summary_title", title=live.state.meeting.title), body)


@guarded
async def summary_csv(request: web.Request) -> web.Response:
    live, _ = meeting_of(request)
    data = await summarise(request, live)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["participant", "name", "municipality", "minutes", "new_colleagues",
                "new_municipalities", "chat_messages", "hands"])
    for p in data["participants"]:
        w.writerow([p["id"], _cell(p["name"]), _cell(p["municipality"]), p["minutes"],
                    _cell("; ".join(p["new_colleagues"])),
                    _cell("; ".join(p["new_municipalities"])), p["chat_messages"], p["hands"]])
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{live.id}-summary.csv"',
                                 "Cache-Control": "no-store"})


def _cell(text: str) -> str:
    """No formula injection in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# -- a roster facilitator's way in: their personal link ------------------------------


def facilitated(workspace: Any, cohort: str, person: Person) -> list[Session]:
    """The cohort's meetings this roster person facilitates."""
    return [s for s in workspace.meetings(cohort) if person.facilitates(s.meeting.facilitators)]


def review_links(request: web.Request, cohort: str, person: Person, token: str) -> str:
    """For the personal link's page (``/p/{token}``): a review link to each meeting of
    the cohort the person facilitates, keyed by that same link; "" for anyone else."""
    from server.organisers import WORKSPACE
    t = RText(lang_of(request))
    mine = facilitated(request.app[WORKSPACE], cohort, person)
    if not mine:
        return ""
    key = "?" + urlencode({"key": token})
    items = "".join(f'<li><a href="/review/{esc(s.id)}{esc(key)}">'
                    f'{t("r.review_link", title=s.meeting.title)}</a></li>' for s in mine)
    return (f'<section class="card" aria-labelledby="review-links"><h2 id="review-links">'
            f'{t("r.review_links")}</h2><ul>{items}</ul></section>')


def review_links_page(request: web.Request, cohort: str, person: Any,
                      token: str) -> web.Response:
    t = RText(lang_of(request))
    found = review_links(request, cohort, person, token)
    if not found:
        return page(request, t.raw("r.review_links"),
                    f'<p role="alert">{t("r.review_links_none")}</p>', status=403)
    return page(request, t.raw("r.review_links"), found)


# -- keeping and forgetting (admin token: these live under /api/) -----------------------


def _secret(request: web.Request) -> str:
    return request.app[CREDENTIALS].secret_key


async def erase(request: web.Request) -> web.Response:
    """Erase one participant of an ended meeting (GDPR Art. 17); 404 if unknown."""
    meeting, pid = request.match_info["id"], request.match_info["participant"]
    hub = request.app[HUB]
    live = hub.get(meeting)
    if pid not in live.state.meeting.participants:
        return web.json_response({"error": {"code": "unknown_participant",
                                            "message": "There is no such participant."}},
                                 status=404)
    secret = _secret(request)
    review = _review(request)
    async with review.rewriting(meeting):
        live = await hub.rewrite(meeting, lambda events: privacy.erase_participant(
            events, pid, secret, meeting))
    review.build_later(live)
    return web.json_response({"participant": pid,
                              "name": live.state.meeting.participants[pid].name})


async def delete_recording(request: web.Request) -> web.Response:
    """Delete an ended meeting's recording, keeping its pseudonymised encounters."""
    meeting = request.match_info["id"]
    secret = _secret(request)
    review = _review(request)
    async with review.rewriting(meeting):
        live = await request.app[HUB].rewrite(
            meeting, lambda events: privacy.strip_recording(events, secret, meeting))
    review.build_later(live)
    return web.json_response({"meeting": meeting, "events": live.state.seq})


async def own_data(request: web.Request) -> web.Response:
    """A participant's own data (GDPR Art. 15), as JSON."""
    meeting, pid = request.match_info["id"], request.match_info["participant"]
    live = request.app[HUB].get(meeting)
    if pid not in live.state.meeting.participants:
        return web.json_response({"error": {"code": "unknown_participant",
                                            "message": "There is no such participant."}},
                                 status=404)
    events = await request.app[STORE].read(meeting)
    body = msgspec.json.encode(privacy.own_data(events, pid))
    return web.Response(body=body, content_type="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{meeting}-{pid}.json"',
                                 "Cache-Control": "no-store"})


async def review_ctx(app: web.Application) -> AsyncIterator[None]:
    """Index every meeting as it ends; after a restart, in the background, every ended
    meeting whose stored index is missing or short."""
    review, hub = app[REVIEW], app[HUB]
    app[DISPATCHER].services.review = review
    review.spawn(review.build_missing(hub.all()), "review-index-after-restart")
    yield
    await review.close()


def routes() -> list[web.RouteDef]:
    r = "/review/{meeting}"
    a = "/api/meetings/{id}"
    return [
        web.post(a + "/participants/{participant}/erase", erase),
        web.get(a + "/participants/{participant}/data", own_data),
        web.delete(a + "/recording", delete_recording),
        web.get(r, player),
        web.get(r + "/moment", moment_fragment),
        web.get(r + "/state.json", state_json),
        web.get(r + "/events.json", events_json),
        web.get(r + "/next.json", next_json),
        web.get(r + "/boards/{room}.svg", board_svg),
        web.get(r + "/boards/{room}.ybin", board_updates),
        web.get(r + "/timeline.jsonl", export_jsonl),
        web.get(r + "/timeline.msgpack", export_msgpack),
        web.get(r + "/summary", summary_page),
        web.get(r + "/summary.csv", summary_csv),
    ]
