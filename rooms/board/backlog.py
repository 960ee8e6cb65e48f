"""Updates that arrived before the updates they depend on.

yrs 0.28 (pycrdt 0.14) can lose map values when it integrates updates out of
causal order (see docs/whiteboard.md), so the board hands it only updates whose
dependencies are already integrated and parks the others here.  Each parked
update keeps its key bound reserved against the element cap until it is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import BacklogFull
from .update_v1 import UpdateSummary


@dataclass(frozen=True)
class Parked:
    update: bytes
    summary: UpdateSummary


class Backlog:
    """Out-of-order updates, bounded by total size."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._parked: list[Parked] = []

    def __len__(self) -> int:
        return len(self._parked)

    @property
    def reserved_keys(self) -> int:
        return sum(p.summary.key_bound for p in self._parked)

    def holds(self, update: bytes) -> bool:
        return any(p.update == update for p in self._parked)

    def park(self, update: bytes, summary: UpdateSummary) -> None:
        """Keep `update` until its dependencies arrive; duplicates are kept once."""
        if self.holds(update):
            return
        if sum(len(p.update) for p in self._parked) + len(update) > self._max_bytes:
            raise BacklogFull("Too many out-of-order updates are waiting; resync the board.")
        self._parked.append(Parked(update, summary))

    def take_ready(self, state: Mapping[int, int]) -> Parked | None:
        """Remove and return the oldest parked update whose dependencies are met."""
        for index, parked in enumerate(self._parked):
            if parked.summary.is_ready(state):
                return self._parked.pop(index)
        return None
