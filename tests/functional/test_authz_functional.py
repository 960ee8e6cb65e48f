"""The authorisation table (server/authz.py) is complete, matches docs/security.md,
and is enforced by the gateway and the REST middleware, not only by the domain."""

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from server import authz
from server import protocol as p
from server.app import create_app
from server.config import Settings
from server.connections import Connection
from server.keys import GATEWAY
from server.sio import NAMESPACE
from tests.support import ADMIN_TOKEN, SECRET, Meeting, RunningServer

SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "security.md"
LIFECYCLE = {"connect", "disconnect", "*"}
BEGIN, END = authz.BEGIN, authz.END


def registered_events(server: RunningServer) -> set[str]:
    return set(server.app[GATEWAY].sio.handlers[NAMESPACE]) - LIFECYCLE


@pytest.mark.parametrize("serializer", ["json"])
async def test_every_client_event_has_exactly_one_rule(server: RunningServer) -> None:
    events = registered_events(server)
    missing = sorted(events - set(authz.EVENTS))
    assert not missing, (f"Add these client events to server/authz.py EVENTS, then run "
                         f"`python -m server.authz docs/security.md`: {missing}")
    stale = sorted(set(authz.EVENTS) - events)
    assert not stale, f"server/authz.py EVENTS lists events nobody handles: {stale}"


@pytest.mark.parametrize("serializer", ["json"])
async def test_every_route_has_exactly_one_rule(server: RunningServer) -> None:
    router = server.app.router
    assert authz.routes_without_rule(router) == [], (
        "Add these routes to server/authz.py ROUTES, then run `python -m server.authz` "
        "into docs/security.md")
    served = {(r.method, r.resource.canonical) for r in router.routes()
              if r.resource is not None and r.method != "HEAD"}
    stale = sorted(set(authz.ROUTES) - served)
    assert not stale, f"server/authz.py ROUTES lists routes nobody serves: {stale}"


def test_the_documented_table_is_the_code_table() -> None:
    text = SECURITY_MD.read_text("utf-8")
    assert BEGIN in text and END in text, f"docs/security.md lacks {BEGIN} … {END}"
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert documented == authz.markdown(), (
        "docs/security.md differs from server/authz.py: run "
        "`python -m server.authz docs/security.md`")


def test_a_payload_that_names_a_room_needs_a_room_scope() -> None:
    authz.check_payload("board.fetch", p.RoomRef.__struct_fields__)
    with pytest.raises(authz.MissingRule, match="scope"):
        authz.check_payload("chat", ["text", "room"])
    with pytest.raises(authz.MissingRule):
        authz.check_payload("board.fetch", ["room", "meeting"])
    with pytest.raises(authz.MissingRule):
        authz.check_payload("signal", ["description"])


@pytest.mark.parametrize("serializer", ["json"])
async def test_an_event_without_a_rule_cannot_be_registered(server: RunningServer) -> None:
    async def handler(conn: Connection, msg: Any) -> dict[str, Any]:
        return {}
    with pytest.raises(authz.MissingRule, match="server/authz.py EVENTS"):
        server.app[GATEWAY].command("no.rule.here", p.Empty, handler)


@pytest.mark.parametrize("serializer", ["json"])
async def test_the_gateway_checks_role_and_cost_before_the_handler(
        meeting: Meeting, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = meeting.server.app[GATEWAY]
    ran: list[str] = []

    async def secret(conn: Connection, msg: Any) -> dict[str, Any]:
        ran.append(conn.participant or "")
        return {"secret": 1}
    monkeypatch.setitem(authz.EVENTS, "test.secret", authz.EventRule(
        authz.Phase.JOINED, authz.Who.FACILITATOR, authz.Scope.MEETING))
    monkeypatch.setitem(authz.EVENTS, "test.dear", authz.EventRule(
        authz.Phase.JOINED, authz.Who.ANYONE, authz.Scope.MEETING, cost=1000))
    gateway.command("test.secret", p.Empty, secret)
    gateway.command("test.dear", p.Empty, secret)
    anna, fia = await meeting.participant(), await meeting.facilitator()
    refused = await anna.call("test.secret")
    assert refused["error"]["code"] == "forbidden" and ran == []
    assert (await fia.ok("test.secret")) == {"secret": 1} and ran == [fia.participant]
    assert (await fia.call("test.dear"))["error"]["code"] == "rate_limited"
    # Who may send an event is checked before its payload is looked at.
    garbage = await anna.call("round.preview", {"strategy": 5, "nonsense": True})
    assert garbage["error"]["code"] == "forbidden", garbage
    assert ran == [fia.participant]
    stranger = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id)
    await stranger.connect()
    assert (await stranger.call("test.secret"))["error"]["code"] == "not_joined"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_routes_without_a_rule_are_refused_and_errors_are_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=ADMIN_TOKEN, secret_key=SECRET,
                        log_json=False, gc_freeze=False)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")
    app = create_app(settings)
    app.router.add_get("/api/unruled", boom)
    app.router.add_get("/api/boom", boom)
    with pytest.raises(authz.MissingRule, match="GET /api/boom, GET /api/unruled"):
        authz.require_routes(app.router)
    monkeypatch.setitem(authz.ROUTES, ("GET", "/api/boom"), authz.RouteRule(authz.Credential.ADMIN))
    runner, url = await _serve(app)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        async with aiohttp.ClientSession(headers=admin) as http:
            answers = {}
            for method, path, body in [("GET", "/api/unruled", None), ("GET", "/api/boom", None),
                                       ("POST", "/api/meetings", b"x" * (200 * 1024)),
                                       ("GET", "/api/nothing", None),
                                       ("DELETE", "/api/meetings", None)]:
                async with http.request(method, url + path, data=body) as resp:
                    assert resp.content_type == "application/json", (path, await resp.text())
                    answers[method, path] = (resp.status, (await resp.json())["error"]["code"])
            async with http.get(url + "/api/boom", headers={"Authorization": "Bearer x"}) as r:
                assert r.status == 401
    finally:
        await runner.cleanup()
    assert answers == {("GET", "/api/unruled"): (403, "forbidden"),
                       ("GET", "/api/boom"): (500, "internal_error"),
                       ("POST", "/api/meetings"): (413, "payload_too_large"),
                       ("GET", "/api/nothing"): (404, "not_found"),
                       ("DELETE", "/api/meetings"): (405, "method_not_allowed")}, answers
