"""The mixing engine behind ``mix``, ``manual``, ``SelfSelect`` and ``keep``.

A group's cost is the sum over its pairs of a huge penalty for two people of
one municipality plus the number of times the pair already shared a group.
Construction is greedy and seeded: the largest municipalities go first, one
municipality after the other, each person into one of the smallest open
groups, choosing the one with the fewest colleagues, then the fewest repeat
encounters, ties broken at random. Always filling the smallest groups deals
every municipality round-robin over the groups, so each municipality ends up
spread as evenly as possible: no two colleagues share a group whenever no
municipality has more people than there are groups. A bounded local search (``search.py``) then
removes repeat encounters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random

from facilitation.encounters import Encounters
from facilitation.people import Person, municipality_codes
from facilitation.search import LocalSearch

SEARCH_PASSES = 10
SEARCH_VISITS = 20_000
PLACEMENT_BUDGET = 2_000
MAX_ATTEMPTS = 16


@dataclass(frozen=True)
class Bounds:
    """Per-group size bounds; ``spare`` people may go beyond ``low`` up to ``high``."""

    low: tuple[int, ...]
    high: tuple[int, ...]
    spare: int

    @classmethod
    def balanced(cls, n_people: int, group_count: int) -> Bounds:
        """Sizes differing by at most one, any group may be a larger one."""
        base, larger = divmod(n_people, group_count)
        top = base + 1 if larger else base
        return cls((base,) * group_count, (top,) * group_count, larger)

    @classmethod
    def exact(cls, sizes: Sequence[int]) -> Bounds:
        """Every group ends with exactly the given size."""
        return cls(tuple(sizes), tuple(sizes), 0)


def arrange(
    people: Sequence[Person],
    bounds: Bounds,
    *,
    seed: int,
    encounters: Encounters,
    pinned: Mapping[str, int] | None = None,
) -> list[list[str]]:
    """Place ``people`` into groups within ``bounds``; ``pinned`` people stay put.

    Small meetings get several seeded attempts (multi-start) and keep the
    cheapest; the total work is bounded by placements and search visits.
    """
    rng = Random(seed)
    pinned = pinned or {}
    visits = SEARCH_VISITS
    best: tuple[tuple[int, int], list[list[str]]] | None = None
    for _ in range(_attempts(len(people))):
        board = _Board(people, bounds, encounters, Random(rng.getrandbits(64)))
        board.pin(pinned)
        board.place_all()
        search = LocalSearch(board.members, board.muni, board.met, board.movable, bounds, board.rng)
        visits = search.run(SEARCH_PASSES, visits)
        cost = search.total_cost()
        if best is None or cost < best[0]:
            best = (cost, board.groups())
        if _cannot_improve(cost, bounds, bool(pinned)) or visits <= 0:
            break
    assert best is not None
    return best[1]


def _attempts(n_people: int) -> int:
    return max(1, min(MAX_ATTEMPTS, PLACEMENT_BUDGET // max(1, n_people)))


def _cannot_improve(cost: tuple[int, int], bounds: Bounds, pinned: bool) -> bool:
    """True once no attempt can do better.

    With nobody pinned and the same bounds for every group, construction
    already spreads every municipality evenly, i.e. with the fewest colleague
    pairs possible; otherwise only a cost of zero is known to be optimal.
    """
    colleague_pairs, repeats = cost
    uniform = len(set(bounds.low)) == 1 and len(set(bounds.high)) == 1
    return repeats == 0 and (colleague_pairs == 0 or (uniform and not pinned))


class _Board:
    """Mutable working state of one arrangement; never escapes ``arrange``."""

    def __init__(
        self, people: Sequence[Person], bounds: Bounds, encounters: Encounters, rng: Random
    ) -> None:
        self.people = people
        self.bounds = bounds
        self.rng = rng
        self.index = {person.id: i for i, person in enumerate(people)}
        codes = municipality_codes(people)
        dense: dict[int, int] = {}
        self.muni = [dense.setdefault(code, len(dense)) for code in codes]
        self.met = _met_by_index(self.index, encounters)
        count = len(bounds.low)
        self.members: list[list[int]] = [[] for _ in range(count)]
        self.group_of = [-1] * len(people)
        self.movable = [True] * len(people)
        self.muni_groups: list[dict[int, int]] = [{} for _ in dense]
        self.spare_used = 0
        self.buckets: dict[int, list[int]] = {}
        self.bucket_of = [-1] * count

    def pin(self, pinned: Mapping[str, int]) -> None:
        for person_id, g in pinned.items():
            i = self.index[person_id]
            self.movable[i] = False
            self._put(i, g)
        for g in range(len(self.members)):
            if self._has_room(g):
                self._enter_bucket(g)

    def place_all(self) -> None:
        for i in self._placement_order():
            g = self._choose(i)
            self._put(i, g)
            self._refresh_bucket(g)

    def _placement_order(self) -> list[int]:
        by_muni: dict[int, list[int]] = {}
        for i in range(len(self.people)):
            if self.group_of[i] < 0:
                by_muni.setdefault(self.muni[i], []).append(i)
        order = sorted(by_muni.values(), key=lambda idx: (-len(idx), self.rng.random()))
        placed: list[int] = []
        for members in order:
            self.rng.shuffle(members)
            placed.extend(members)
        return placed

    def _choose(self, i: int) -> int:
        """A random best group among the smallest open ones: fewest colleagues, then repeats."""
        touched = self._touched(i)
        size = min(self.buckets)
        bucket = self.buckets[size]
        touched_here = [g for g in touched if self.bucket_of[g] == size]
        if len(touched_here) < len(bucket):
            return self._pick_untouched(bucket, touched)
        lowest = min(touched[g] for g in touched_here)
        return self.rng.choice(sorted(g for g in touched_here if touched[g] == lowest))

    def _touched(self, i: int) -> dict[int, list[int]]:
        """Groups holding colleagues or earlier partners of ``i``: [colleagues, repeats]."""
        touched = {g: [n, 0] for g, n in self.muni_groups[self.muni[i]].items()}
        for j, times in self.met[i].items():
            g = self.group_of[j]
            if g >= 0:
                touched.setdefault(g, [0, 0])[1] += times
        return touched

    def _pick_untouched(self, bucket: list[int], touched: dict[int, list[int]]) -> int:
        for _ in range(8):
            g = bucket[self.rng.randrange(len(bucket))]
            if g not in touched:
                return g
        return self.rng.choice([g for g in bucket if g not in touched])

    def _put(self, i: int, g: int) -> None:
        if len(self.members[g]) >= self.bounds.low[g]:
            self.spare_used += 1
        self.members[g].append(i)
        self.group_of[i] = g
        colleagues = self.muni_groups[self.muni[i]]
        colleagues[g] = colleagues.get(g, 0) + 1

    def _has_room(self, g: int) -> bool:
        size = len(self.members[g])
        if size < self.bounds.low[g]:
            return True
        return size < self.bounds.high[g] and self.spare_used < self.bounds.spare

    def _refresh_bucket(self, g: int) -> None:
        self._leave_bucket(g)
        if self._has_room(g):
            self._enter_bucket(g)
        if self.spare_used == self.bounds.spare and len(self.members[g]) > self.bounds.low[g]:
            self._close_full_groups()

    def _enter_bucket(self, g: int) -> None:
        size = len(self.members[g])
        self.buckets.setdefault(size, []).append(g)
        self.bucket_of[g] = size

    def _leave_bucket(self, g: int) -> None:
        size = self.bucket_of[g]
        bucket = self.buckets[size]
        bucket.remove(g)
        if not bucket:
            del self.buckets[size]
        self.bucket_of[g] = -1

    def _close_full_groups(self) -> None:
        for bucket in list(self.buckets.values()):
            for g in [g for g in bucket if not self._has_room(g)]:
                self._leave_bucket(g)

    def groups(self) -> list[list[str]]:
        return [[self.people[i].id for i in sorted(members)] for members in self.members]


def _met_by_index(index: Mapping[str, int], encounters: Encounters) -> list[dict[int, int]]:
    met: list[dict[int, int]] = [{} for _ in index]
    for key, times in encounters.counts.items():
        a, b = tuple(key)
        ia, ib = index.get(a), index.get(b)
        if ia is not None and ib is not None:
            met[ia][ib] = times
            met[ib][ia] = times
    return met
