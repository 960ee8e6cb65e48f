"""Participants choose their own breakout group, within each group's capacity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import (
    DuplicateParticipant,
    GroupFull,
    InvalidCapacity,
    InvalidGroupCount,
    InvalidGroupIndex,
    UnknownParticipant,
)
from facilitation.mixer import Bounds, arrange
from facilitation.people import Person, checked_people
from facilitation.sizing import level_fill


@dataclass(frozen=True)
class SelfSelect:
    """Immutable state of a self-selection; every change returns a new state."""

    participants: tuple[str, ...]
    capacities: tuple[int, ...]
    choices: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    @classmethod
    def open(cls, participants: Iterable[str], *, group_count: int, capacity: int) -> SelfSelect:
        """Start a self-selection into ``group_count`` groups of at most ``capacity``."""
        ids = tuple(participants)
        if len(set(ids)) != len(ids):
            raise DuplicateParticipant("A participant appears more than once in the roster.")
        if group_count < 1:
            raise InvalidGroupCount(f"There must be at least one group, not {group_count}.")
        if capacity < 1:
            raise InvalidCapacity(f"A group needs room for at least one person, not {capacity}.")
        return cls(ids, (capacity,) * group_count)

    @property
    def group_count(self) -> int:
        return len(self.capacities)

    def join(self, person_id: str) -> SelfSelect:
        """Add a participant who arrived after the selection opened."""
        if person_id in self.participants:
            return self
        return replace(self, participants=(*self.participants, person_id))

    def choose(self, person_id: str, group_index: int) -> SelfSelect:
        """Record that ``person_id`` picked ``group_index``; a new pick replaces the old one."""
        self._require_participant(person_id)
        if not 0 <= group_index < self.group_count:
            raise InvalidGroupIndex(
                f"Group {group_index} does not exist; the groups are numbered "
                f"0 to {self.group_count - 1}."
            )
        if self.choices.get(person_id) == group_index:
            return self
        if self.seats_left(group_index) <= 0:
            raise GroupFull(f"Group {group_index} is full.")
        return replace(self, choices={**self.choices, person_id: group_index})

    def withdraw(self, person_id: str) -> SelfSelect:
        """Forget the pick of ``person_id``, freeing their seat."""
        self._require_participant(person_id)
        return replace(self, choices={k: g for k, g in self.choices.items() if k != person_id})

    def members(self, group_index: int) -> list[str]:
        """Participants who picked ``group_index``, in the order they picked."""
        return [person_id for person_id, g in self.choices.items() if g == group_index]

    def seats_left(self, group_index: int) -> int:
        return self.capacities[group_index] - len(self.members(group_index))

    def unchosen(self) -> list[str]:
        """Participants who have not picked a group yet, in roster order."""
        return [person_id for person_id in self.participants if person_id not in self.choices]

    def finalize(
        self,
        people: Sequence[Person],
        *,
        seed: int,
        encounters: Encounters = NO_ENCOUNTERS,
    ) -> list[list[str]]:
        """Groups for the ``people`` present now.

        Picks of people who left are dropped. Everyone present without a pick
        (including anyone not on the roster) fills the smallest groups first,
        up to each capacity, mixed by municipality and earlier encounters as
        in ``mix``.
        """
        roster = checked_people(people)
        present = {person.id for person in roster}
        pinned = {pid: g for pid, g in self.choices.items() if pid in present}
        occupied = [0] * self.group_count
        for g in pinned.values():
            occupied[g] += 1
        sizes = level_fill(occupied, len(roster), self.capacities)
        bounds = Bounds.exact(sizes)
        return arrange(roster, bounds, seed=seed, encounters=encounters, pinned=pinned)

    def _require_participant(self, person_id: str) -> None:
        if person_id not in self.participants:
            raise UnknownParticipant(f"Participant {person_id!r} is not part of this selection.")
