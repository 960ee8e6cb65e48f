"""The edge: reserved event names, floods, malformed packets, origins, per-address
limits and connections that never join. Real server, real clients, raw frames."""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.config import Limits
from server.keys import GATEWAY, HUB
from tests.support import Client, Meeting, RunningServer, start_server

EVIL = "https://evil.example"


def online(meeting: Meeting, c: Client) -> bool:
    return bool(meeting.server.app[GATEWAY].conns.online(meeting.id, c.participant))


# -- item 1: reserved event names --------------------------------------------------------

async def test_emitting_disconnect_is_refused_and_changes_nothing(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    seq = meeting.server.app[HUB].get(meeting.id).state.seq
    answer = await anna.call("disconnect")
    assert answer["ok"] is False and answer["error"]["code"] == "reserved_event"
    for name in ("connect_error", "disconnecting", "*"):
        assert (await anna.call(name))["error"]["code"] == "reserved_event"
    assert online(meeting, anna)
    gateway = meeting.server.app[GATEWAY]
    assert not gateway.scheduler.pending(f"grace:{meeting.id}:{anna.participant}")
    await bo.ok("chat", {"text": "hör du mig?"})
    await anna.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    await anna.ok("chat", {"text": "ja"})
    assert not [d for d in bo.inbox.named("presence") if not d["online"]]
    assert [e.type for e in meeting.server.app[HUB].get(meeting.id).since(seq) or []] == [
        "chat.sent", "chat.sent"]


async def test_reserved_names_are_rate_limited_and_a_flood_of_them_disconnects(
        meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    for _ in range(400):
        await anna.sio.emit("disconnect")
    assert await anna.disconnected()
    closing = await anna.inbox.wait("closing")
    assert closing["code"] == "flooding"


async def test_emitting_connect_then_closing_goes_offline_with_grace(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    forged = await anna.call("connect", {"token": meeting.tokens["participant"],
                                         "meeting": meeting.id})
    assert forged["error"]["code"] == "reserved_event"
    await anna.sio.disconnect()
    gone = await bo.inbox.wait("presence", lambda d: d == {"participant": anna.participant,
                                                           "online": False})
    assert gone
    await meeting.server.advance(meeting.server.settings.grace_s)
    left = await bo.inbox.wait("event", lambda e: e["type"] == "participant.left")
    assert left["data"] == {"id": anna.participant, "reason": "timeout"}


# -- item 8: floods ----------------------------------------------------------------------

async def test_a_client_paced_above_the_rate_is_disconnected(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    server, sent = meeting.server, 0
    while anna.sio.connected and sent < 4 * 400:
        await anna.sio.emit("react", {"emoji": "👍"})
        await server.advance(1 / 400)  # pacing the sender: 400 events a second
        sent += 1
    assert await anna.disconnected(timeout=1)
    assert sent < 3 * 400
    assert (await anna.inbox.wait("closing"))["code"] == "flooding"


async def test_a_tight_burst_is_always_disconnected(meeting: Meeting) -> None:
    for i in range(3):
        c = await meeting.participant(f"D {i}")
        await asyncio.gather(*(c.sio.emit("react", {"emoji": "👍"}) for _ in range(250)))
        assert await c.disconnected(), f"burst {i} was not disconnected"


async def test_a_client_within_the_burst_is_not_disconnected(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    answers = await asyncio.gather(*(anna.call("react", {"emoji": "👍"}) for _ in range(150)))
    refused = [a for a in answers if not a["ok"]]
    assert refused and all(a["error"]["code"] == "rate_limited" for a in refused)
    assert len(refused) <= meeting.server.settings.limits.flood_disconnect_after
    assert anna.sio.connected
    await meeting.server.advance(2 / meeting.server.settings.limits.rate_per_second)  # refill
    await anna.ok("chat", {"text": "fortfarande här"})


@pytest.fixture
async def raw_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    server = await start_server(tmp_path / "d")
    yield server
    await server.stop()


async def open_raw(http: aiohttp.ClientSession, server: RunningServer, token: str | None,
                   meeting: str, **headers: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        headers=headers)
    assert str((await ws.receive(timeout=3)).data).startswith("0")
    if token is not None:
        await ws.send_str("40" + json.dumps({"token": token, "meeting": meeting}))
        assert str((await ws.receive(timeout=3)).data).startswith("40{")
        assert str((await ws.receive(timeout=3)).data).startswith('42["meeting"')
    return ws


async def frames_until_closed(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    got: list[str] = []
    while True:
        msg = await ws.receive(timeout=3)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.CLOSING) or msg.data == "1":  # Engine.IO close
            return got
        got.append(str(msg.data))


async def test_malformed_packets_are_answered_closed_and_logged_boundedly(
        raw_server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    m = await raw_server.new_meeting()
    token = m.tokens["participant"]
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        ws = await open_raw(http, raw_server, token, m.id)
        await ws.send_str("421[7]")  # an event whose name is not a string: answered
        assert json.loads((await ws.receive(timeout=3)).data[3:])[0]["error"]["code"] == \
            "invalid_packet"
        await ws.send_str('42{"a":1}')  # nameless and unacknowledged: refused, stays open
        await ws.send_str("422[]")
        assert json.loads((await ws.receive(timeout=3)).data[3:])[0]["error"]["code"] == \
            "invalid_packet"
        await ws.send_str("42[")  # undecodable: a notice, then closed
        frames = await frames_until_closed(ws)
        assert any(f.startswith('42["closing"') and "invalid_packet" in f for f in frames)
        for bad in ["42[", "4-", "49", '42["chat",', "47"] * 8:
            ws = await open_raw(http, raw_server, token, m.id)
            await ws.send_str(bad)
            await frames_until_closed(ws)
        ws = await open_raw(http, raw_server, None, m.id)  # before the namespace handshake
        await ws.send_str('42["chat",{"text":"x"}]')
        await frames_until_closed(ws)
    lines = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]
    bo = await m.participant("Bo", "Vasa")
    await bo.ok("chat", {"text": "servern lever"})


# -- item 9: authenticated but never joined ------------------------------------------------

async def test_a_connection_that_never_joins_is_closed(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "d")
    timeout = server.settings.limits.join_timeout_s
    try:
        m = await server.new_meeting()
        idle = m.server.client(m.tokens["participant"], meeting=m.id)
        await idle.connect()
        # Before joining, the handshake says which meeting this is (for the join page).
        assert await idle.inbox.wait("meeting") == {
            "id": m.id, "title": "Ledarstig 1", "starts_at": "2026-12-01T09:00:00+02:00"}
        anna = await m.participant("Anna")
        await server.advance(timeout - 1)
        assert idle.sio.connected
        await server.advance(1)
        assert await idle.disconnected(timeout=3)
        assert (await idle.inbox.wait("closing"))["code"] == "join_timeout"
        assert anna.sio.connected
        assert not server.app[GATEWAY].scheduler.pending(f"join:{anna.sio.get_sid()}")
        await anna.ok("leave")  # after leaving, the same bound applies again
        await server.advance(timeout)
        assert await anna.disconnected(timeout=3)
    finally:
        await server.stop()


# -- item 10: origins ----------------------------------------------------------------------

async def handshake(server: RunningServer, transport: str, origin: str | None,
                    **headers: str) -> int:
    """Status of an Engine.IO open over ``transport`` with that Origin (101/200 = accepted)."""
    if origin:
        headers["Origin"] = origin
    url = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport={transport}"
    async with aiohttp.ClientSession() as http:
        if transport == "polling":
            async with http.get(url, headers=headers) as r:
                return r.status
        try:
            async with http.ws_connect(url.replace("http", "ws", 1), headers=headers) as ws:
                assert str((await ws.receive(timeout=3)).data).startswith("0")
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_origin_allow_list_for_both_transports(raw_server: RunningServer,
                                                     transport: str) -> None:
    ok = 101 if transport == "websocket" else 200
    own = f"http://127.0.0.1:{raw_server.port}"
    assert await handshake(raw_server, transport, EVIL) == 400
    assert await handshake(raw_server, transport, own) == ok
    assert await handshake(raw_server, transport, None) == ok
    # X-Forwarded-Proto from an untrusted peer does not make https the own scheme.
    assert await handshake(raw_server, transport, f"https://127.0.0.1:{raw_server.port}",
                           **{"X-Forwarded-Proto": "https"}) == 400


async def test_origin_configured_public_url_and_trusted_proxy(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "d", public_url="https://moten.example.fi",
                                cors_origins=("https://intra.example.fi",))
    try:
        assert await handshake(server, "websocket", "https://moten.example.fi") == 101
        assert await handshake(server, "polling", "https://intra.example.fi") == 200
        assert await handshake(server, "websocket", f"http://127.0.0.1:{server.port}") == 400
        assert await handshake(server, "polling", EVIL) == 400
    finally:
        await server.stop()
    server = await start_server(tmp_path / "d", trusted_proxies=("127.0.0.1/32",))
    try:
        https_own = f"https://127.0.0.1:{server.port}"
        assert await handshake(server, "websocket", https_own,
                               **{"X-Forwarded-Proto": "https"}) == 101
        assert await handshake(server, "websocket", https_own) == 400
    finally:
        await server.stop()


async def test_rest_cors_headers_come_from_the_same_list(raw_server: RunningServer) -> None:
    own = f"http://127.0.0.1:{raw_server.port}"
    url = f"{own}/api/meetings"
    auth = {"Authorization": "Bearer test-admin-token"}
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={**auth, "Origin": own}) as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == own
        async with http.get(url, headers={**auth, "Origin": EVIL}) as r:
            assert "Access-Control-Allow-Origin" not in r.headers
        async with http.get(url, headers=auth) as r:
            assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
        pre = {"Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization"}
        async with http.options(url, headers={**pre, "Origin": own}) as r:
            assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == own
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
        async with http.options(url, headers={**pre, "Origin": EVIL}) as r:
            assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers


# -- item 8: per address -------------------------------------------------------------------

async def polling_open(server: RunningServer, xff: str | None) -> int:
    headers = {"X-Forwarded-For": xff} if xff else {}
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling",
            headers=headers) as r:
        return r.status


async def test_sixty_joins_from_one_office_address_are_never_limited(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "d", trusted_proxies=("127.0.0.1",))
    try:
        m = await server.new_meeting()
        office = {"X-Forwarded-For": "198.51.100.23, 127.0.0.1"}
        clients: list[Any] = []
        started = time.monotonic()
        for i in range(60):
            c = server.client(m.tokens["participant"], meeting=m.id)
            await c.sio.connect(server.url, auth=c.auth, transports=["websocket"],
                                headers=office, wait_timeout=5)
            await c.join(f"Tjänsteman {i}", "Vasa")
            clients.append(c)
        assert time.monotonic() - started < 30
        assert server.app[HUB].get(m.id).state.meeting.present().__len__() == 60
    finally:
        await server.stop()


async def test_per_address_limits_use_the_trusted_proxy_address(tmp_path: Path) -> None:
    limits = Limits(address_attempts=20, address_max_open=1000)
    server = await start_server(tmp_path / "d", trusted_proxies=("127.0.0.0/8",), limits=limits)
    try:
        statuses = [await polling_open(server, "203.0.113.7") for _ in range(21)]
        assert statuses[:20] == [200] * 20 and statuses[20] == 401
        assert await polling_open(server, "203.0.113.8") == 200  # another address
        # The proxy itself (loopback) is not limited.
        assert [await polling_open(server, None) for _ in range(25)] == [200] * 25
    finally:
        await server.stop()
    server = await start_server(tmp_path / "d", limits=limits)  # no trusted proxy
    try:
        # X-Forwarded-For from an untrusted peer is ignored: this is all loopback.
        assert [await polling_open(server, "203.0.113.7") for _ in range(25)] == [200] * 25
    finally:
        await server.stop()


async def test_engineio_garbage_logs_boundedly(raw_server: RunningServer,
                                               caplog: pytest.LogCaptureFixture) -> None:
    m = await raw_server.new_meeting()
    caplog.set_level(logging.INFO)
    base = f"http://127.0.0.1:{raw_server.port}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        ws = await open_raw(http, raw_server, m.tokens["participant"], m.id)
        for _ in range(30):
            await ws.send_str("9")  # no such Engine.IO packet type
        await ws.close()
        for _ in range(10):  # not even an Engine.IO packet: the socket is dropped
            ws = await open_raw(http, raw_server, None, m.id)
            await ws.send_str("x")
            assert (await ws.receive(timeout=3)).type in (
                aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        for _ in range(10):
            async with http.get(base) as r:
                sid = json.loads((await r.text())[1:])["sid"]
            async with http.post(f"{base}&sid={sid}", data="xx") as r:
                assert r.status < 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) <= 3, [r.getMessage() for r in errors]  # one per kind at most
    bo = await m.participant("Bo", "Vasa")
    await bo.ok("chat", {"text": "servern lever"})
