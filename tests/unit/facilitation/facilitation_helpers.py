"""Small builders and measurements shared by the facilitation tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from facilitation.encounters import Encounters
from facilitation.people import Person


def roster(**municipalities: int) -> list[Person]:
    """``roster(Vasa=3, Borgå=2)``: people named after their municipality."""
    return [
        Person(f"{name}-{k}", name) for name, count in municipalities.items() for k in range(count)
    ]


def municipality_map(people: Sequence[Person]) -> dict[str, str]:
    return {person.id: person.municipality for person in people}


def flat(groups: Sequence[Sequence[str]]) -> list[str]:
    return [person_id for group in groups for person_id in group]


def colleague_pairs(groups: Sequence[Sequence[str]], people: Sequence[Person]) -> int:
    municipality_of = municipality_map(people)
    return sum(
        municipality_of[a] == municipality_of[b]
        for group in groups
        for a, b in combinations(group, 2)
    )


def repeats(groups: Sequence[Sequence[str]], history: Encounters) -> int:
    return sum(history.count(a, b) > 0 for group in groups for a, b in combinations(group, 2))


def spread(
    groups: Sequence[Sequence[str]], people: Sequence[Person], municipality: str
) -> list[int]:
    """How many people of ``municipality`` each group holds."""
    municipality_of = municipality_map(people)
    return [Counter(municipality_of[p] for p in group)[municipality] for group in groups]
