"""Decisions on a programme: given its state and a command, the events to append.

Nothing here changes the state or reads a clock; ids come in as arguments.
"""

import re
from dataclasses import dataclass

import msgspec

from programmes.exceptions import (
    DuplicatePerson,
    InvalidPerson,
    ProgrammeError,
    UnknownCohort,
    UnknownPerson,
)
from programmes.state import Cohort, Person, Programme
from rooms.commands import clean_text
from rooms.events import (
    CohortCreated,
    LinkRevoked,
    PeopleAdded,
    PersonRemoved,
    PersonUpdated,
    ProgrammeCreated,
    ProgrammeDraft,
)
from rooms.exceptions import InvalidValue
from rooms.municipalities import canonical_name, fold, municipality_id

ROLES = {
    "participant": "participant", "deltagare": "participant", "osallistuja": "participant",
    "facilitator": "facilitator", "handledare": "facilitator", "fasilitaattori": "facilitator",
    "ohjaaja": "facilitator", "": "participant",
}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PersonInput:
    """A person as an organiser gives them (typed, imported or edited)."""

    name: str
    municipality: str
    title: str = ""
    email: str = ""
    role: str = "participant"


def create_programme(programme_id: str, name: str) -> ProgrammeDraft:
    return ProgrammeCreated(id=programme_id, name=_text(name, "name", 120))


def create_cohort(p: Programme, cohort_id: str, name: str, ends_on: str) -> list[ProgrammeDraft]:
    if ends_on and not DATE.fullmatch(ends_on):
        raise ProgrammeError("The end date must be a date like 2027-06-30.")
    return [CohortCreated(id=cohort_id, name=_text(name, "name", 80), ends_on=ends_on)]


def checked(person: PersonInput) -> dict[str, str]:
    """A person's fields as stored: trimmed, bounded, municipality canonical."""
    role = ROLES.get(fold(person.role))
    if role is None:
        raise InvalidPerson(f"The role {person.role!r} is neither participant nor facilitator.")
    email = person.email.strip()
    if email and not EMAIL.fullmatch(email):
        raise InvalidPerson(f"The e-mail address {email!r} is not valid.")
    return {"name": _text(person.name, "name", 80),
            "municipality": canonical_name(_text(person.municipality, "municipality", 80)),
            "title": _text(person.title, "title", 80, required=False),
            "email": email, "role": role}


def identity(fields: dict[str, str]) -> tuple[str, ...]:
    """What makes two roster rows the same person: the e-mail if given, else every field."""
    if fields["email"]:
        return ("email", fields["email"].casefold())
    return ("row", fold(fields["name"]), municipality_id(fields["municipality"]),
            fold(fields["title"]))


def add_people(p: Programme, cohort_id: str,
               people: list[tuple[str, PersonInput]]) -> list[ProgrammeDraft]:
    """Add people (id, input) to a cohort's roster, all or none."""
    cohort = cohort_of(p, cohort_id)
    seen = {identity(_fields(q)) for q in cohort.roster()}
    rows = []
    for person_id, person in people:
        fields = checked(person)
        key = identity(fields)
        if key in seen:
            raise DuplicatePerson(f"{fields['name']} is already on the roster.")
        seen.add(key)
        rows.append({"id": person_id, **fields})
    return [PeopleAdded(cohort=cohort_id, people=rows)] if rows else []


def update_person(p: Programme, cohort_id: str, person_id: str,
                  person: PersonInput) -> list[ProgrammeDraft]:
    cohort = cohort_of(p, cohort_id)
    current = person_of(cohort, person_id)
    fields = checked(person)
    others = {identity(_fields(q)) for q in cohort.roster() if q.id != person_id}
    if identity(fields) in others:
        raise DuplicatePerson(f"{fields['name']} is already on the roster.")
    changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
    return [msgspec.convert({"cohort": cohort_id, "id": person_id, **changed}, PersonUpdated)] \
        if changed else []


def remove_person(p: Programme, cohort_id: str, person_id: str) -> list[ProgrammeDraft]:
    person_of(cohort_of(p, cohort_id), person_id)
    return [PersonRemoved(cohort=cohort_id, id=person_id)]


def revoke_link(p: Programme, cohort_id: str, person_id: str) -> list[ProgrammeDraft]:
    """Stop the person's personal links; the next one issued is a new link."""
    person_of(cohort_of(p, cohort_id), person_id)
    return [LinkRevoked(cohort=cohort_id, id=person_id)]


def cohort_of(p: Programme, cohort_id: str) -> Cohort:
    cohort = p.cohorts.get(cohort_id)
    if cohort is None:
        raise UnknownCohort("There is no such cohort.")
    return cohort


def person_of(cohort: Cohort, person_id: str) -> Person:
    person = cohort.people.get(person_id)
    if person is None or person.removed:
        raise UnknownPerson("That person is not on the roster.")
    return person


def _fields(q: Person) -> dict[str, str]:
    return {"name": q.name, "municipality": q.municipality, "title": q.title,
            "email": q.email, "role": q.role}


def _text(value: str, name: str, max_len: int, required: bool = True) -> str:
    try:
        return clean_text(value, field=name, max_len=max_len, required=required)
    except InvalidValue as exc:
        raise InvalidPerson(exc.message) from exc
