"""Bounded local search that lowers the cost of an arrangement of groups.

Only people who pay a cost that a move could remove (an earlier partner in
their group, or a colleague while their municipality is spread unevenly) are
worked on. For such a person every other group is visited, starting at a
seeded random group, and the best swap with one of its members, or a move
that keeps the sizes balanced, is applied if it lowers the total cost. The
search is bounded by a number of passes and a number of group visits, so its
running time never depends on a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import Protocol

MUNICIPALITY_PENALTY = 1_000_000_000


class SizeBounds(Protocol):
    @property
    def low(self) -> tuple[int, ...]: ...

    @property
    def high(self) -> tuple[int, ...]: ...


class LocalSearch:
    """Swaps and moves people between groups while the total cost goes down."""

    def __init__(
        self,
        members: list[list[int]],
        muni: Sequence[int],
        met: Sequence[dict[int, int]],
        movable: Sequence[bool],
        bounds: SizeBounds,
        rng: Random,
    ) -> None:
        self.members = members
        self.muni = muni
        self.met = met
        self.movable = movable
        self.bounds = bounds
        self.rng = rng
        self.group_of = [0] * len(muni)
        self.own = [0] * len(muni)
        for g, group in enumerate(members):
            for i in group:
                self.group_of[i] = g
            self._recost(g)
        self.visits_left = 0

    def run(self, passes: int, visits: int) -> int:
        """Improve ``members`` in place; returns the visits left of ``visits``."""
        self.visits_left = visits
        for _ in range(passes):
            if not self._pass():
                break
        return self.visits_left

    def total_cost(self) -> tuple[int, int]:
        """(colleague pairs, repeat encounters) summed over all groups."""
        total = sum(self.own) // 2
        return divmod(total, MUNICIPALITY_PENALTY)

    def _pass(self) -> bool:
        uneven = self._unevenly_spread()
        order = [i for i, can in enumerate(self.movable) if can and self._goal(i, uneven) > 0]
        self.rng.shuffle(order)
        improved = False
        for i in order:
            if self.visits_left <= 0:
                return False
            goal = self._goal(i, uneven)
            if goal > 0 and self._improve(i, goal):
                improved = True
        return improved

    def _goal(self, i: int, uneven: set[int]) -> int:
        """The part of i's cost a move could remove.

        Colleague pairs only count when the municipality is spread unevenly;
        an even spread already has the fewest possible such pairs.
        """
        cost = self.own[i]
        return cost if self.muni[i] in uneven else cost % MUNICIPALITY_PENALTY

    def _unevenly_spread(self) -> set[int]:
        per_muni: dict[int, dict[int, int]] = {}
        for g, group in enumerate(self.members):
            for i in group:
                counts = per_muni.setdefault(self.muni[i], {})
                counts[g] = counts.get(g, 0) + 1
        uneven = set()
        for muni, counts in per_muni.items():
            fewest = min(counts.values()) if len(counts) == len(self.members) else 0
            if max(counts.values()) - fewest > 1:
                uneven.add(muni)
        return uneven

    def _improve(self, i: int, goal: int) -> bool:
        g = self.group_of[i]
        mates = [y for y in self.members[g] if y != i]
        best_delta, best_h, best_j = 0, -1, -1
        count = len(self.members)
        start = self.rng.randrange(count)
        for step in range(count):
            h = (start + step) % count
            if h == g:
                continue
            self.visits_left -= 1
            delta, j = self._best_exchange(i, g, h, mates)
            if delta < best_delta:
                best_delta, best_h, best_j = delta, h, j
            if best_delta <= -goal or self.visits_left <= 0:
                break
        if best_h < 0:
            return False
        self._apply(i, g, best_h, best_j)
        return True

    def _best_exchange(self, i: int, g: int, h: int, mates: list[int]) -> tuple[int, int]:
        """Lowest cost change of sending ``i`` to ``h``; partner -1 means a plain move."""
        own_cost = self.own[i]
        cost_there = self._cost_with(i, self.members[h])
        best_delta, best_j = 0, -1
        if self._can_move(g, h):
            best_delta = cost_there - own_cost
        clash_munis = {self.muni[y] for y in mates}
        for j in self.members[h]:
            if not self.movable[j]:
                continue
            shared = self._pair_cost(i, j) if cost_there else 0
            fits = self.muni[j] not in clash_munis and not any(y in self.met[j] for y in mates)
            cost_here = 0 if fits else self._cost_with(j, mates)
            delta = cost_there - shared + cost_here - own_cost - self.own[j]
            if delta < best_delta:
                best_delta, best_j = delta, j
        return best_delta, best_j

    def _can_move(self, g: int, h: int) -> bool:
        shrinks_ok = len(self.members[g]) - 1 >= self.bounds.low[g]
        return shrinks_ok and len(self.members[h]) + 1 <= self.bounds.high[h]

    def _apply(self, i: int, g: int, h: int, j: int) -> None:
        self.members[g].remove(i)
        self.members[h].append(i)
        self.group_of[i] = h
        if j >= 0:
            self.members[h].remove(j)
            self.members[g].append(j)
            self.group_of[j] = g
        self._recost(g)
        self._recost(h)

    def _recost(self, g: int) -> None:
        group = self.members[g]
        for x in group:
            self.own[x] = self._cost_with(x, group)

    def _cost_with(self, i: int, group: list[int]) -> int:
        met = self.met[i]
        muni = self.muni[i]
        cost = 0
        for y in group:
            if y != i:
                cost += met.get(y, 0)
                if self.muni[y] == muni:
                    cost += MUNICIPALITY_PENALTY
        return cost

    def _pair_cost(self, i: int, j: int) -> int:
        cost = self.met[i].get(j, 0)
        return cost + MUNICIPALITY_PENALTY if self.muni[i] == self.muni[j] else cost
