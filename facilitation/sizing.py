"""How many people go into each group."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from facilitation.exceptions import (
    InsufficientCapacity,
    InvalidGroupCount,
    InvalidGroupSize,
    NoParticipants,
    TooManyGroups,
)


def group_sizes(
    n_people: int, group_count: int | None = None, group_size: int | None = None
) -> list[int]:
    """Sizes of ``group_count`` groups (or of groups of at most ``group_size``).

    Sizes differ by at most one and the larger groups come first:
    ``group_sizes(10, group_size=4) == [4, 3, 3]``.
    """
    count = resolve_group_count(n_people, group_count, group_size)
    base, larger = divmod(n_people, count)
    return [base + 1] * larger + [base] * (count - larger)


def resolve_group_count(n_people: int, group_count: int | None, group_size: int | None) -> int:
    """Validate the request and return the number of groups."""
    if n_people < 1:
        raise NoParticipants("There are no participants to place in groups.")
    if group_count is not None and group_size is not None:
        raise InvalidGroupCount("Give either a number of groups or a group size, not both.")
    if group_count is None and group_size is None:
        raise InvalidGroupCount("Give a number of groups or a group size.")
    if group_count is None:
        group_count = _count_for_size(n_people, group_size or 0)
    check_group_count(n_people, group_count)
    return group_count


def _count_for_size(n_people: int, group_size: int) -> int:
    if group_size < 1:
        raise InvalidGroupSize(f"A group needs room for at least one person, not {group_size}.")
    return -(-n_people // group_size)


def check_group_count(n_people: int, group_count: int) -> None:
    """Require at least one group and no more groups than people."""
    if group_count < 1:
        raise InvalidGroupCount(f"There must be at least one group, not {group_count}.")
    if group_count > n_people:
        raise TooManyGroups(
            f"{group_count} groups are too many for {n_people} participants; "
            "every group needs at least one person."
        )


def level_fill(
    occupied: Sequence[int], n_total: int, limits: Sequence[int] | None = None
) -> list[int]:
    """Final sizes when ``n_total`` people fill groups already holding ``occupied``.

    Each newcomer goes to the currently smallest group that is below its limit
    (lowest index on ties).
    """
    sizes = list(occupied)
    caps = list(limits) if limits is not None else [n_total] * len(sizes)
    if n_total > sum(max(cap, size) for cap, size in zip(caps, sizes, strict=True)):
        raise InsufficientCapacity(
            f"{n_total} participants do not fit into {len(sizes)} groups "
            f"with room for {sum(caps)} people."
        )
    heap = [(size, g) for g, size in enumerate(sizes) if size < caps[g]]
    heapq.heapify(heap)
    for _ in range(n_total - sum(sizes)):
        size, g = heapq.heappop(heap)
        sizes[g] = size + 1
        if size + 1 < caps[g]:
            heapq.heappush(heap, (size + 1, g))
    return sizes
