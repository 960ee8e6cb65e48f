"""Participants as the facilitation core sees them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from facilitation.exceptions import DuplicateParticipant, NoParticipants, UnknownParticipant


@dataclass(frozen=True)
class Person:
    """A participant and the municipality they work for."""

    id: str
    municipality: str


def checked_people(people: Iterable[Person]) -> list[Person]:
    """Return ``people`` as a list, refusing an empty roster and duplicate ids."""
    roster = list(people)
    if not roster:
        raise NoParticipants("There are no participants to place in groups.")
    seen: set[str] = set()
    for person in roster:
        if person.id in seen:
            raise DuplicateParticipant(f"Participant {person.id!r} appears more than once.")
        seen.add(person.id)
    return roster


def require_known(person_ids: Iterable[str], known: Iterable[str]) -> None:
    """Raise ``UnknownParticipant`` for the first id that is not in ``known``."""
    known_ids = set(known)
    for person_id in person_ids:
        if person_id not in known_ids:
            raise UnknownParticipant(f"Participant {person_id!r} is not in this meeting.")


def municipalities_of(people: Sequence[Person]) -> dict[str, str]:
    """Map each person id to their municipality."""
    return {person.id: person.municipality for person in people}


def municipality_codes(people: Sequence[Person]) -> list[int]:
    """A small integer per person, equal for people of one municipality.

    A blank municipality is nobody's colleague: each such person gets a code
    of their own, so an unknown municipality never counts as a shared one.
    Names compare case- and space-insensitively ("Vasa" is "vasa ").
    """
    codes: dict[str, int] = {}
    result = []
    for person in people:
        name = _canonical(person.municipality)
        if name:
            result.append(codes.setdefault(name, len(codes)))
        else:
            result.append(-1 - len(result))
    return result


def same_municipality(a: str, b: str) -> bool:
    """True when two municipality names name one (known) municipality."""
    return bool(_canonical(a)) and _canonical(a) == _canonical(b)


def _canonical(municipality: str) -> str:
    return " ".join(municipality.casefold().split())
