"""Strategies that split the participants of a meeting into breakout groups.

Every strategy returns ``list[list[str]]``: groups of participant ids whose
position is the group index. All randomness comes from ``random.Random(seed)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from random import Random

from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import DuplicateParticipant, InvalidMapping, NoPreviousRound
from facilitation.late_join import place_late_joiner
from facilitation.mixer import Bounds, arrange
from facilitation.people import Person, checked_people, municipalities_of, require_known
from facilitation.self_select import SelfSelect
from facilitation.sizing import check_group_count, group_sizes, level_fill

__all__ = [
    "Encounters",
    "Person",
    "SelfSelect",
    "group_sizes",
    "keep",
    "manual",
    "mix",
    "place_late_joiner",
    "random_groups",
]


def mix(
    people: Iterable[Person],
    *,
    group_count: int,
    seed: int,
    encounters: Encounters = NO_ENCOUNTERS,
) -> list[list[str]]:
    """Groups that mix municipalities and avoid pairs who already met.

    No group holds two people of one municipality whenever no municipality has
    more people than there are groups (otherwise colleagues are spread as
    evenly as possible); sizes differ by at most one, larger groups first.
    """
    roster = checked_people(people)
    check_group_count(len(roster), group_count)
    bounds = Bounds.balanced(len(roster), group_count)
    groups = arrange(roster, bounds, seed=seed, encounters=encounters)
    return sorted(groups, key=len, reverse=True)


def random_groups(people: Iterable[Person], *, group_count: int, seed: int) -> list[list[str]]:
    """Seeded random groups whose sizes differ by at most one."""
    roster = checked_people(people)
    ids = [person.id for person in roster]
    Random(seed).shuffle(ids)
    groups: list[list[str]] = []
    for size in group_sizes(len(ids), group_count):
        groups.append(ids[:size])
        ids = ids[size:]
    return groups


def manual(
    people: Iterable[Person],
    mapping: Mapping[str, int],
    group_count: int,
    *,
    seed: int = 0,
    encounters: Encounters = NO_ENCOUNTERS,
) -> list[list[str]]:
    """The facilitator's own split: ``mapping`` sends participant ids to group indices.

    People missing from the mapping fill the smallest groups first (so sizes end
    as level as the mapping allows), spread by municipality and earlier
    encounters exactly as ``mix`` does; the result is deterministic for ``seed``.
    A group nobody is mapped to may stay empty only if there is nobody left over.
    """
    roster = checked_people(people)
    check_group_count(len(roster), group_count)
    require_known(mapping, (person.id for person in roster))
    occupied = [0] * group_count
    for person_id, index in mapping.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < group_count:
            raise InvalidMapping(
                f"Participant {person_id!r} is mapped to group {index!r}, "
                f"but the groups are numbered 0 to {group_count - 1}."
            )
        occupied[index] += 1
    sizes = level_fill(occupied, len(roster))
    return arrange(roster, Bounds.exact(sizes), seed=seed, encounters=encounters, pinned=mapping)


def keep(
    previous_groups: Sequence[Sequence[str]] | None,
    people: Iterable[Person],
    *,
    encounters: Encounters = NO_ENCOUNTERS,
) -> list[list[str]]:
    """Reopen the previous round's groups for everyone still present.

    Participants who were not in the previous round join one by one, in roster
    order, where ``place_late_joiner`` puts them.
    """
    if not previous_groups:
        raise NoPreviousRound("There is no previous round whose groups could be reopened.")
    roster = checked_people(people)
    present = {person.id for person in roster}
    groups = [[pid for pid in group if pid in present] for group in previous_groups]
    kept = _unique_members(groups)
    municipality_of = municipalities_of(roster)
    for person in roster:
        if person.id not in kept:
            index = place_late_joiner(
                groups, person, municipality_of=municipality_of, encounters=encounters
            )
            groups[index].append(person.id)
    return groups


def _unique_members(groups: Sequence[Sequence[str]]) -> set[str]:
    members: set[str] = set()
    for group in groups:
        for person_id in group:
            if person_id in members:
                raise DuplicateParticipant(
                    f"Participant {person_id!r} was in more than one group of the previous round."
                )
            members.add(person_id)
    return members
