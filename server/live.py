"""One meeting held in memory: its folded state, its recent log, its emits.

``commit`` is synchronous, so deciding and applying a command cannot
interleave with another. ``publish`` waits until the events are durable and
then hands them to the broadcaster strictly in log order.
"""

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from facilitation.session import Session
from rooms import Draft, Event
from server.store import LogStore

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
        self._turn = asyncio.Condition()
        self.snapshot_seq = state.seq
        self.broken = False

    @property
    def id(self) -> str:
        return self.state.id

    def commit(self, actor: str, drafts: Sequence[Draft], now_ms: int) -> list[Event]:
        events = []
        for draft in drafts:
            event = Event(self.state.seq + 1, now_ms, actor, draft.type, draft.data)
            try:
                self.state.apply(event)
            except Exception:
                self.broken = events != []  # earlier drafts applied, never published
                raise
            self.recent.append(event)
            events.append(event)
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
                if failure is None and not self.broken:
                    await self._broadcaster.deliver(self.state.id, events)
            finally:
                self._published = events[-1].seq
                self._turn.notify_all()
        if failure is not None:
            raise failure

    def since(self, seq: int) -> list[Event] | None:
        """Events after ``seq`` from memory, or None if they are no longer held."""
        if seq >= self.state.seq:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        start = seq + 1 - self.recent[0].seq
        return [self.recent[i] for i in range(start, len(self.recent))]
