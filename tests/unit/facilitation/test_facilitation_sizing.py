import pytest

from facilitation.exceptions import (
    InsufficientCapacity,
    InvalidGroupCount,
    InvalidGroupSize,
    NoParticipants,
    TooManyGroups,
)
from facilitation.sizing import group_sizes, level_fill


@pytest.mark.parametrize(
    ("n_people", "kwargs", "expected"),
    [
        (10, {"group_size": 4}, [4, 3, 3]),
        (10, {"group_count": 3}, [4, 3, 3]),
        (12, {"group_size": 4}, [4, 4, 4]),
        (13, {"group_size": 4}, [4, 3, 3, 3]),
        (7, {"group_count": 7}, [1] * 7),
        (1, {"group_size": 5}, [1]),
        (40, {"group_size": 4}, [4] * 10),
    ],
)
def test_sizes_differ_by_at_most_one_with_larger_groups_first(
    n_people: int, kwargs: dict[str, int], expected: list[int]
) -> None:
    assert group_sizes(n_people, **kwargs) == expected


def test_group_size_never_exceeded_and_fewest_groups_used() -> None:
    for n_people in range(1, 60):
        for size in range(1, 9):
            sizes = group_sizes(n_people, group_size=size)
            assert sum(sizes) == n_people
            assert max(sizes) <= size
            assert max(sizes) - min(sizes) <= 1
            assert len(sizes) == -(-n_people // size)


def test_rejects_zero_groups() -> None:
    with pytest.raises(InvalidGroupCount, match="at least one group"):
        group_sizes(5, group_count=0)


def test_rejects_more_groups_than_people() -> None:
    with pytest.raises(TooManyGroups) as caught:
        group_sizes(3, group_count=4)
    assert caught.value.code == "too_many_groups"


def test_rejects_both_or_neither_count_and_size() -> None:
    with pytest.raises(InvalidGroupCount, match="number of groups or a group size"):
        group_sizes(5)
    with pytest.raises(InvalidGroupCount, match="not both"):
        group_sizes(5, group_count=2, group_size=2)


def test_rejects_empty_group_size_and_empty_meeting() -> None:
    with pytest.raises(InvalidGroupSize):
        group_sizes(5, group_size=0)
    with pytest.raises(NoParticipants):
        group_sizes(0, group_count=1)


def test_level_fill_tops_up_the_smallest_groups() -> None:
    assert level_fill([3, 0, 1], 7) == [3, 2, 2]
    assert level_fill([0, 0, 0], 4) == [2, 1, 1]


def test_level_fill_respects_limits() -> None:
    assert level_fill([0, 0], 5, limits=[2, 5]) == [2, 3]
    with pytest.raises(InsufficientCapacity, match="do not fit"):
        level_fill([1, 1], 5, limits=[2, 2])
