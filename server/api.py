"""The organiser's REST API, guarded by the admin token."""

import asyncio
import hmac
import logging
from datetime import datetime
from typing import Annotated, Any

import msgspec
from aiohttp import web

from facilitation.history import network_report
from facilitation.planning import can_read_board
from facilitation.session import Session, fold
from facilitation.view import session_view
from rooms import ADMIN, Role
from rooms import commands as cmd
from rooms.board import to_png, to_svg
from rooms.exceptions import DomainError
from server import authz
from server.hub import Hub
from server.keys import BOARDS, CREDENTIALS, GATEWAY, HUB, SETTINGS, STORE, TOKENS
from server.store import StoreError
from server.tokens import TokenError


class NewMeeting(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    starts_at: datetime
    cohort: Annotated[str, msgspec.Meta(max_length=80)] = ""


logger = logging.getLogger("ledarstig.api")


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def is_admin(request: web.Request) -> bool:
    expected = request.app[CREDENTIALS].admin_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":  # a bare token is not a credential (RFC 6750)
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@web.middleware
async def admin_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every route's credential comes from ``server.authz.ROUTES``; a route without an
    entry is refused. Board exports also take a participant's read-only export token,
    which the handler checks itself. API errors are always ``{"error": ...}`` bodies."""
    resource = request.match_info.route.resource
    api = request.path.startswith("/api/")
    if resource is None:  # no such route (404/405): say so only to the admin
        if api and not is_admin(request):
            return json_error(401, "unauthorized", "A valid admin token is required.")
        return await _answer(request, handler, api)
    rule = authz.route_rule(request.method, resource.canonical)
    if rule is None:
        logger.error("refused %s %s: no rule in server/authz.py", request.method,
                   resource.canonical)
        return json_error(403, "forbidden", "This route is not open to anyone.")
    if _needs_admin(rule, request) and not is_admin(request):
        return json_error(401, "unauthorized", "A valid admin token is required.")
    return await _answer(request, handler, api)


def _needs_admin(rule: authz.RouteRule, request: web.Request) -> bool:
    return rule.credential is authz.Credential.ADMIN or (
        rule.credential is authz.Credential.ADMIN_OR_EXPORT and "export" not in request.query)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


async def _answer(request: web.Request, handler: Any, api: bool) -> web.StreamResponse:
    if not api:
        return await handler(request)
    try:
        return await handler(request)
    except DomainError as exc:
        status = 404 if exc.code == "meeting_not_found" else 409
        return json_error(status, exc.code, exc.message)
    except StoreError as exc:  # the store (Redis, the disk) is failing: say so, retryable
        return json_error(503, exc.code, "The event store is unavailable; try again.")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, _HTTP_CODES.get(exc.status, "invalid_request"),
                          exc.reason + ".")
    except Exception:
        resource = request.match_info.route.resource
        logger.exception("%s %s failed", request.method,
                       resource.canonical if resource is not None else "?")
        return json_error(500, "internal_error", "The server could not do that.")


def whole(text: str) -> int | None:
    """A whole number ≥ 0 written in ASCII digits (not ``²``, ``+1``, ``1_0``), or None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def summary(s: Session) -> dict[str, Any]:
    m = s.meeting
    return {"id": m.id, "title": m.title, "starts_at": m.starts_at, "cohort": m.cohort,
            "ended": m.ended, "participants": len(m.present())}


async def create_meeting(request: web.Request) -> web.Response:
    try:
        body = msgspec.json.decode(await request.read(), type=NewMeeting)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return json_error(400, "invalid_payload", f"The meeting is not valid: {exc}.")
    live = await request.app[HUB].create(body.title, body.starts_at.isoformat(), body.cohort)
    return web.json_response(summary(live.state), status=201)


async def list_meetings(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    await hub.adopt_all()  # cluster: this process may hold only some
    return web.json_response([summary(live.state) for live in hub.all()])


async def get_meeting(request: web.Request) -> web.Response:
    return web.json_response(summary(request.app[HUB].get(request.match_info["id"]).state))


async def invites(request: web.Request) -> web.Response:
    meeting = request.app[HUB].get(request.match_info["id"]).state.meeting
    tokens = request.app[TOKENS]
    base = request.app[SETTINGS].public_url or f"{request.scheme}://{request.host}"
    links = {}
    for role in Role:
        token = tokens.invite(meeting.id, role)
        links[role.value] = {"token": token, "url": f"{base}/m/{meeting.id}?t={token}",
                             "expires_in_s": tokens.invite_ttl_s}
    return web.json_response(links)


async def end_meeting(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    meeting_id = request.match_info["id"]
    await hub.execute(meeting_id, ADMIN, lambda s: cmd.end_meeting(s.meeting))
    await request.app[GATEWAY].close_meeting(meeting_id)
    return web.json_response(summary(hub.get(meeting_id).state))


async def network(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    meeting_id = request.match_info["id"]
    return web.json_response(network_report(hub.get(meeting_id).state, hub.cohort_of(meeting_id)))


async def log(request: web.Request) -> web.Response:
    """The meeting's log for the review player; binary data as base64."""
    hub: Hub = request.app[HUB]
    live = hub.get(request.match_info["id"])
    after, limit = whole(request.query.get("after", "0")), whole(request.query.get("limit", "1000"))
    if after is None or limit is None:
        return json_error(400, "invalid_payload", "after and limit must be whole numbers ≥ 0.")
    head = live.durable  # never an event the store has not confirmed
    events = [e for e in await request.app[STORE].read(live.id, after) if e.seq <= head]
    body = msgspec.json.encode({"seq": head, "events": events[:min(limit, 10_000)]})
    return web.Response(body=body, content_type="application/json")


async def state_at(request: web.Request) -> web.Response:
    """The meeting as it was after log event ``seq`` (review: who was where): the same
    fold as the live server, stopped early."""
    hub: Hub = request.app[HUB]
    live = hub.get(request.match_info["id"])
    seq = whole(request.query.get("seq", str(live.durable)))
    if seq is None:
        return json_error(400, "invalid_payload", "seq must be a whole number.")
    upto = min(seq, live.durable)
    events = [e for e in await request.app[STORE].read(live.id) if e.seq <= upto]
    state = fold(events)
    view = session_view(state, "")
    view["online"] = None  # presence is not part of the log
    return web.Response(body=msgspec.json.encode(view), content_type="application/json")


async def board_export(request: web.Request) -> web.Response:
    hub: Hub = request.app[HUB]
    meeting_id, room, fmt = (request.match_info[k] for k in ("id", "room", "fmt"))
    state = hub.get(meeting_id).state
    if room not in state.meeting.rooms:
        return json_error(404, "unknown_room", "There is no such room.")
    if not is_admin(request):
        try:
            resume = request.app[TOKENS].read_export(request.query["export"])
        except TokenError as exc:
            return json_error(401, exc.code, str(exc))
        if resume.meeting != meeting_id or not can_read_board(state, resume.participant, room):
            return json_error(403, "forbidden", "That board is not open to you.")
    boards = request.app[BOARDS]
    seq = request.query.get("seq")
    upto = whole(seq) if seq is not None else None
    if seq is not None and upto is None:
        return json_error(400, "invalid_payload", "seq must be a whole number.")
    board = await (boards.replay(meeting_id, room, upto=upto) if upto is not None
                   else boards.get(meeting_id, room))
    elements = board.elements()
    if fmt == "svg":
        svg = await asyncio.to_thread(to_svg, elements)
        return web.Response(text=svg, content_type="image/svg+xml")
    png = await asyncio.to_thread(to_png, elements)
    return web.Response(body=png, content_type="image/png")


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/meetings", create_meeting),
        web.get("/api/meetings", list_meetings),
        web.get("/api/meetings/{id}", get_meeting),
        web.post("/api/meetings/{id}/invites", invites),
        web.post("/api/meetings/{id}/end", end_meeting),
        web.get("/api/meetings/{id}/network", network),
        web.get("/api/meetings/{id}/log", log),
        web.get("/api/meetings/{id}/state", state_at),
        web.get("/api/meetings/{id}/boards/{room}.{fmt:svg|png}", board_export),
    ]
