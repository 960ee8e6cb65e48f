"""One meeting held in memory: its folded state, its recent log, its emits.

``commit`` is synchronous, so deciding and applying a command cannot
interleave with another. ``publish`` waits until the events are durable and
then hands them to the broadcaster strictly in log order.

Nothing the store has not confirmed leaves this object: ``recent`` and
``since`` hold only durable events, and a reader that needs the whole state
(a welcome's snapshot) takes it inside ``quiet()``, when every committed
event is durable. A meeting whose append failed is ``broken`` until the hub
reloads it from its log.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from facilitation.session import Session
from rooms import Draft, Event
from server.store import LogStore, StoreError

RECENT_EVENTS = 5000


class Broadcaster(Protocol):
    async def deliver(self, meeting: str, events: Sequence[Event]) -> None: ...


class LiveMeeting:
    def __init__(self, state: Session, store: LogStore, broadcaster: Broadcaster) -> None:
        self.state = state
        self.recent: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self._store = store
        self._broadcaster = broadcaster
        self._published = state.seq
        self._committed = state.seq  # the last seq handed on to publish
        self.durable = state.seq  # the last seq the store confirmed, all before it too
        self._turn = asyncio.Condition()
        self._quiet = 0
        self._open = asyncio.Event()
        self._open.set()
        self.snapshot_seq = state.seq
        self.broken = False

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def open(self) -> bool:
        """Whether a command may commit now (no reader is waiting for quiet)."""
        return self._open.is_set()

    async def opened(self) -> None:
        await self._open.wait()

    def commit(self, actor: str, drafts: Sequence[Draft], now_ms: int) -> list[Event]:
        events = []
        for draft in drafts:
            event = Event(self.state.seq + 1, now_ms, actor, draft.type, draft.data)
            try:
                self.state.apply(event)
            except Exception:
                self.broken = events != []  # earlier drafts applied, never published
                raise
            events.append(event)
        if events:
            self._committed = events[-1].seq
        return events

    async def publish(self, events: Sequence[Event]) -> None:
        """Make ``events`` durable, then deliver them in log order.

        If the store fails, the meeting is marked broken: its memory is ahead
        of its log, and the hub reloads it from the log before further use.
        """
        if not events:
            return
        failure: BaseException | None = None
        try:
            await self._store.append(self.state.id, events)
        except Exception as exc:
            failure = exc
            self.broken = True
        async with self._turn:
            await self._turn.wait_for(lambda: self._published == events[0].seq - 1)
            try:
                # A batch the store took, behind only durable events, is delivered
                # even if a later one failed meanwhile: it is in the log.
                if failure is None and self.durable == events[0].seq - 1:
                    self.durable = events[-1].seq
                    self.recent.extend(events)
                    await self._broadcaster.deliver(self.state.id, events)
            finally:
                self._published = events[-1].seq
                self._turn.notify_all()
        if failure is not None:
            raise failure

    async def drained(self) -> None:
        """Wait until every committed event went through the store, taken or refused."""
        async with self._turn:
            await self._turn.wait_for(lambda: self._published == self._committed)

    @contextlib.asynccontextmanager
    async def quiet(self) -> AsyncIterator[None]:
        """Hold new commits back until every committed event went through the store.

        Inside, ``state`` is exactly the durable log unless ``broken`` (then it
        raises ``StoreError``), and no delivery runs.
        """
        self._quiet += 1
        self._open.clear()
        try:
            async with self._turn:
                await self._turn.wait_for(lambda: self._published == self._committed)
                if self.broken or self.durable != self.state.seq:
                    raise StoreError("The meeting's log could not be written; try again.")
                yield
        finally:
            self._quiet -= 1
            if not self._quiet:
                self._open.set()

    def since(self, seq: int) -> list[Event] | None:
        """Durable events after ``seq``, or None if they are no longer held."""
        if seq >= self.durable:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        start = seq + 1 - self.recent[0].seq
        return [self.recent[i] for i in range(start, len(self.recent))
                if self.recent[i].seq <= self.durable]
