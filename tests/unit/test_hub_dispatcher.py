"""The hub and the dispatcher in memory: no server, no sockets (MemoryStore, a recording
fan-out, the real round timer, boards, presence log and scheduler)."""

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from facilitation import breakouts as b
from facilitation.breakouts import RoundSpec
from facilitation.exceptions import FacilitationError
from facilitation.rounds import Phase
from rooms import Event, Role
from rooms import commands as cmd
from rooms.events import BoardUpdated
from server.connections import Connection, Connections
from server.dispatcher import Dispatcher, Services
from server.effects import Attached, Detached, PresenceChanged, effects
from server.fanout import Audience, ToConnection, ToMeeting, ToParticipant, ToRoom
from server.hub import CHECKPOINT_EVERY, Hub
from server.limits import TokenBucket
from server.metrics import Metrics
from server.presence_log import PresenceLog
from server.round_timer import RoundTimer
from server.scheduler import Scheduler
from server.store import MemoryStore, StoreError
from server.store.base import SeqConflict
from tests.unit.board.board_helpers import Client as BoardClient
from tests.unit.board.board_helpers import stroke

T0 = 1_800_000_000_000


class Clock:
    def __init__(self) -> None:
        self.ms = T0

    def now_ms(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return self.ms / 1000


class Fanout:
    """Records every send and membership change, in order."""

    def __init__(self, trail: list[tuple[Any, ...]]) -> None:
        self.trail = trail

    async def send(self, name: str, data: Any, to: Audience) -> None:
        label = data["type"] if name == "event" else name
        self.trail.append(("send", label, to))

    def send_now(self, packets: Sequence[tuple[str, Any, Audience]]) -> bool:
        for name, data, to in packets:
            self.trail.append(("send", data["type"] if name == "event" else name, to))
        return True

    async def admit(self, sid: str, meeting: str, participant: str, room: str,
                    facilitator: bool) -> None:
        self.trail.append(("admit", sid, room))

    async def move(self, meeting: str, moves: Mapping[str, str],
                   sids_of: Mapping[str, set[str]]) -> None:
        self.trail.append(("move", dict(moves)))

    async def withdraw(self, sid: str) -> None:
        self.trail.append(("withdraw", sid))


class Media:
    def __init__(self, trail: list[tuple[Any, ...]]) -> None:
        self.trail = trail

    async def refresh_rooms(self, meeting: str, rooms: frozenset[str]) -> None:
        self.trail.append(("media", frozenset(rooms)))

    def forget(self, sid: str) -> None:
        self.trail.append(("forget", sid))


class Quiet:
    """ICE pushes, next-round planning and video: recorded, nothing more."""

    def __init__(self, trail: list[tuple[Any, ...]], name: str) -> None:
        self.trail, self.name = trail, name

    def __getattr__(self, method: str) -> Any:
        def record(*args: Any) -> None:
            self.trail.append((self.name, method))
        return record


class FlakyStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.refuse = False

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.refuse:
            raise StoreError("The disk is full.")
        await super().append(meeting, events)


class RacingStore(FlakyStore):
    """Refuses an append that does not continue the log as Redis does (``SeqConflict``
    with the log's last seq), and records where each read of a log starts."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        last = len(await super().read(meeting))
        if events and events[0].seq != last + 1:
            raise SeqConflict(last, "lost the race")
        await super().append(meeting, events)

    async def read(self, meeting: str, after: int = 0) -> list[Event]:
        self.reads.append(after)
        if self.refuse:
            raise StoreError("Redis is down.")
        return await super().read(meeting, after)


class CountingHub(Hub):
    """Fails the test if a commit is started while another one's effects still run."""

    depth = 0
    deepest = 0

    async def execute(self, meeting_id: str, actor: str, decide: Any) -> list[Event]:
        CountingHub.depth += 1
        CountingHub.deepest = max(CountingHub.deepest, CountingHub.depth)
        try:
            return await super().execute(meeting_id, actor, decide)
        finally:
            CountingHub.depth -= 1


class World:
    def __init__(self, store: FlakyStore | None = None, checkpoint_every: int = 0) -> None:
        self.trail: list[tuple[Any, ...]] = []
        self.store = store or FlakyStore()  # shared: two processes on one log (cluster)
        self.clock = Clock()
        self.conns = Connections()
        self.scheduler = Scheduler(self.clock)
        self.dispatcher = Dispatcher(Fanout(self.trail), self.conns, Metrics())
        self.hub = CountingHub(self.store, self.dispatcher, self.clock,
                               checkpoint_every=checkpoint_every)
        self.timer = RoundTimer(self.hub, self.scheduler, self.clock)
        self.dispatcher.serve(Services(
            hub=self.hub, timer=self.timer,
            media=Media(self.trail),  # type: ignore[arg-type]
            ice=Quiet(self.trail, "ice"),  # type: ignore[arg-type]
            next_round=Quiet(self.trail, "next_round"),  # type: ignore[arg-type]
            presence=PresenceLog(self.hub, self.conns, self.scheduler, self.clock, 5.0),
            video=Quiet(self.trail, "video"),  # type: ignore[arg-type]
        ))
        CountingHub.depth = CountingHub.deepest = 0

    async def meeting(self, people: int) -> str:
        m = (await self.hub.create("Träff", "2026-12-01", "A")).id
        await self.hub.execute(m, "f", lambda s: b.join(s, "f", Role.FACILITATOR, name="Fia",
                                                        municipality="Esbo"))
        for i in range(people):
            await self.hub.execute(m, f"p{i}", lambda s, i=i: b.join(  # type: ignore[misc]
                s, f"p{i}", Role.PARTICIPANT, name=f"P{i}", municipality="Vasa"))
        return m

    def connect(self, m: str, pid: str) -> None:
        conn = Connection(f"sid-{pid}", m, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
        conn.authenticated(None, None)
        self.conns.add(conn)
        self.conns.bind(conn, pid)


@pytest.fixture
def world() -> World:
    return World()


async def test_execute_delivers_then_runs_the_effects(world: World) -> None:
    m = await world.meeting(2)
    world.trail.clear()
    await world.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c1", "Hej"))
    assert world.trail == [("send", "chat.sent", ToRoom(m, "plenary"))]


async def test_a_round_opening_in_order_with_its_seed_as_a_follow_up(world: World) -> None:
    m = await world.meeting(4)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2, prompts=["Why?", "How?"]), seed=3))
    world.trail.clear()
    [opened] = await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    rooms = opened.data["rooms"]
    kinds = [step[0] if step[0] != "send" else step[1] for step in world.trail]
    # Delivered (re-addressed first), then the effects, then the follow-up decision:
    # its two board updates are delivered only after everything before them is done.
    assert kinds == ["move", "round.opened", "next_round", "media",
                     "board.updated", "board.updated"], world.trail
    assert world.trail[3] == ("media", frozenset({"plenary", *rooms}))
    assert world.trail[4][2] == ToRoom(m, rooms[0])
    assert CountingHub.deepest == 1  # the seed was not committed from inside the opening
    assert world.scheduler.pending(f"round:{m}")  # the round's deadline is armed
    board = await world.hub.get(m).boards.of(rooms[1])
    assert board.element_count == 1  # the prompt is on the board


async def test_presence_follow_ups_place_a_returning_participant(world: World) -> None:
    m = await world.meeting(4)
    for pid in ("f", "p0", "p1", "p2"):
        world.connect(m, pid)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3, online={"f", "p0", "p1", "p2"}))
    await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0,
                                                           online={"f", "p0", "p1", "p2"}))
    world.connect(m, "p3")
    world.trail.clear()
    CountingHub.deepest = 0
    await world.dispatcher.happened(m, PresenceChanged("p3", True))
    state = world.hub.get(m).state
    r = state.current()
    assert r is not None and r.group_of("p3") is not None
    room = state.meeting.participants["p3"].room
    sends = [step[1:] for step in world.trail if step[0] == "send"]
    # Placed (p3 was online in the log already: joining is coming online), then the
    # board of the group it was placed in.
    assert sends == [("round.placed", ToMeeting(m)), ("board.state", ToParticipant(m, "p3"))]
    assert ("move", {"p3": room}) in world.trail
    assert CountingHub.deepest == 0  # follow-ups commit through Hub.apply, not execute


async def test_attaching_arms_ice_then_sends_the_board(world: World) -> None:
    """The first plan is the welcome's (``Gateway._attach``): attaching sends none."""
    m = await world.meeting(1)
    world.connect(m, "p0")
    world.trail.clear()
    await world.dispatcher.happened(m, Attached("sid-p0", "p0"))
    assert world.trail == [("ice", "arm"), ("send", "board.state", ToConnection("sid-p0"))]


async def test_a_reload_after_a_store_failure_rearms_the_timer(world: World) -> None:
    """The reload's own effects re-arm the round timer from the reloaded state: the next
    command after the failure (a chat, which has no timer effect of its own) finds it
    armed again."""
    m = await world.meeting(4)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    world.store.refuse = True
    with pytest.raises(StoreError):
        await world.hub.execute(m, "f", lambda s: cmd.chat(s.meeting, "f", "c1", "hej"))
    assert world.hub.get(m).broken
    world.store.refuse = False
    world.scheduler.cancel(f"round:{m}")
    await world.hub.execute(m, "f", lambda s: cmd.chat(s.meeting, "f", "c2", "hej"))
    assert not world.hub.get(m).broken
    assert world.scheduler.pending(f"round:{m}")


async def test_a_reload_after_a_refused_opening_leaves_no_timer(world: World) -> None:
    m = await world.meeting(4)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    world.store.refuse = True
    with pytest.raises(StoreError):
        await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    world.store.refuse = False
    await world.hub.execute(m, "f", lambda s: cmd.chat(s.meeting, "f", "c1", "hej"))
    r = world.hub.get(m).state.current()
    assert r is None or r.phase is not Phase.OPEN
    assert not world.scheduler.pending(f"round:{m}")


async def test_a_failing_effect_is_logged_and_the_rest_still_run(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    m = await world.meeting(1)

    async def broken(meeting: str, rooms: frozenset[str]) -> None:
        raise RuntimeError("boom")
    world.dispatcher.services.media.refresh_rooms = broken  # type: ignore[method-assign]
    world.trail.clear()
    await world.dispatcher.run(m, effects(world.hub.get(m).state, PresenceChanged("p0", False)))
    assert ("next_round", "changed") in world.trail
    assert "boom" in caplog.text


async def test_a_connection_of_a_removed_meeting_is_still_forgotten(world: World) -> None:
    await world.dispatcher.happened("gone", Detached("s9", None))
    await world.dispatcher.happened("gone", PresenceChanged("p0", False))
    assert world.trail == [("forget", "s9"), ("ice", "cancel")]


async def test_events_another_process_appended_take_the_same_effects_path(world: World) -> None:
    """Cluster (--redis-url): a round opened on another process is folded here (state and
    boards), delivered in log order, and its effects carried out as after a local commit
    (timer armed, media re-planned); its follow-up (the seed) is that process's, not
    decided again here."""
    m = await world.meeting(4)
    other = World(world.store)  # the second process, on the same log
    assert await other.hub.adopt(m) is not None
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2, prompts=["Why?", "How?"]), seed=3))
    [opened] = await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    rooms = opened.data["rooms"]
    in_log = len(await world.store.read(m))
    fresh = await other.hub.absorb(m, await world.store.read(m))
    assert [e.seq for e in fresh] == list(range(7, in_log + 1))  # preview, opening, 2 seeds
    assert len(await world.store.read(m)) == in_log  # the seed was not decided twice
    kinds = [step[0] if step[0] != "send" else step[1] for step in other.trail]
    assert kinds == ["round.previewed", "move", "round.opened", "board.updated",
                     "board.updated", "next_round", "media"], other.trail
    assert other.trail[-1] == ("media", frozenset({"plenary", *rooms}))
    assert other.scheduler.pending(f"round:{m}")  # the deadline is armed here too
    assert other.hub.get(m).state.current() is not None
    board = await other.hub.get(m).boards.of(rooms[0])
    assert board.element_count == 1  # the seed is on the board here as well
    assert await other.hub.absorb(m, await world.store.read(m)) == []  # never twice


async def test_a_reload_after_a_lost_race_delivers_what_was_missed_with_its_effects(
        world: World) -> None:
    """Cluster: this process's append lost to another process's round opening; the
    reload delivers the opening before anything newer and re-plans media for it."""
    m = await world.meeting(4)
    other = World(world.store)
    await other.hub.adopt(m)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    with pytest.raises(StoreError):  # the memory store refuses; Redis says SeqConflict
        await other.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c1", "Hej"))
    other.trail.clear()
    await other.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c2", "Hej"))
    kinds = [step[0] if step[0] != "send" else step[1] for step in other.trail]
    assert kinds[:3] == ["round.previewed", "move", "round.opened"], other.trail
    assert "media" in kinds and kinds[-1] == "chat.sent", other.trail
    assert other.scheduler.pending(f"round:{m}")


async def test_a_reload_judges_each_missed_event_against_the_state_before_it(
        world: World) -> None:
    """The missed opening moved everyone out of the plenary: the media of the plenary is
    re-planned too (judged against the reloaded state, everyone already was in a group)."""
    m = await world.meeting(4)
    other = World(world.store)
    await other.hub.adopt(m)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    [opened] = await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    with pytest.raises(StoreError):  # lost the race: reloads before the next command
        await other.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c1", "Hej"))
    other.trail.clear()
    await other.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c2", "Hej"))
    media = [step[1] for step in other.trail if step[0] == "media"]
    assert frozenset({"plenary", *opened.data["rooms"]}) in media, other.trail


async def test_a_lost_race_reads_only_the_missed_events_and_decides_again() -> None:
    """Cluster: this process's chat lost the race for its seq to another process's
    round opening. It goes back to its durable state from memory, reads the log only
    after it (no reload), delivers the missed events once, in order, with their
    effects, and the chat, decided again, follows them."""
    store = RacingStore()
    world = World(store, checkpoint_every=CHECKPOINT_EVERY)
    m = await world.meeting(4)
    other = World(store, checkpoint_every=CHECKPOINT_EVERY)
    await other.hub.adopt(m)
    held = other.hub.get(m).durable
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    in_log = len(await store.read(m))
    store.reads.clear()
    other.trail.clear()
    [chat] = await other.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c1", "Hej"))
    assert chat.seq == in_log + 1
    assert store.reads == [held]  # only what it missed: no snapshot, no whole log
    assert (other.hub.conflicts, other.hub.caught_up, other.hub.reloads) == (1, 1, 0)
    kinds = [step[0] if step[0] != "send" else step[1] for step in other.trail]
    assert kinds[:3] == ["round.previewed", "move", "round.opened"], other.trail
    assert kinds.count("round.opened") == 1 and kinds[-1] == "chat.sent", other.trail
    assert other.scheduler.pending(f"round:{m}")  # the missed opening's effects ran here
    assert [e.type for e in await store.read(m)].count("chat.sent") == 1
    live = other.hub.get(m)
    assert live.state.seq == live.durable == in_log + 1
    assert live.state.current() is not None  # the opening is in the state, once
    assert [e.seq for e in live.recent][-3:] == [in_log - 1, in_log, in_log + 1]
    assert await other.hub.absorb(m, await store.read(m)) == []  # the tail adds nothing


async def test_a_lost_race_without_a_checkpoint_still_reloads() -> None:
    """Without the state kept in memory (a single process: never raced) the fallback
    is the reload from the log, and it decides just the same."""
    store = RacingStore()
    world = World(store)
    m = await world.meeting(2)
    other = World(store)
    await other.hub.adopt(m)
    await world.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c0", "Hej"))
    [chat] = await other.hub.execute(m, "p1", lambda s: cmd.chat(s.meeting, "p1", "c1", "Hej"))
    assert chat.seq == len(await store.read(m))
    assert (other.hub.caught_up, other.hub.reloads) == (0, 1)


async def test_a_refusal_is_decided_on_the_logs_latest_state() -> None:
    """Cluster: another process previewed a round that this process's tail has not
    brought yet. Opening it here must not be refused with ``no_round``: the refusal
    makes the process read the log after its seq, take in the preview and decide
    again. A refusal on the latest state stays a refusal (one empty read)."""
    store = RacingStore()
    world = World(store, checkpoint_every=CHECKPOINT_EVERY)
    m = await world.meeting(4)
    other = World(store, checkpoint_every=CHECKPOINT_EVERY)
    await other.hub.adopt(m)
    await world.hub.execute(m, "f", lambda s: b.preview(
        s, "f", "r1", RoundSpec(group_count=2), seed=3))
    other.trail.clear()
    opened = await other.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    assert [e.type for e in opened][-1] == "round.opened"
    kinds = [step[0] if step[0] != "send" else step[1] for step in other.trail]
    assert kinds.index("round.previewed") < kinds.index("round.opened"), other.trail
    assert other.hub.refusals_rechecked == 1
    store.reads.clear()
    with pytest.raises(FacilitationError) as refused:
        await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    assert refused.value.code == "round_already_open"  # world had not taken in the
    assert world.hub.caught_up == 1 and len(store.reads) == 1  # opening: lost the race
    with pytest.raises(FacilitationError):
        await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    assert len(store.reads) == 2 and world.hub.refusals_rechecked == 0  # one empty read


async def test_a_board_update_that_lost_a_race_is_decided_again_on_the_board_of_the_log(
        ) -> None:
    """Cluster: a whiteboard stroke lost the race for its seq. The board had folded it
    (a CRDT cannot take it back): that board is read again from the log, and the
    stroke, decided again, is on it once; the update is not refused."""
    store = RacingStore()
    world = World(store, checkpoint_every=CHECKPOINT_EVERY)
    m = await world.meeting(2)
    other = World(store, checkpoint_every=CHECKPOINT_EVERY)
    await other.hub.adopt(m)
    await other.hub.get(m).boards.of("plenary")
    await world.hub.execute(m, "p0", lambda s: cmd.chat(s.meeting, "p0", "c0", "Hej"))
    update = BoardClient(7).add("e1", stroke(1, 2))
    await other.hub.execute(m, "p1", lambda s: [BoardUpdated(room="plenary", update=update)])
    assert (other.hub.caught_up, other.hub.reloads) == (1, 0)
    assert (await other.hub.get(m).boards.of("plenary")).element_count == 1
    assert [e.type for e in await store.read(m)][-2:] == ["chat.sent", "board.updated"]


async def test_a_refusal_stands_when_the_log_cannot_be_read() -> None:
    """Redis down: the refusal cannot be checked against the log, and is given as
    decided (not turned into ``store_unavailable``)."""
    store = RacingStore()
    world = World(store, checkpoint_every=CHECKPOINT_EVERY)
    m = await world.meeting(2)
    store.refuse = True
    with pytest.raises(FacilitationError) as refused:
        await world.hub.execute(m, "f", lambda s: b.open_round(s, "f", T0))
    assert refused.value.code == "no_round" and store.reads
