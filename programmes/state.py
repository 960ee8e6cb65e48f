"""A programme's state: its cohorts and their rosters, folded from its own log.

``Programme.apply`` is the only way it changes and trusts the event: the rules
are checked when a command is decided (see ``commands``).
"""

from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from rooms.events import (
    PROGRAMME_EVENTS,
    CohortCreated,
    Event,
    LinkRevoked,
    PeopleAdded,
    PersonRemoved,
    PersonUpdated,
    ProgrammeCreated,
    ProgrammeDraft,
    decode_in,
)


class Person(msgspec.Struct):
    id: str
    name: str
    municipality: str
    title: str = ""
    email: str = ""
    role: str = "participant"  # or "facilitator"
    link: int = 1  # the personal link's generation; revoking makes a new one
    removed: bool = False

    def facilitates(self, facilitators: Collection[str]) -> bool:
        """Facilitator of a meeting whose facilitators are ``facilitators``: by role in
        the roster (every meeting of the cohort), or named for that meeting."""
        return self.role == "facilitator" or self.id in facilitators


class Cohort(msgspec.Struct):
    id: str
    name: str
    ends_on: str = ""  # ISO date; personal links stop working after it
    people: dict[str, Person] = msgspec.field(default_factory=dict)

    def roster(self) -> list[Person]:
        return sorted((p for p in self.people.values() if not p.removed),
                      key=lambda p: (p.name.casefold(), p.id))


class Programme(msgspec.Struct):
    id: str = ""
    name: str = ""
    created_at: int = 0
    seq: int = 0
    cohorts: dict[str, Cohort] = msgspec.field(default_factory=dict)

    def apply(self, event: Event) -> None:
        if event.seq != self.seq + 1:
            raise ValueError(f"Event {event.seq} does not follow {self.seq} in the log.")
        body = decode_in(PROGRAMME_EVENTS, event)
        _REDUCERS[type(body)](self, body, event.ts)
        self.seq = event.seq


def fold(events: Iterable[Event], state: Programme | None = None) -> Programme:
    state = state if state is not None else Programme()
    for event in events:
        state.apply(event)
    return state


P = TypeVar("P", bound=ProgrammeDraft)
Reducer = Callable[[Programme, P, int], None]
_REDUCERS: dict[type[ProgrammeDraft], Reducer[Any]] = {}


def reduces(cls: type[P]) -> Callable[[Reducer[P]], Reducer[P]]:
    """Register the programme's reducer of the event class ``cls``."""
    def register(reducer: Reducer[P]) -> Reducer[P]:
        _REDUCERS[cls] = reducer
        return reducer
    return register


def reduced() -> frozenset[type[ProgrammeDraft]]:
    return frozenset(_REDUCERS)


@reduces(ProgrammeCreated)
def _created(p: Programme, b: ProgrammeCreated, ts: int) -> None:
    p.id, p.name, p.created_at = b.id, b.name, ts


@reduces(CohortCreated)
def _cohort_created(p: Programme, b: CohortCreated, ts: int) -> None:
    p.cohorts[b.id] = Cohort(b.id, b.name, "" if b.ends_on is UNSET else b.ends_on)


@reduces(PeopleAdded)
def _imported(p: Programme, b: PeopleAdded, ts: int) -> None:
    cohort = p.cohorts[b.cohort]
    for row in b.people:
        person = msgspec.convert(row, Person)
        cohort.people[person.id] = person


@reduces(PersonUpdated)
def _updated(p: Programme, b: PersonUpdated, ts: int) -> None:
    person = p.cohorts[b.cohort].people[b.id]
    for name in ("name", "municipality", "title", "email", "role"):
        value = getattr(b, name)
        if value is not UNSET:
            setattr(person, name, value)


@reduces(PersonRemoved)
def _removed(p: Programme, b: PersonRemoved, ts: int) -> None:
    p.cohorts[b.cohort].people[b.id].removed = True


@reduces(LinkRevoked)
def _revoked(p: Programme, b: LinkRevoked, ts: int) -> None:
    p.cohorts[b.cohort].people[b.id].link += 1
