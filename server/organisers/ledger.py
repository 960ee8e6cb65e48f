"""A log that is not a meeting's (a programme, the organiser accounts): its folded
state and the one path by which it changes. Appends are serialised, made durable,
then applied, so memory is never ahead of the log."""

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from rooms import Entry, Event
from server.clock import Clock
from server.store import LogStore
from server.store.base import CONFLICT_RETRIES, SeqConflict


class Folded(Protocol):
    seq: int

    def apply(self, event: Event) -> None: ...


S = TypeVar("S", bound=Folded)


class Ledger(Generic[S]):
    def __init__(self, store: LogStore, key: str, state: S, clock: Clock) -> None:
        self.state = state
        self._store, self._key, self._clock = store, key, clock
        self._lock = asyncio.Lock()

    @classmethod
    async def load(cls, store: LogStore, key: str, state: S, clock: Clock) -> "Ledger[S]":
        for event in await store.read(key):
            state.apply(event)
        return cls(store, key, state, clock)

    async def execute(self, actor: str, decide: Callable[[S], Sequence[Entry]]) -> list[Event]:
        async with self._lock:
            for attempt in range(CONFLICT_RETRIES):
                now, seq = self._clock.now_ms(), self.state.seq
                events = [Event(seq + i + 1, now, actor, d.type, d.data)
                          for i, d in enumerate(decide(self.state))]
                if events:
                    try:
                        await self._store.append(self._key, events)
                    except SeqConflict:  # cluster: another process appended first
                        if attempt == CONFLICT_RETRIES - 1:
                            raise
                        await self._read_missed()
                        continue
                    for event in events:
                        self.state.apply(event)
                return events
            raise AssertionError("unreachable")

    async def catch_up(self) -> None:
        """Cluster: fold what other processes appended to this log."""
        async with self._lock:
            await self._read_missed()

    async def _read_missed(self) -> None:
        for event in await self._store.read(self._key, self.state.seq):
            self.state.apply(event)
