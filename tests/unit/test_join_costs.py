"""What a join costs besides the bare Socket.IO handshake, kept down without changing
what a client ends up with (issue 17, item 4; docs/benchmarks.md, "The join")."""

import asyncio
import contextlib
import hashlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import socketio
from bidict import _base as bidict_base
from itsdangerous import URLSafeTimedSerializer
from socketio import base_manager
from socketio import packet as sio_packet

from facilitation import breakouts as b
from facilitation.presence import presence_changed
from rooms import PLENARY, SYSTEM, Role
from rooms.board import EMPTY_UPDATE, Board, BoardLimits, prompt_update
from rooms.events import BoardUpdated
from rooms.media import room_plans
from server import media_plans, sio
from server.clock import FakeClock
from server.cluster.presence import ClusterConnections
from server.config import Settings
from server.connections import Connection, Connections
from server.hub import Hub
from server.limits import TokenBucket
from server.media_plans import MediaPlans
from server.presence_log import PresenceLog
from server.scheduler import Scheduler
from server.sfu.videorooms import VideoRooms
from server.sio import _JsonPacket, encode_event
from server.store import MemoryStore
from server.tokens import Tokens
from tests.unit.packet_helpers import same_packet
from tests.unit.ports import Nowhere, Sent


def test_a_resume_token_is_itsdangerous_token_signed_without_its_per_call_serializer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    tokens = Tokens("secret", invite_ttl_s=3600, resume_ttl_s=600, clock=clock)
    reference = URLSafeTimedSerializer("secret", salt="ledarstig.resume",
                                       signer=tokens._resumes.signer)
    expected = reference.dumps({"m": "0123456789ab", "p": "a1b2c3d4e5f6"})

    def slow(*_: object, **__: object) -> None:
        raise AssertionError("a resume token went through itsdangerous's dumps")

    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", slow)
    token = tokens.resume("0123456789ab", "a1b2c3d4e5f6")
    assert token == expected  # byte for byte
    resumed = tokens.read_resume(token)
    assert (resumed.meeting, resumed.participant) == ("0123456789ab", "a1b2c3d4e5f6")
    # A payload itsdangerous would compress is left as it is; it reads the same.
    odd = tokens.resume("a" * 60, "å" * 40)
    assert (tokens.read_resume(odd).meeting, tokens.read_resume(odd).participant) == (
        "a" * 60, "å" * 40)


async def test_a_join_to_a_room_never_drawn_on_builds_no_board_and_sends_the_empty_one(
        ) -> None:
    store = MemoryStore()
    hub = Hub(store, Nowhere(), FakeClock())
    m = (await hub.create("T", "2026-12-01", "A")).id
    await hub.execute(m, "p", lambda s: b.join(s, "p", Role.PARTICIPANT, name="P",
                                                municipality="Vasa"))
    boards = hub.get(m).boards
    assert await boards.state_of(PLENARY) == Board(BoardLimits()).state() == EMPTY_UPDATE
    assert not boards.loaded(PLENARY)  # no document was made for it
    update = prompt_update("n1", "x", "e1")
    await hub.execute(m, SYSTEM, lambda s: [BoardUpdated(room=PLENARY, update=update,
                                                         origin="prompt")])
    drawn = Board.from_state(await boards.state_of(PLENARY), BoardLimits())
    assert drawn.element_count == 1 and boards.loaded(PLENARY)


@pytest.mark.parametrize("data", [
    {"room": "plenary", "update": b"\x00\x00", "seq": 3},
    {"type": "board.updated", "data": {"room": "r", "update": bytearray(b"a\x00")},
     "more": [b"1", {"y": b"2"}, "å"], "n": None},
    {"text": "å \u2028", "n": [1, 2.5, True, None]},
])
def test_an_event_is_encoded_as_python_socketio_encodes_it_without_its_packet(
        data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = sio_packet.Packet(sio_packet.EVENT, namespace="/", data=["ev", data]).encode()

    def walk(*_: object) -> bool:
        raise AssertionError("the payload was walked by python-socketio's packet")

    monkeypatch.setattr(sio_packet.Packet, "data_is_binary", walk)
    assert same_packet(encode_event(_JsonPacket, "ev", data), expected)


async def joined_and_bound(hub: Hub, conns: Connections, m: str, pid: str, sid: str) -> None:
    """``pid`` joins meeting ``m`` and connection ``sid`` is bound to it (no welcome)."""
    await hub.execute(m, pid, lambda s: b.join(s, pid, Role.PARTICIPANT, name="P",
                                                 municipality="Vasa"))
    conn = Connection(sid, m, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
    conn.authenticated(None, None)
    conns.add(conn)
    conns.bind(conn, pid)


async def test_a_join_plans_its_room_once_for_the_joiner_and_the_others(
        monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub(MemoryStore(), Nowhere(), FakeClock())
    m = (await hub.create("T", "2026-12-01", "A")).id
    conns, sent = Connections(), Sent()
    media = MediaPlans(hub, conns, sent, VideoRooms(Settings()), 8)  # type: ignore[arg-type]
    passes: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        passes.append(args[1])
        return room_plans(*args, **kwargs)

    monkeypatch.setattr(media_plans, "room_plans", counted)
    for i, pid in enumerate(("p1", "p2", "p3")):
        await joined_and_bound(hub, conns, m, pid, f"s{i}")
        passes.clear()
        sent.items.clear()
        await media.refresh_rooms(m, frozenset({PLENARY}))  # what PresenceChanged does
        own = media.first(f"s{i}", m, pid)  # what the welcome carries
        assert passes == [PLENARY]  # one planner pass for both
        plans = room_plans(hub.get(m).state.meeting, PLENARY, conns.online_set(m))
        assert own == plans[pid]
        assert [(d["peers"], to.sid) for _, d, to in sent.items] == [  # the others
            (plans[p].to_wire()["peers"], f"s{j}") for j, p in enumerate(("p1", "p2")[:i])]
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert passes == [PLENARY]  # nothing changed: the same plans
    conns.remove("s0")
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert passes == [PLENARY, PLENARY]  # one went offline: planned again


def test_a_message_is_framed_without_engineio_packets_until_a_queue_needs_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real_init = sio._Preencoded.__init__

    def counted(self: Any, payload: Any, size: int) -> None:
        made.append(payload)
        real_init(self, payload, size)

    monkeypatch.setattr(sio._Preencoded, "__init__", counted)
    for encoded in ('2["chat",{"t":"hej"}]',
                    encode_event(_JsonPacket, "board.state", {"update": b"\x00\x00"})):
        out = sio._Outgoing(encoded)
        assert made == []  # the fast path needs the frame only
        parts = encoded if isinstance(encoded, list) else [encoded]
        queued = list(out.packets)  # a queued recipient gets Engine.IO packets, made once
        assert made == parts and list(out.packets) == queued and len(made) == len(parts)
        assert out.frame == b"".join(sio.ws_frame(p.encode()) for p in queued)
        made.clear()


async def test_a_timer_due_after_the_first_does_not_wake_the_scheduler() -> None:
    clock = FakeClock()
    scheduler = Scheduler(clock)
    fired: list[str] = []
    counted = {1: asyncio.Event(), 102: asyncio.Event()}

    def job(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            fired.append(name)
            if len(fired) in counted:
                counted[len(fired)].set()
        return run

    scheduler.after("first", 10, job("first"))
    assert scheduler._wake.is_set()
    scheduler._wake.clear()  # as the scheduler's loop does before it waits
    for i in range(100):  # a storm's join timeouts, all after the first
        scheduler.after(f"later{i}", 20, job(f"later{i}"))
    assert not scheduler._wake.is_set()
    scheduler.after("sooner", 5, job("sooner"))
    assert scheduler._wake.is_set()
    task = asyncio.create_task(scheduler.run())
    try:
        async with asyncio.timeout(5):
            clock.advance(5)
            await counted[1].wait()
            assert fired == ["sooner"]
            clock.advance(15)
            await counted[102].wait()
        assert fired[:2] == ["sooner", "first"] and len(set(fired)) == 102
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_joiner_already_online_in_the_log_is_not_decided_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    hub = Hub(MemoryStore(), Nowhere(), clock)
    m = (await hub.create("T", "2026-12-01", "A")).id
    conns = Connections()
    await joined_and_bound(hub, conns, m, "p1", "s1")
    presence = PresenceLog(hub, conns, Scheduler(clock), clock, debounce_s=30)
    assert "p1" in hub.get(m).state.online  # a join counts as coming online

    async def refuse(*_: object) -> None:
        raise AssertionError("decided again")

    with monkeypatch.context() as patched:
        patched.setattr(hub, "apply", refuse)
        assert await presence.changed(m, "p1", True) == []
    # Offline in the log (a drop logged after the debounce): coming back is logged.
    await hub.execute(m, "p1", lambda s: presence_changed(s, "p1", False, clock.now_ms()))
    seq = hub.get(m).state.seq
    await presence.changed(m, "p1", True)
    assert hub.get(m).state.seq == seq + 1 and "p1" in hub.get(m).state.online


def test_the_manager_we_restate_a_method_of_is_unchanged() -> None:
    """``_IndexedManager.basic_disconnect`` is python-socketio 5's with the sid's rooms
    from the index; a changed original must be read and folded in."""
    source = inspect.getsource(base_manager.BaseManager.basic_disconnect)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == "2933b50bc4b2ea7b"


async def test_rooms_are_kept_per_sid_as_python_socketio_keeps_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = sio._IndexedManager(), socketio.AsyncManager()
    for manager in (ours, theirs):
        manager.set_server(socketio.AsyncServer())
        manager.initialize()
    sids: dict[str, list[str]] = {"ours": [], "theirs": []}
    for i in range(300):  # connect, enter a meeting's rooms, some leave one
        for name, manager in (("ours", ours), ("theirs", theirs)):
            sid = await manager.connect(f"e{i}", "/")
            sids[name].append(sid)
            for room in (f"m:{i % 7}", f"r:{i % 7}:g{i % 3}", f"p:{i % 7}:{i}"):
                await manager.enter_room(sid, "/", room)
            if i % 5 == 0:
                await manager.leave_room(sid, "/", f"r:{i % 7}:g{i % 3}")
            if i % 11 == 0:
                await manager.close_room(f"p:{i % 7}:{i}", "/")
    for mine, other in zip(sids["ours"], sids["theirs"], strict=True):  # the sids differ
        assert sorted(r if r != mine else "<sid>" for r in ours.get_rooms(mine, "/")) == sorted(
            r if r != other else "<sid>" for r in theirs.get_rooms(other, "/"))
    walked = 0
    contains = bidict_base.BidictBase.__contains__

    def counted(self: Any, key: Any) -> bool:
        nonlocal walked
        walked += 1
        return contains(self, key)

    monkeypatch.setattr(bidict_base.BidictBase, "__contains__", counted)
    for name, manager in (("ours", ours), ("theirs", theirs)):
        for sid in sids[name][::2]:  # half of them close
            await manager.disconnect(sid, "/")
        if name == "ours":
            assert walked < 2000  # not every room once per disconnect (~900 rooms here)
            walked = 0
    for room in {*ours.rooms["/"], *theirs.rooms["/"]} - {None}:
        if not room.startswith(("m:", "r:", "p:")):
            continue  # a sid's own room: the sids differ
        assert len(ours.rooms["/"].get(room, ())) == len(theirs.rooms["/"].get(room, ()))
    assert len(ours.rooms["/"][None]) == len(theirs.rooms["/"][None]) == 150
    assert len(ours._rooms_of) == 150


async def test_plans_follow_participants_other_processes_hold() -> None:
    """With several processes (server/cluster), others' participants come and go without
    a change to this process's connections: the plans are not kept across that."""
    hub = Hub(MemoryStore(), Nowhere(), FakeClock())
    m = (await hub.create("T", "2026-12-01", "A")).id
    conns, sent = ClusterConnections(), Sent()
    media = MediaPlans(hub, conns, sent, VideoRooms(Settings()), 8)  # type: ignore[arg-type]
    for pid in ("p1", "p2"):
        await hub.execute(m, pid, lambda s, pid=pid: b.join(  # type: ignore[misc]
            s, pid, Role.PARTICIPANT, name="P", municipality="Vasa"))
    conn = Connection("s1", m, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
    conn.authenticated(None, None)
    conns.add(conn)
    conns.bind(conn, "p1")
    first = media.first("s1", m, "p1")
    assert first is not None and first.peers == ()
    conns.set_remote("other-process", m, "p2", True)  # p2 is online on another process
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert [p["id"] for p in sent.items[-1][1]["peers"]] == ["p2"]
    conns.set_remote("other-process", m, "p2", False)
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert sent.items[-1][1]["peers"] == [] and len(sent.items) == 2


async def test_a_connection_still_joining_gets_its_first_plan_only_with_its_welcome() -> None:
    """Another join re-plans the room while this connection is bound but has no welcome
    yet: it is left out (a plan before the welcome reaches a client with no meeting to
    apply it to, and the same plan would then never be sent again); its first plan
    is made by ``first`` for its welcome, and later changes reach it."""
    hub = Hub(MemoryStore(), Nowhere(), FakeClock())
    m = (await hub.create("T", "2026-12-01", "A")).id
    conns, sent = Connections(), Sent()
    media = MediaPlans(hub, conns, sent, VideoRooms(Settings()), 8)  # type: ignore[arg-type]
    for i, pid in enumerate(("p1", "p2")):
        await joined_and_bound(hub, conns, m, pid, f"s{i}")
        if pid == "p1":
            media.first("s0", m, "p1")  # p1 is welcomed; p2 will be joining
    sent.items.clear()
    await media.refresh_rooms(m, frozenset({PLENARY}))  # p2 coming online re-plans
    assert [to.sid for _, _, to in sent.items] == ["s0"]  # not s1, not yet
    own = media.first("s1", m, "p2")  # its welcome
    assert own is not None and own.to_wire()["peers"] == [{"id": "p1", "polite": True}]
    await joined_and_bound(hub, conns, m, "p3", "s2")
    await media.refresh_rooms(m, frozenset({PLENARY}))  # p3 coming online re-plans
    assert [to.sid for _, _, to in sent.items] == ["s0", "s0", "s1"]  # s1 now too
    assert media.first("s9", m, "p3") is None  # a connection closed before its welcome
