"""One meeting held in memory: its folded state, its recent log, its emits.

``commit`` is synchronous, so deciding and applying a command cannot
interleave with another. ``publish`` waits until the events are durable and
then hands them to the broadcaster strictly in log order.

Memory runs ahead of the log between ``commit`` and the store's answer, so
whatever is built from memory for a client (a welcome) goes out through
``hand_out``: only once every event it covers is durable, in its place in the
delivery order, and never if the store refused one of them. A meeting whose
append failed is ``broken`` until the hub reloads it from its log.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from facilitation.session import Session
from rooms import Draft, Event
from rooms.board import BoardLimits
from rooms.events import BoardUpdated
from server.boards import MeetingBoards
from server.effects import Effect, effects
from server.state import decode_snapshot, encode_snapshot
from server.store import LogStore, StoreError
from server.store.base import SeqConflict

log = logging.getLogger("ledarstig.live")

RECENT_EVENTS = 5000
T = TypeVar("T")
Reader = tuple[Callable[[], Awaitable[None]], "asyncio.Future[None]"]


def refused_boards(events: Sequence[Event]) -> set[str]:
    """Rooms whose board these (refused) events updated."""
    return {e.data["room"] for e in events if e.type == BoardUpdated.TYPE}


class Broadcaster(Protocol):
    async def deliver(self, meeting: str, events: Sequence[Event]) -> None: ...

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        """``deliver`` without a coroutine, or False with nothing delivered."""
        ...


class LiveMeeting:
    def __init__(self, state: Session, store: LogStore, broadcaster: Broadcaster,
                 board_limits: BoardLimits | None = None) -> None:
        self.state = state
        self.boards = MeetingBoards(self, store, board_limits or BoardLimits())
        self.recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._store = store
        self._broadcaster = broadcaster
        self._published = state.seq  # the last seq through the store, taken or refused
        self._committed = state.seq  # the last seq handed on to publish
        self.durable = state.seq  # the last seq the store took, with all before it
        self._turn = asyncio.Condition()
        self._readers: dict[int, list[Reader]] = {}  # seq -> what waits to go out after it
        #: Batches given to the store and not delivered yet, by their first seq, with
        #: the future of their append (done: taken or refused).
        self._flight: dict[int, tuple[Sequence[Event], asyncio.Future[None]]] = {}
        self._waiting = 0  # publishers waiting in the turn for their batch's place
        self._finishers: set[asyncio.Task[None]] = set()  # of cancelled publishers (_finish)
        self.snapshot_seq = state.seq
        self.broken = False
        # Cluster (--redis-url): the state at a durable seq, encoded, every
        # ``checkpoint_every`` events (0: never), so that after a lost append race the
        # meeting goes back to its durable state from memory (``rewind``) and reads only
        # the events it missed, not the whole log; ``behind``: the log's last seq the
        # store named when it refused an append (``SeqConflict.last``).
        self.checkpoint_every = 0
        self.checkpoint: tuple[int, bytes] | None = None
        self.behind = 0

    @property
    def id(self) -> str:
        return self.state.id

    def commit(self, actor: str, drafts: Sequence[Draft], now_ms: int) -> list[Event]:
        return self.commit_effects(actor, drafts, now_ms)[0]

    def commit_effects(self, actor: str, drafts: Sequence[Draft],
                       now_ms: int) -> tuple[list[Event], list[Effect]]:
        """Number and fold the drafts (the state and the boards); with each event, what
        to do about it (``server.effects.effects`` of the state just before it)."""
        events: list[Event] = []
        todo: list[Effect] = []
        for draft in drafts:
            event = Event(self.state.seq + 1, now_ms, actor, draft.type, draft.data)
            try:
                todo += effects(self.state, event)
                self.boards.fold(event)
                self.state.apply(event, draft)  # the typed draft: no decode of its dict
            except Exception:
                self.broken = events != []  # earlier drafts applied, never published
                raise
            self.recent.append(event)
            events.append(event)
        if events:
            self._committed = events[-1].seq
        return events, todo

    async def publish(self, events: Sequence[Event]) -> None:
        """Make ``events`` durable, then deliver them in log order.

        Whoever holds the turn delivers every batch that is durable next in the order,
        its own and those of others still waiting to run (a store that says when each
        append is durable, ``begin_append``): a burst of commands on one meeting, made
        durable by one commit, is delivered in one go, and what waits on it (a welcome)
        goes out then, not a turn of the loop later per batch.

        If the store fails, the meeting is marked broken: its memory is ahead
        of its log, and the hub reloads it from the log before further use.
        """
        if not events:
            return
        last = events[-1].seq
        loop = asyncio.get_running_loop()
        begin = getattr(self._store, "begin_append", None)
        durable: asyncio.Future[None]
        try:
            durable = (begin(self.state.id, events, self.deliver_durable) if begin is not None
                       else loop.create_future())
        except Exception as exc:  # noqa: BLE001 - refused before it began (encoding)
            durable = loop.create_future()
            durable.set_exception(exc)
        self._flight[events[0].seq] = (events, durable)
        try:
            try:
                if begin is None:  # a store that answers only its caller
                    try:
                        await self._store.append(self.state.id, events)
                    except BaseException as exc:
                        if isinstance(exc, asyncio.CancelledError):
                            durable.cancel()
                        else:
                            durable.set_exception(exc)
                        raise
                    durable.set_result(None)
                else:  # the store's future: a cancelled caller does not cancel it
                    await durable
            except Exception as exc:  # noqa: BLE001 - raised below, once delivered in order
                self.broken = True
                if isinstance(exc, SeqConflict):
                    self.behind = max(self.behind, exc.last)
            await self._deliver_through(last)
        except asyncio.CancelledError:  # waiting for the store, or for its turn
            self._finish(last)
            raise
        if durable.cancelled():
            raise StoreError("The append was cancelled.")
        failure = durable.exception()
        if failure is not None:
            raise failure

    async def _deliver_through(self, last: int) -> None:
        """Take the turn and deliver every batch durable next in the order, up to
        ``last`` (other publishers' too); then wake whoever waits in the turn."""
        async with self._turn:
            try:
                while self._published < last:
                    self._waiting += 1
                    try:
                        await self._turn.wait_for(
                            lambda: self._published >= last or self._next_durable() is not None)
                    finally:
                        self._waiting -= 1
                    while (batch := self._next_durable()) is not None:
                        await self._deliver_batch(*batch)
            finally:  # whatever was delivered, even if a delivery failed, wakes the others
                self._turn.notify_all()

    def _finish(self, last: int) -> None:
        """A publisher was cancelled: its append goes on (the store's future cannot be
        cancelled), so a task of its own delivers the batch in its place, or passes over
        it if refused, and wakes whoever waits for it (a welcome, ``drained``), as the
        publisher would have. Even if the commit's callback delivered it already: that
        wakes no one."""
        task = asyncio.get_running_loop().create_task(self._deliver_through(last))
        self._finishers.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._finishers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("delivering the batch of a cancelled publisher of %s failed",
                      self.state.id, exc_info=task.exception())

    def deliver_durable(self) -> None:
        """Deliver the batches durable next in the order at once, in the commit's own
        callback (the store calls it once the commit answered), instead of a turn of the
        loop later by their publishers, whose turn may come after every other message
        that the loop read meanwhile. Only while nothing else is under way on this
        meeting (no one holds or waits in the turn, no reader waits) and only batches
        the store took whose delivery is only sends (``Broadcaster.deliver_now``):
        anything else is left to the publishers, as before."""
        if self._turn.locked() or self._waiting or self._readers or self.broken:
            return
        batches: list[Sequence[Event]] = []
        seq = self._published
        while (batch := self._next_durable(seq)) is not None:
            events, durable = batch
            if durable.cancelled() or durable.exception() is not None:
                break
            batches.append(events)
            seq = events[-1].seq
        if not batches or self.durable != self._published:
            return
        try:  # all in one go: written out at once, one write per connection
            delivered = self._broadcaster.deliver_now(
                self.state.id, [e for events in batches for e in events])
        except Exception:
            self._passed(batches)  # failed part way (a defect): in the log, passed over
            raise
        if delivered:
            self._passed(batches)
            self.keep_checkpoint()

    def _passed(self, batches: Sequence[Sequence[Event]]) -> None:
        """Durable batches delivered by ``deliver_durable``: out of flight, in order."""
        for events in batches:
            del self._flight[events[0].seq]
        self.durable = self._published = batches[-1][-1].seq

    def _next_durable(self, after: int | None = None
                      ) -> "tuple[Sequence[Event], asyncio.Future[None]] | None":
        """The batch after ``after`` (the last delivered seq), if the store has answered
        it (taken or refused)."""
        batch = self._flight.get((self._published if after is None else after) + 1)
        return batch if batch is not None and batch[1].done() else None

    async def _deliver_batch(self, events: Sequence[Event],
                             durable: "asyncio.Future[None]") -> None:
        """Deliver one durable batch in its place, or pass over a refused one (the caller
        holds the turn)."""
        del self._flight[events[0].seq]
        failed = durable.cancelled() or durable.exception() is not None
        if failed:
            self.broken = True
        try:
            await self._answer_readers()  # what was built before these events goes first
            # A batch the store took, behind only durable events, is delivered
            # even if a later one failed meanwhile: it is in the log.
            if not failed and self.durable == events[0].seq - 1:
                self.durable = events[-1].seq
                await self._broadcaster.deliver(self.state.id, events)
                self.keep_checkpoint()
        finally:
            self._published = events[-1].seq
            await self._answer_readers()

    async def hand_out(self, build: Callable[[], T],
                       send: Callable[[T], Awaitable[None]]) -> T:
        """Build something from the state now, and send it once every event it covers
        is durable, before any later event is delivered. Raises ``StoreError`` (and
        sends nothing) if the store refused one of those events."""
        if self.broken:
            raise StoreError("The meeting's log could not be written; try again.")
        seq, payload = self.state.seq, build()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._readers.setdefault(seq, []).append((lambda: send(payload), done))
        if self._published == seq:  # nothing in flight: no publisher will come by
            async with self._turn:
                await self._answer_readers()
        await done
        return payload

    async def _answer_readers(self) -> None:
        """Send what waits for ``_published`` (the caller holds the turn)."""
        for send, done in self._readers.pop(self._published, ()):
            if done.done():
                continue  # its caller gave up
            if self.durable != self._published:
                done.set_exception(StoreError("The meeting's log could not be written; "
                                              "try again."))
                continue
            try:
                await send()
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

    # -- cluster (server/cluster, --redis-url): events other processes appended ----

    async def absorb(self, events: Sequence[Event]
                     ) -> tuple[list[Event], list[Effect]] | None:
        """Fold (state and boards) and deliver, in their place in the order, events of
        this meeting's log that another process appended. Returns those that were new
        here with their effects (as ``commit_effects``), or None if the meeting must be
        reloaded from its log instead (a gap, or memory ahead of the log with events it
        refused)."""
        async with self._turn:
            await self._turn.wait_for(lambda: self._published == self._committed)
            return await self._absorb(events)

    async def _absorb(self, events: Sequence[Event]
                      ) -> tuple[list[Event], list[Effect]] | None:
        """``absorb`` (the caller holds the turn, with nothing in flight)."""
        fresh = [e for e in events if e.seq > self.durable]
        if self.broken or (fresh and fresh[0].seq != self.durable + 1):
            return None
        todo: list[Effect] = []
        if not fresh:
            return [], todo
        try:
            for event in fresh:
                todo += effects(self.state, event)
                self.boards.fold(event, absorbed=True)
                self.state.apply(event)
                self.recent.append(event)
        except Exception:
            self.broken = True
            return None
        self._committed = self._published = self.durable = fresh[-1].seq
        try:
            await self._broadcaster.deliver(self.state.id, fresh)
        finally:
            await self._answer_readers()
            self._turn.notify_all()
        self.keep_checkpoint()
        return fresh, todo

    def keep_checkpoint(self) -> None:
        """Keep the state at a durable seq, if one is due and memory is not ahead."""
        every = self.checkpoint_every
        if every and self.state.seq == self.durable and not self.broken and (
                self.checkpoint is None or self.durable - self.checkpoint[0] >= every):
            self.checkpoint = (self.durable, encode_snapshot(self.state))

    def durable_state(self) -> Session | None:
        """The state at ``durable`` from memory (the checkpoint and the durable events
        held after it), or None if memory does not hold what it takes. Call it with
        nothing in flight (``drained``); the live state is left alone."""
        if self.checkpoint is None:
            return None
        seq, blob = self.checkpoint
        state = decode_snapshot(blob)
        held = self.since(seq)
        if state is None or state.seq != seq or held is None:
            return None
        for event in held:
            if event.seq > self.durable:
                break
            state.apply(event)
        return state if state.seq == self.durable else None

    async def rewind(self, state: Session, missed: Sequence[Event]
                     ) -> tuple[list[Event], list[Effect]] | None:
        """After a refused append (a lost race): memory goes back to ``state``, the
        state at ``durable`` (``durable_state``; the refused events are dropped, their
        effects never ran), then ``missed`` (the log after ``durable``) is absorbed as
        the tail would: folded, delivered in order, effects returned. None if it does
        not fit (then reload the meeting from its log)."""
        async with self._turn:
            await self._turn.wait_for(lambda: self._published == self._committed)
            if state.seq != self.durable or (missed and missed[0].seq != self.durable + 1):
                return None
            refused = [e for e in self.recent if e.seq > self.durable]
            for _ in refused:
                self.recent.pop()
            self.boards.drop(refused_boards(refused))  # read again from the log
            self.state = state
            self._committed = self._published = self.durable
            self.broken = False
            return await self._absorb(missed)

    async def drained(self) -> None:
        """Wait until every committed event went through the store, taken or refused."""
        async with self._turn:
            await self._turn.wait_for(lambda: self._published == self._committed)

    def since(self, seq: int) -> list[Event] | None:
        """Events after ``seq`` from memory, or None if they are no longer held. They
        may not be durable yet: hand them out only through ``hand_out``."""
        if seq >= self.state.seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        start = seq + 1 - self.recent[0].seq
        return [self.recent[i] for i in range(start, len(self.recent))]
