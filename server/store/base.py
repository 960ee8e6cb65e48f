"""The storage port: an append-only log per meeting, plus snapshots."""

from collections.abc import Sequence
from typing import Protocol

from rooms import Event


class StoreError(Exception):
    code = "store_unavailable"


#: Cluster (--redis-url): a decision whose append lost the race for its seq to another
#: process is decided again on the caught-up state, at most this many times.
CONFLICT_RETRIES = 8


class SeqConflict(StoreError):
    """The append does not continue the log: another process appended first (Redis).
    ``last`` is the log's last seq; read after it, fold, decide again."""

    def __init__(self, last: int, message: str) -> None:
        super().__init__(message)
        self.last = last


class LogStore(Protocol):
    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        """Make ``events`` durable; returns once they survive a restart."""

    async def read(self, meeting: str, after: int = 0) -> list[Event]:
        """Events of ``meeting`` with ``seq > after``, in order."""

    async def meetings(self) -> list[str]:
        """Ids of every meeting with a log."""

    async def save_snapshot(self, meeting: str, seq: int, blob: bytes) -> None: ...

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None: ...

    async def ping(self) -> None:
        """Raise ``StoreError`` unless the store answers and takes a write."""
