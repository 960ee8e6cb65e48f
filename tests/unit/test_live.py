"""LiveMeeting.hand_out: what is built from memory goes out only once durable, and in
its place among the deliveries. An in-memory store that waits when told to."""

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from rooms import SYSTEM, Event, Role
from rooms import commands as cmd
from server.live import LiveMeeting
from server.state import new_state
from server.store import MemoryStore, StoreError
from server.store.sqlite import SQLiteStore


class SlowStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.gate: asyncio.Event | None = None
        self.refuse = False

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse:
            raise StoreError("The disk is full.")
        await super().append(meeting, events)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[object] = []

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        self.seen += [e.seq for e in events]

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        return False  # delivered by the publisher, a turn later


async def meeting() -> tuple[LiveMeeting, SlowStore, Recorder]:
    store, seen = SlowStore(), Recorder()
    live = LiveMeeting(new_state(), store, seen)
    await live.publish(live.commit(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01", "")], 1))
    return live, store, seen


def joining(live: LiveMeeting, who: str) -> list[Event]:
    return live.commit(who, cmd.join(live.state.meeting, who, Role.PARTICIPANT, name=who,
                                     municipality="Vasa"), 2)


async def test_hand_out_waits_for_durable_and_goes_before_later_events() -> None:
    live, store, seen = await meeting()
    store.gate = asyncio.Event()
    first = asyncio.create_task(live.publish(joining(live, "anna")))  # seq 2, in flight

    async def send(seq: int) -> None:
        seen.seen.append(f"welcome@{seq}")
    welcome = asyncio.create_task(live.hand_out(lambda: live.state.seq, send))
    await asyncio.sleep(0)
    second = asyncio.create_task(live.publish(joining(live, "bo")))  # seq 3, after it
    await asyncio.sleep(0)
    assert seen.seen == [1]  # nothing durable yet, nothing out
    store.gate.set()
    await asyncio.gather(first, second)
    assert await welcome == 2
    assert seen.seen == [1, 2, "welcome@2", 3]


async def test_hand_out_sends_nothing_when_the_store_refused() -> None:
    live, store, seen = await meeting()
    store.gate, store.refuse = asyncio.Event(), True
    lost = asyncio.create_task(live.publish(joining(live, "anna")))

    async def send(seq: int) -> None:
        seen.seen.append(f"welcome@{seq}")
    welcome = asyncio.create_task(live.hand_out(lambda: live.state.seq, send))
    await asyncio.sleep(0)
    store.gate.set()
    with pytest.raises(StoreError):
        await lost
    with pytest.raises(StoreError):
        await welcome
    assert seen.seen == [1] and live.broken and live.durable == 1
    with pytest.raises(StoreError):  # a broken meeting hands out nothing until reloaded
        await live.hand_out(lambda: live.state.seq, send)


async def test_hand_out_with_nothing_in_flight_goes_at_once() -> None:
    live, _, seen = await meeting()

    async def send(seq: int) -> None:
        seen.seen.append(f"welcome@{seq}")
    assert await live.hand_out(lambda: live.state.seq, send) == 1
    assert seen.seen == [1, "welcome@1"]


async def test_absorb_folds_and_delivers_other_processes_events_in_their_place() -> None:
    """Cluster: events another process appended are folded and delivered after the
    local ones in flight, never twice; a gap, or memory ahead of the log with an event
    the log refused, asks for a reload instead (None)."""
    live, store, seen = await meeting()
    other = LiveMeeting(new_state(), MemoryStore(), Recorder())  # the other process's view
    for e in await store.read("m"):
        other.state.apply(e)
    theirs = other.commit("bo", cmd.join(other.state.meeting, "bo", Role.PARTICIPANT,
                                         name="Bo", municipality="Vasa"), 3)  # seq 2
    store.gate = asyncio.Event()
    mine = joining(live, "anna")  # seq 2 here too: it will lose the race
    publishing = asyncio.create_task(live.publish(mine))
    await MemoryStore.append(store, "m", theirs)  # the other process won seq 2
    absorbing = asyncio.create_task(live.absorb(theirs))
    await asyncio.sleep(0)
    assert not absorbing.done()  # waits for the local append in flight
    store.gate.set()
    with pytest.raises(StoreError):
        await publishing
    assert await absorbing is None  # memory holds anna's refused join: reload
    fresh = LiveMeeting(new_state(), store, seen)
    for e in await store.read("m", 0):
        fresh.state.apply(e)
    fresh.durable = fresh.state.seq
    fresh._published = fresh._committed = fresh.state.seq
    more = other.commit("bo", cmd.chat(other.state.meeting, "bo", "c1", "hej"), 4)  # seq 3
    await store.append("m", more)
    absorbed = await fresh.absorb([*theirs, *more])  # seq 2 already held: not again
    assert absorbed is not None and absorbed[0] == more
    assert seen.seen[-1] == 3 and seen.seen.count(3) == 1
    gap = Event(9, 5, "bo", "chat.sent", {"id": "c9", "room": "plenary", "text": "x"})
    assert await fresh.absorb([gap]) is None  # seq 4..8 missing: reload from the log


async def test_commit_folds_the_typed_draft_without_decoding_its_dict(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The draft a command decided is folded as it is; its ``data`` dict (logged and
    sent) is not decoded back into the same class. The fold from the log agrees."""
    live, store, _ = await meeting()
    await live.publish(joining(live, "anna"))
    import facilitation.session
    import rooms.meeting

    def no_decode(event: Event) -> object:
        raise AssertionError(f"decoded {event.type} again")
    monkeypatch.setattr(facilitation.session, "decode", no_decode)
    monkeypatch.setattr(rooms.meeting, "decode", no_decode)
    events = live.commit("anna", cmd.chat(live.state.meeting, "anna", "c1", " hej "), 3)
    await live.publish(events)
    assert events[0].data == {"id": "c1", "room": "plenary", "text": "hej"}
    monkeypatch.undo()
    replay = new_state()
    from facilitation.session import fold
    fold(await store.read("m"), replay)
    assert replay == live.state


class TaskRecorder:
    """Which task delivered which events."""

    def __init__(self) -> None:
        self.by: list[tuple[str, list[int]]] = []

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        task = asyncio.current_task()
        self.by.append((task.get_name() if task else "?", [e.seq for e in events]))

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        return False  # delivered by the publisher, a turn later


async def test_whoever_holds_the_turn_delivers_every_durable_batch_in_order(
        tmp_path: Path) -> None:
    """Three joins made durable by one commit: the first to run delivers all three in
    order, and the welcome built after them goes out at once, not a turn of the loop
    later per batch (a join storm's welcomes and acks in one write, not two)."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        seen = TaskRecorder()
        live = LiveMeeting(new_state(), store, seen)
        await live.publish(live.commit(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01",
                                                                   "")], 1))
        sent: list[str] = []

        async def join_and_welcome(who: str) -> None:
            await live.publish(joining(live, who))

            async def send(seq: int) -> None:
                sent.append(f"{who}@{seq}")
            await live.hand_out(lambda: live.state.seq, send)

        # decided in one turn of the loop (each publish first folds, then appends)
        tasks = [asyncio.create_task(join_and_welcome(who), name=who)
                 for who in ("anna", "bo", "cia")]
        await asyncio.gather(*tasks)
        assert seen.by[1:] == [("anna", [2]), ("anna", [3]), ("anna", [4])]
        assert sent == ["anna@4", "bo@4", "cia@4"]  # none waited for another's turn
        assert [e.seq for e in await store.read("m")] == [1, 2, 3, 4]


async def test_a_refused_batch_is_passed_over_by_whoever_delivers(tmp_path: Path) -> None:
    """A batch the store refused (here: it cannot be encoded) is not delivered by the
    turn's holder; its own publisher raises, and the meeting is broken (reloaded)."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        seen = TaskRecorder()
        live = LiveMeeting(new_state(), store, seen)
        await live.publish(live.commit(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01",
                                                                   "")], 1))
        good = joining(live, "anna")
        bad = [Event(3, 2, "bo", "chat.sent", {"text": object()})]  # not encodable
        outcomes = await asyncio.gather(live.publish(good), live.publish(bad),
                                        return_exceptions=True)
        assert outcomes[0] is None and isinstance(outcomes[1], StoreError)
        assert [seqs for _, seqs in seen.by[1:]] == [[2]]
        assert live.broken and live.durable == 2


async def test_a_delivery_that_fails_still_wakes_the_publishers_behind_it() -> None:
    """The turn's holder fails delivering its batch (a fan-out error): the publisher of
    the next batch, already waiting for its turn, is woken and delivers its own."""

    class GatedStore(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()

        async def append(self, meeting: str, events: Sequence[Event]) -> None:
            if events[0].seq == 2:
                await self.gate.wait()  # the first batch is made durable last
            # (taken without the memory store's order check: another process's
            # store, say, answering out of order)

    class FailingOnce(Recorder):
        async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
            if events[0].seq == 2:
                raise RuntimeError("a fan-out defect")
            await super().deliver(meeting, events)

    store, seen = GatedStore(), FailingOnce()
    live = LiveMeeting(new_state(), store, seen)
    await live.publish(live.commit(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01", "")], 1))
    first = asyncio.create_task(live.publish(joining(live, "anna")))  # seq 2
    second = asyncio.create_task(live.publish(joining(live, "bo")))  # seq 3, durable first
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the second waits for its turn behind the first
    store.gate.set()
    with pytest.raises(RuntimeError):
        await first
    await asyncio.wait_for(second, 2)
    assert seen.seen == [1, 3]


class NowRecorder(Recorder):
    """Delivers at once when asked to (as the dispatcher does for sends), noting who
    delivered: ``now`` from the commit's callback, else the publisher's task."""

    def __init__(self) -> None:
        super().__init__()
        self.how: list[tuple[str, list[int]]] = []

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        self.how.append(("publisher", [e.seq for e in events]))

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        assert asyncio.current_task() is None  # in the store's commit callback
        self.how.append(("now", [e.seq for e in events]))
        return True


async def created_now(store: SQLiteStore) -> tuple[LiveMeeting, NowRecorder]:
    """A meeting created on ``store``, its deliveries recorded by a ``NowRecorder``."""
    seen = NowRecorder()
    live = LiveMeeting(new_state(), store, seen)
    await live.publish(live.commit(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01", "")], 1))
    return live, seen


async def welcome_waiting(live: LiveMeeting, seen: NowRecorder) -> "asyncio.Task[int]":
    """A welcome built now, waiting (once this returns) for the batch in flight."""
    async def send(seq: int) -> None:
        seen.how.append(("welcome", [seq]))
    welcome = asyncio.create_task(live.hand_out(lambda: live.state.seq, send))
    await asyncio.sleep(0)
    return welcome


async def test_a_durable_batch_is_delivered_in_the_commits_own_callback(
        tmp_path: Path) -> None:
    """Nothing else under way on the meeting: the commit's callback delivers the batches
    it made durable, in order, before their publishers resume (each would have waited
    behind every other message the loop read in that turn)."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        live, seen = await created_now(store)
        first = asyncio.create_task(live.publish(joining(live, "anna")))
        second = asyncio.create_task(live.publish(joining(live, "bo")))
        await asyncio.gather(first, second)
        assert seen.how == [("now", [1]), ("now", [2, 3])]  # one commit, in one go
        assert live.durable == 3
        assert [e.seq for e in await store.read("m")] == [1, 2, 3]


async def test_while_a_reader_waits_the_publisher_delivers_after_it(tmp_path: Path) -> None:
    """A welcome built before a batch is durable goes out before the batch's events:
    the commit's callback leaves that batch to its publisher, which sends the welcome
    in its place first."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        live, seen = await created_now(store)
        before = asyncio.create_task(live.publish(joining(live, "anna")))  # seq 2
        welcome = await welcome_waiting(live, seen)
        after = asyncio.create_task(live.publish(joining(live, "bo")))  # seq 3
        await asyncio.gather(before, welcome, after)
        # seq 3, made durable by a later commit with no reader left, goes at once
        assert seen.how == [("now", [1]), ("publisher", [2]), ("welcome", [2]),
                            ("now", [3])]


async def test_a_publisher_cancelled_during_its_commit_still_wakes_drained(
        tmp_path: Path) -> None:
    """The commit's callback delivers the batch of a publisher cancelled meanwhile, but
    only the publisher woke whoever waited in the turn: ``drained`` (a reload, a rewrite,
    the shutdown) waited until the meeting's next publish, if any came."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        live, seen = await created_now(store)
        events = joining(live, "anna")  # seq 2, committed to memory
        drained = asyncio.create_task(live.drained())  # waits for seq 2
        publisher = asyncio.create_task(live.publish(events))
        await asyncio.sleep(0)  # both run: drained waits, the append's commit is due
        publisher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await publisher
        await asyncio.wait_for(drained, 1)
        assert seen.how == [("now", [1]), ("now", [2])] and live.durable == 2


async def test_a_publisher_cancelled_during_its_commit_still_delivers_in_its_place(
        tmp_path: Path) -> None:
    """A welcome waits for the batch, so the commit's callback leaves it to its
    publisher, which is cancelled: the batch is delivered, then the welcome, all the
    same (both waited for a publisher that never came)."""
    async with SQLiteStore(tmp_path / "log.db") as store:
        live, seen = await created_now(store)
        publisher = asyncio.create_task(live.publish(joining(live, "anna")))  # seq 2
        welcome = await welcome_waiting(live, seen)
        publisher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await publisher
        assert await asyncio.wait_for(welcome, 1) == 2
        assert seen.how == [("now", [1]), ("publisher", [2]), ("welcome", [2])]
        await asyncio.wait_for(live.drained(), 1)
        assert [e.seq for e in await store.read("m")] == [1, 2]
