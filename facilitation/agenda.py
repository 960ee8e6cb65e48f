"""A meeting agenda: plenary and breakout activities and a cursor through them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from facilitation.exceptions import (
    AgendaEnded,
    InvalidActivity,
    InvalidActivityIndex,
    InvalidAgenda,
    InvalidDuration,
)

MIN_BREAKOUT_S = 30  # warm-ups
MAX_BREAKOUT_S = 3 * 60 * 60
MAX_PLENARY_S = 3 * 60 * 60


class ActivityKind(StrEnum):
    PLENARY = "plenary"
    BREAKOUT = "breakout"


class FocusArea(StrEnum):
    """The four focus areas of the leadership programme."""

    RESIDENT_EXPERIENCE = "resident_experience"
    CREATIVITY = "creativity_problem_solving"
    SELF_LEADERSHIP = "self_leadership"
    CONFLICT_MANAGEMENT = "conflict_management"


@dataclass(frozen=True)
class Activity:
    """One agenda item; ``group_size`` only applies to breakouts."""

    id: str
    title: str
    duration_s: int
    kind: ActivityKind
    prompt: str = ""
    focus_area: FocusArea | None = None
    group_size: int | None = None

    def __post_init__(self) -> None:
        if not self.id.strip() or not self.title.strip():
            raise InvalidActivity("An activity needs a non-empty id and title.")
        _check_duration(self)
        _check_group_size(self)


@dataclass(frozen=True)
class Agenda:
    """Immutable agenda state; ``cursor`` is the running activity, None before the start."""

    activities: tuple[Activity, ...]
    cursor: int | None = None
    title: str = ""

    def __post_init__(self) -> None:
        if not self.activities:
            raise InvalidAgenda("An agenda needs at least one activity.")
        ids = [activity.id for activity in self.activities]
        if len(set(ids)) != len(ids):
            raise InvalidAgenda("Every activity of an agenda needs its own id.")
        if self.cursor is not None:
            self._check_index(self.cursor)

    @classmethod
    def of(cls, activities: Iterable[Activity], title: str = "") -> Agenda:
        return cls(tuple(activities), None, title)

    @property
    def current(self) -> Activity | None:
        return None if self.cursor is None else self.activities[self.cursor]

    @property
    def is_last(self) -> bool:
        return self.cursor == len(self.activities) - 1

    @property
    def total_duration_s(self) -> int:
        return sum(activity.duration_s for activity in self.activities)

    def start(self, index: int = 0) -> Agenda:
        """Run the activity at ``index`` (jumping forwards or backwards is allowed)."""
        self._check_index(index)
        return replace(self, cursor=index)

    def next(self) -> Agenda:
        """Move on to the following activity; the first one if nothing runs yet."""
        if self.cursor is None:
            return self.start(0)
        if self.is_last:
            raise AgendaEnded("The agenda has ended; there is no activity after the last one.")
        return replace(self, cursor=self.cursor + 1)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.activities):
            raise InvalidActivityIndex(
                f"Activity {index} does not exist; the agenda has {len(self.activities)} "
                "activities numbered from 0."
            )


def _check_duration(activity: Activity) -> None:
    if activity.kind is ActivityKind.BREAKOUT:
        low, high = MIN_BREAKOUT_S, MAX_BREAKOUT_S
    else:
        low, high = 1, MAX_PLENARY_S
    if not low <= activity.duration_s <= high:
        raise InvalidDuration(
            f"Activity {activity.id!r} lasts {activity.duration_s} s, but a "
            f"{activity.kind.value} must last between {low} and {high} seconds."
        )


def _check_group_size(activity: Activity) -> None:
    size = activity.group_size
    if size is None:
        return
    if activity.kind is not ActivityKind.BREAKOUT:
        raise InvalidActivity(f"Plenary {activity.id!r} cannot have a group size.")
    if size < 2:
        raise InvalidActivity(f"Breakout {activity.id!r} needs groups of at least 2, not {size}.")
