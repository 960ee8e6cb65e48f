"""Where a participant who arrives during a round should go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import AlreadyPlaced, NoGroups
from facilitation.people import Person, same_municipality


def place_late_joiner(
    groups: Sequence[Sequence[str]],
    person: Person,
    *,
    municipality_of: Mapping[str, str],
    encounters: Encounters = NO_ENCOUNTERS,
) -> int:
    """Index of the group ``person`` should join.

    The smallest groups come first; among them a group without anyone from the
    person's municipality, then the one with the fewest earlier encounters,
    then the lowest index.
    """
    if not groups:
        raise NoGroups("There are no groups a late participant could join.")
    if any(person.id in group for group in groups):
        raise AlreadyPlaced(f"Participant {person.id!r} is already in a group.")

    def preference(g: int) -> tuple[int, int, int, int]:
        group = groups[g]
        colleagues = sum(same_municipality(municipality_of.get(m, ""), person.municipality)
                         for m in group)
        repeats = sum(encounters.count(person.id, m) for m in group)
        return len(group), colleagues, repeats, g

    return min(range(len(groups)), key=preference)
