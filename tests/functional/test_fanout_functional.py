"""The fan-out fast path (``SocketServer.fanout``, server/sio.py): one frame written to
every idle websocket recipient, everything else through the Engine.IO queue, in order;
long-polling and upgrading recipients; a connection that reads nothing is cut, and its
client resumes from its last seq."""

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from engineio import packet as eio_packet

from server.keys import GATEWAY, HUB
from server.sio import CORK_MAX_S, NAMESPACE, SocketServer
from tests.hostile import RawMember
from tests.rawsio import EVENT, RawSocket
from tests.support import Client, Meeting, RunningServer, start_server


def sio_of(server: RunningServer) -> SocketServer:
    return server.app[GATEWAY].sio  # type: ignore[no-any-return]


def eio_sid(sio: SocketServer, client: Client) -> str:
    found = sio.manager.eio_sid_from_sid(client.sio.get_sid(NAMESPACE), NAMESPACE)
    assert found is not None
    return str(found)


@contextlib.contextmanager
def counted_writes(sio: SocketServer, client: Client) -> Iterator[list[int]]:
    """The sizes of the writes to ``client``'s websocket transport meanwhile (each still
    goes out)."""
    transport = sio.eio.sockets[eio_sid(sio, client)].fast_ws._sock._writer.transport
    writes: list[int] = []
    write = transport.write

    def counting(data: bytes) -> None:
        writes.append(len(data))
        write(data)

    transport.write = counting
    try:
        yield writes
    finally:
        del transport.write


async def test_fast_path_and_queued_packets_keep_their_order(meeting: Meeting) -> None:
    """A frame written straight to the transport must never overtake a packet already
    in the connection's Engine.IO queue (an ack, a ping, an engine.io send)."""
    server = meeting.server
    sio = sio_of(server)
    anna = await meeting.participant("Anna")
    seen: list[int] = []
    done = asyncio.Event()

    async def probe(data: Any) -> None:
        seen.append(data["n"])
        if data["n"] == 99:
            done.set()

    anna.sio.on("probe", probe)
    sid = anna.sio.get_sid(NAMESPACE)
    sock = sio.eio.sockets[eio_sid(sio, anna)]
    encode = sio.packet_class
    for n in range(0, 6, 2):
        await sio.fanout("probe", {"n": n}, to=sid)  # the writer is idle: straight out
        queued = encode(EVENT, namespace=NAMESPACE, data=["probe", {"n": n + 1}]).encode()
        await sock.send(eio_packet.Packet(eio_packet.MESSAGE, queued))  # engine.io's queue
    await sio.fanout("probe", {"n": 99}, to=sid)  # behind the queued one, not before it
    await asyncio.wait_for(done.wait(), 5)
    assert seen == [0, 1, 2, 3, 4, 5, 99]


async def test_frames_of_one_turn_to_one_connection_go_out_in_one_write(
        meeting: Meeting) -> None:
    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    got: list[int] = []
    done = asyncio.Event()

    async def probe(data: Any) -> None:
        got.append(data["n"])
        if data["n"] == 4:
            done.set()

    anna.sio.on("probe", probe)
    with counted_writes(sio, anna) as writes:
        for n in range(5):  # no await yields in between: one turn of the loop
            await sio.fanout("probe", {"n": n}, to=anna.sio.get_sid(NAMESPACE))
        await asyncio.wait_for(done.wait(), 5)
    assert got == [0, 1, 2, 3, 4]
    assert len(writes) == 1, writes


async def test_a_long_turn_does_not_hold_the_first_frames_back(meeting: Meeting) -> None:
    """After a stall the loop reads a backlog of messages in one turn; the frames of the
    first are written once they have waited CORK_MAX_S, not when the last is handled."""
    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    with counted_writes(sio, anna) as writes:
        await sio.fanout("probe", {"n": 1}, to=anna.sio.get_sid(NAMESPACE))
        assert writes == []  # corked: more may follow to anna in this turn
        busy_until = time.monotonic() + 2 * CORK_MAX_S
        while time.monotonic() < busy_until:
            pass  # the turn goes on handling other messages
        await sio.fanout("probe", {"n": 2}, to=bo.sio.get_sid(NAMESPACE))
        assert len(writes) == 1  # anna's frame went out; the turn has not ended


async def test_one_broadcast_reaches_websocket_polling_and_upgrading_clients(
        server: RunningServer) -> None:
    meeting = await server.new_meeting()
    server.transports = ("websocket",)
    anna = await meeting.participant("Anna")
    server.transports = ("polling",)
    bo = await meeting.participant("Bo", "Vasa")
    server.transports = ("polling", "websocket")  # starts polling, then upgrades
    cia = await meeting.participant("Cia", "Borgå")
    assert bo.sio.transport() == "polling"
    texts = [f"hej {i} åäö" for i in range(20)]
    for text in texts:
        await anna.ok("chat", {"text": text})
    for c in (anna, bo, cia):
        await c.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                           and e["data"]["text"] == texts[-1])
        assert [e["data"]["text"] for e in c.inbox.events("chat.sent")] == texts
        seqs = [e["seq"] for e in c.inbox.events()]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert cia.sio.transport() == "websocket"


async def test_websocket_offering_deflate_gets_plain_frames(server: RunningServer) -> None:
    """permessage-deflate is not negotiated, so one frame fits every recipient."""
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
            compress=15) as ws:
        assert ws.compress == 0
        assert "permessage-deflate" not in ws._response.headers.get(
            "Sec-WebSocket-Extensions", "")
        opened = await ws.receive(timeout=5)
        assert str(opened.data).startswith("0")


@pytest.mark.parametrize("serializer", ["json"])
async def test_a_client_that_reads_nothing_is_cut_and_resumes(meeting: Meeting) -> None:
    """Past the backlog limit the server closes the connection (instead of buffering
    without end); the client comes back with its resume token and last seq and gets
    what it missed."""
    server = meeting.server
    sio = sio_of(server)
    sio.send_backlog_bytes = 256 * 1024
    bo = await meeting.participant("Bo", "Vasa")
    stalled = RawSocket(server.url, "json")
    await stalled.open()
    sid = (await stalled.connect({"token": meeting.tokens["participant"],
                                  "meeting": meeting.id}))["sid"]
    joined = await stalled.call("join", {"name": "Stina", "municipality": "Vasa"})
    assert joined["ok"], joined
    me, resume = joined["data"]["participant"], joined["data"]["resume_token"]
    await bo.inbox.wait("event", lambda e: e["type"] == "participant.joined"
                        and e["data"]["id"] == me)
    last_seq = max(e["seq"] for e in bo.inbox.events())
    assert stalled._reader is not None
    stalled._reader.cancel()  # from now on it reads nothing
    big = "x" * (128 * 1024)
    for _ in range(800):  # up to 100 MiB; the socket buffers of loopback hold a few
        await sio.fanout("probe", big, to=sid)
        if sio.backlog_cuts:
            break
        await asyncio.sleep(0)  # let the loop write what the kernel takes
    assert sio.backlog_cuts == 1
    _, metrics = await server.api("GET", "/metrics", token=None)
    assert "ledarstig_backlog_cuts_total 1.0" in metrics
    await bo.inbox.wait("presence", lambda d: d == {"participant": me, "online": False},
                        timeout=10)
    missed_text = "while you were away"
    await bo.ok("chat", {"text": missed_text})
    await stalled.close()
    back = server.client(meeting.tokens["participant"], meeting=meeting.id,
                         resume=resume, last_seq=last_seq)
    await back.connect()
    answer = await back.call("join", {"name": "Stina", "municipality": "Vasa"})
    assert answer["ok"] and answer["data"]["participant"] == me, answer
    welcome = await back.inbox.wait("welcome")
    assert missed_text in [e["data"].get("text") for e in welcome.get("missed", [])]


async def test_each_connection_keeps_no_copy_of_its_request_headers(meeting: Meeting) -> None:
    """Memory per connection: the environ Engine.IO made of the handshake request is cut
    down to the request once the connect handler has read it, and the send queue is
    the lean one."""
    from server.sio import _LeanQueue

    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    environ = sio.environ[eio_sid(sio, anna)]
    assert "aiohttp.request" in environ
    assert not [k for k in environ if k.startswith("HTTP_")], sorted(environ)
    assert isinstance(sio.eio.sockets[eio_sid(sio, anna)].queue, _LeanQueue)


async def test_a_relay_skips_the_generic_dispatch_of_engineio_and_socketio(
        meeting: Meeting) -> None:
    """A command's frame goes from the websocket to its handler without engine.io's
    packet object and event dispatch (JSON: a text MESSAGE) and without python-socketio's
    ``_trigger_event`` (the registered coroutine is awaited directly); the relay and the
    ACK are the same."""
    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    await anna.inbox.wait("peers", lambda d: any(p["id"] == bo.participant for p in d["peers"]))
    generic: list[str] = []

    def counting(name: str, inner: Any) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            generic.append(f"{name}:{args[0]}")
            return await inner(*args, **kwargs)
        return wrapper
    sio._trigger_event = counting("socketio", sio._trigger_event)  # type: ignore[method-assign]
    sio.eio._trigger_event = counting("engineio", sio.eio._trigger_event)
    try:
        await anna.ok("signal", {"to": bo.participant, "candidate": None})  # acked ok
        got = await bo.inbox.wait("signal")
        assert got == {"from": anna.participant, "candidate": None}
        refused = await anna.call("signal", {"to": "nobody", "candidate": None})
        assert refused["ok"] is False
    finally:
        del sio._trigger_event, sio.eio._trigger_event
    if meeting.server.serializer == "json":
        assert generic == []
    else:  # msgpack: a binary frame, through engine.io's packet; socketio's skipped
        assert generic == ["engineio:message", "engineio:message"]


async def test_reading_a_frame_arms_no_timeout(meeting: Meeting,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The websocket reader does not arm and cancel a timeout around every frame (an
    ``asyncio.Timeout``, a timer handle, a heap push each): one watchdog per connection
    notices silence instead (next test)."""
    member = RawMember(meeting, "participant", meeting.server.serializer)
    armed: list[object] = []
    real = asyncio.Timeout.reschedule

    def counting(self: asyncio.Timeout, when: float | None) -> None:
        armed.append(when)
        real(self, when)
    try:
        sock = await member.ensure()
        await sock.call("hand.raise", {})
        monkeypatch.setattr(asyncio.Timeout, "reschedule", counting)
        for _ in range(10):
            assert "ok" in await sock.call("hand.lower", {})  # an answer, either way
    finally:
        monkeypatch.undo()
        await member.close()
    assert armed == []


async def test_a_silent_websocket_is_closed_after_ping_interval_and_timeout(
        tmp_path: Any) -> None:
    server = await start_server(tmp_path / "d", ping_interval_s=1, ping_timeout_s=1)
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(
                server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
                ) as ws:
            opened = await ws.receive(timeout=5)
            assert opened.data.startswith("0")
            started = asyncio.get_running_loop().time()
            pings = 0
            while not ws.closed:  # pings arrive and are not answered
                msg = await ws.receive(timeout=10)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
                pings += msg.data == "2"
            assert pings >= 1
            assert 1.5 < asyncio.get_running_loop().time() - started < 5
    finally:
        await server.stop()


@pytest.mark.parametrize("serializer", ["json"])
async def test_the_backlog_counts_the_bytes_waiting_not_the_last_message_times_the_queue(
        meeting: Meeting) -> None:
    """A long-polling client that has not polled for a while has many small messages
    waiting; one larger message (a board's state) must not make them count as large:
    the limit is on the bytes waiting. Past them, it is cut."""
    server = meeting.server
    sio = sio_of(server)
    sio.send_backlog_bytes = 256 * 1024
    async with aiohttp.ClientSession() as http:
        eio, sid = await _polling_client_that_stops_polling(http, meeting)
        for _ in range(200):  # it does not poll: all of it waits in its queue
            await sio.fanout("probe", "x" * 100, to=sid)
        await sio.fanout("probe", "y" * (64 * 1024), to=sid)  # about 85 KiB in all
        assert sio.backlog_cuts == 0
        async with asyncio.timeout(5):  # the cut does not wait for a poll that never comes
            for _ in range(3):  # about 280 KiB: over the limit
                await sio.fanout("probe", "z" * (64 * 1024), to=sid)
        assert sio.backlog_cuts == 1
        assert eio not in sio.eio.sockets


@pytest.mark.parametrize("serializer", ["json"])
async def test_closing_a_polling_client_that_stopped_polling_does_not_wait_for_it(
        meeting: Meeting) -> None:
    """Engine.IO's close waits until the queue is empty, which for a long-polling
    client that stopped polling is never: the meeting's end (or any close) would hang
    whoever closes it. It waits a moment for the reason to go out, then closes."""
    server = meeting.server
    sio = sio_of(server)
    async with aiohttp.ClientSession() as http:
        eio, sid = await _polling_client_that_stops_polling(http, meeting)
        started = time.monotonic()
        async with asyncio.timeout(10):
            await sio.close_with(sid, "meeting_ended", "The meeting has ended.")
        assert time.monotonic() - started < 5
        assert eio not in sio.eio.sockets
        async with http.get(f"{_polling_url(server)}&sid={eio}") as r:
            assert r.status == 400  # gone: a client that comes back starts again


def _polling_url(server: RunningServer) -> str:
    return f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"


async def _polling_client_that_stops_polling(http: aiohttp.ClientSession,
                                             meeting: Meeting) -> tuple[str, str]:
    """A long-polling client's handshake and namespace CONNECT, by hand, after which it
    never polls: everything sent to it waits in its queue. (Engine.IO sid, sid.)"""
    server = meeting.server
    sio = sio_of(server)
    base = _polling_url(server)
    async with http.get(base) as r:
        opened = await r.text()
    eio = json.loads(opened[1:])["sid"]
    auth = json.dumps({"token": meeting.tokens["participant"], "meeting": meeting.id})
    async with http.post(f"{base}&sid={eio}", data="40" + auth) as r:
        assert r.status == 200
    async with asyncio.timeout(5):
        while (sid := sio.manager.sid_from_eio_sid(eio, NAMESPACE)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # the server's own state: no event to await
    return eio, sid


async def test_pings_go_out_on_a_timer_and_start_the_writer_only_when_queued(
        tmp_path: Any) -> None:
    """The fast path writes frames itself: a websocket gets its Engine.IO writer task only
    when a packet is queued, such as a PING; PINGs are timed by the loop, not by a
    sleeping task per connection, and keep coming while the client answers them."""
    server = await start_server(tmp_path / "d", ping_interval_s=1, ping_timeout_s=5)
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(
                server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
                ) as ws:
            assert (await ws.receive(timeout=5)).data.startswith("0")
            (sock,) = server.app[GATEWAY].sio.eio.sockets.values()
            assert sock.queue.start is not None  # no writer yet: nothing was queued
            loop = asyncio.get_running_loop()
            started, pings = loop.time(), 0
            while loop.time() - started < 3.5:
                msg = await ws.receive(timeout=5)
                if msg.data == "2":
                    pings += 1
                    await ws.send_str("3")  # PONG: the next ping is scheduled
            assert pings >= 3 and not ws.closed
            assert sock.queue.start is None  # the first PING started the writer
    finally:
        await server.stop()


async def test_a_connection_past_its_handshake_keeps_no_handshake_timer(
        meeting: Meeting) -> None:
    """The timer that closes a connection without a namespace handshake is cancelled
    once the handshake is done: after a join storm, a thousand of them fell due
    together 10 s later and held up every message behind them (~30 ms)."""
    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    assert not sio._scheduler.pending(f"handshake:{eio_sid(sio, anna)}")
    async with aiohttp.ClientSession() as http, http.ws_connect(
            meeting.server.url.replace("http", "ws")
            + "/socket.io/?EIO=4&transport=websocket") as ws:
        opened = json.loads((await ws.receive(timeout=5)).data[1:])
        assert sio._scheduler.pending(f"handshake:{opened['sid']}")  # none done: it waits


async def test_pings_of_connections_opened_together_are_spread_out(tmp_path: Any) -> None:
    """Each PING is due a little before the interval, by a random share of it: clients
    that connected together (a session's start, a reconnect after a blip) are not
    pinged, nor do they answer, all in the same moment every interval."""
    server = await start_server(tmp_path / "d", ping_interval_s=1, ping_timeout_s=5)
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    try:
        async with aiohttp.ClientSession() as http:
            async def first_ping_after() -> float:
                async with http.ws_connect(url) as ws:
                    assert (await ws.receive(timeout=5)).data.startswith("0")
                    opened = time.monotonic()
                    while (await ws.receive(timeout=5)).data != "2":
                        pass
                    return time.monotonic() - opened
            waits = await asyncio.gather(*(first_ping_after() for _ in range(12)))
        assert all(0.75 <= w <= 1.1 for w in waits), waits
        assert max(waits) - min(waits) > 0.05, waits  # 0.2 s apart at most, at random
    finally:
        await server.stop()


async def test_a_chat_is_written_out_by_the_commit_that_made_it_durable(
        meeting: Meeting, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing else under way on the meeting, the commit's own callback delivers
    the chat and writes it to every member's connection at once: nothing of it waits
    for the next turn of the loop (behind whatever the loop read meanwhile)."""
    sio = sio_of(meeting.server)
    anna, bo = await meeting.participant("Anna"), await meeting.participant("Bo")
    store = meeting.server.app[HUB].get(meeting.id)._store
    flush, held_back = store._flush, []

    def watched() -> None:
        chats = any(e[4] == "chat.sent" for _, rows, _ in store._pending for e in rows)
        flush()
        if chats:
            held_back.append(sum(len(frames) - 1 for frames in sio._corked.values()))
    monkeypatch.setattr(store, "_flush", watched)
    await anna.ok("chat", {"text": "Hej"})
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    assert held_back == [0]


async def test_a_relay_and_its_ack_are_written_once_it_is_handled(
        meeting: Meeting, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a quiet turn the frames a message sent (the relay to the peer, the ack to the
    sender) go out as soon as it is handled, not at the end of the turn behind every
    other message the loop read."""
    sio = sio_of(meeting.server)
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    await anna.inbox.wait("peers", lambda d: any(p["id"] == bo.participant for p in d["peers"]))
    left_for_the_turn: list[int] = []
    end_of_turn = sio._uncork_turn

    def watched() -> None:
        left_for_the_turn.append(len(sio._corked))
        end_of_turn()
    monkeypatch.setattr(sio, "_uncork_turn", watched)
    await anna.ok("signal", {"to": bo.participant, "candidate": None})
    await bo.inbox.wait("signal")
    assert left_for_the_turn and set(left_for_the_turn) == {0}


@pytest.mark.parametrize("serializer", ["json"])
async def test_a_commit_delivered_at_once_cuts_a_connection_over_its_backlog_once(
        meeting: Meeting) -> None:
    """Several packets of one commit to a connection already over its backlog: it is
    cut once (one count, one close), not once per packet."""
    server = meeting.server
    sio = sio_of(server)
    stalled = RawSocket(server.url, "json")
    await stalled.open()
    sid = (await stalled.connect({"token": meeting.tokens["participant"],
                                  "meeting": meeting.id}))["sid"]
    assert (await stalled.call("join", {"name": "Stina", "municipality": "Vasa"}))["ok"]
    assert stalled._reader is not None
    stalled._reader.cancel()  # from now on it reads nothing
    transport = sio.eio.sockets[sio.manager.eio_sid_from_sid(sid, NAMESPACE)] \
        .fast_ws._sock._writer.transport
    big = "x" * (128 * 1024)
    for _ in range(800):  # until the kernel's buffers are full and ours holds some
        await sio.fanout("probe", big, to=sid)
        await asyncio.sleep(0)
        if transport.get_write_buffer_size():
            break
    assert transport.get_write_buffer_size() and not sio.backlog_cuts
    sio.send_backlog_bytes = transport.get_write_buffer_size() - 1  # over it now
    sio.fanout_now([("probe", {"n": 1}, sid), ("probe", {"n": 2}, sid)])
    await asyncio.gather(*sio._cutting)  # the cut's task, to its end
    assert sio.backlog_cuts == 1
    await stalled.close()
