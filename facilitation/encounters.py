"""Who has already shared a group with whom."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from types import MappingProxyType

Pair = frozenset[str]


def pair(a: str, b: str) -> Pair:
    """The unordered pair of two participant ids."""
    return frozenset((a, b))


@dataclass(frozen=True)
class Encounters:
    """Immutable counts of how many times each pair of participants shared a group."""

    counts: Mapping[Pair, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        cleaned = {key: times for key, times in self.counts.items() if times > 0}
        object.__setattr__(self, "counts", MappingProxyType(cleaned))

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[str]]) -> Encounters:
        """Count the pairs formed by ``groups`` (e.g. all groups of past rounds)."""
        return cls().merged(groups)

    def merged(self, groups: Iterable[Iterable[str]]) -> Encounters:
        """A new record with every pair in ``groups`` counted once more."""
        counts = dict(self.counts)
        for group in groups:
            for a, b in combinations(sorted(set(group)), 2):
                key = pair(a, b)
                counts[key] = counts.get(key, 0) + 1
        return Encounters(counts)

    def count(self, a: str, b: str) -> int:
        """How many times ``a`` and ``b`` have shared a group."""
        return self.counts.get(pair(a, b), 0)

    def partners(self) -> dict[str, dict[str, int]]:
        """Per participant: everyone they met and how often."""
        met: dict[str, dict[str, int]] = {}
        for key, times in self.counts.items():
            a, b = tuple(key)
            met.setdefault(a, {})[b] = times
            met.setdefault(b, {})[a] = times
        return met

    def __len__(self) -> int:
        return len(self.counts)


NO_ENCOUNTERS = Encounters()
