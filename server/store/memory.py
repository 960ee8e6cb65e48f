"""An in-memory log store, for tests of everything above the store."""

from collections.abc import Sequence

from rooms import Event
from server.store.base import StoreError


class MemoryStore:
    def __init__(self) -> None:
        self._logs: dict[str, list[Event]] = {}
        self._snapshots: dict[str, tuple[int, bytes]] = {}

    async def __aenter__(self) -> "MemoryStore":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        log = self._logs.setdefault(meeting, [])
        for event in events:
            if event.seq != len(log) + 1:
                raise StoreError(f"Event {event.seq} of {meeting} is out of order.")
            log.append(event)

    async def read(self, meeting: str, after: int = 0) -> list[Event]:
        return list(self._logs.get(meeting, [])[after:])

    async def read_range(self, meeting: str, after: int, upto: int,
                         limit: int = 5000) -> list[Event]:
        return list(self._logs.get(meeting, [])[after:upto][:limit])

    async def rewrite(self, meeting: str, events: Sequence[Event]) -> None:
        self._logs[meeting] = list(events)
        for key in [k for k in self._snapshots if k == meeting or k.startswith(meeting + "#")]:
            del self._snapshots[key]

    async def read_seqs(self, meeting: str, seqs: Sequence[int]) -> list[Event]:
        log = self._logs.get(meeting, [])
        return [log[s - 1] for s in sorted(seqs) if 0 < s <= len(log)]

    async def meetings(self) -> list[str]:
        return sorted(self._logs)

    async def save_snapshot(self, meeting: str, seq: int, blob: bytes) -> None:
        self._snapshots[meeting] = (seq, blob)

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None:
        return self._snapshots.get(meeting)

    async def ping(self) -> None:
        return None
