"""A programme's state: its cohorts and their rosters, folded from its own log.

``Programme.apply`` is the only way it changes and trusts the event: the rules
are checked when a command is decided (see ``commands``).
"""

from collections.abc import Callable, Iterable

import msgspec

from rooms.events import Event


class Person(msgspec.Struct):
    id: str
    name: str
    municipality: str
    title: str = ""
    email: str = ""
    role: str = "participant"  # or "facilitator"
    link: int = 1  # the personal link's generation; revoking makes a new one
    removed: bool = False


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
        reducer = _REDUCERS.get(event.type)
        if reducer is not None:
            reducer(self, event.data, event.ts)
        self.seq = event.seq


def fold(events: Iterable[Event], state: Programme | None = None) -> Programme:
    state = state if state is not None else Programme()
    for event in events:
        state.apply(event)
    return state


def _person(data: dict[str, object]) -> Person:
    return msgspec.convert(data, Person)


def _created(p: Programme, d: dict[str, object], ts: int) -> None:
    p.id, p.name, p.created_at = str(d["id"]), str(d["name"]), ts


def _cohort_created(p: Programme, d: dict[str, object], ts: int) -> None:
    p.cohorts[str(d["id"])] = Cohort(str(d["id"]), str(d["name"]), str(d.get("ends_on", "")))


def _imported(p: Programme, d: dict[str, object], ts: int) -> None:
    cohort = p.cohorts[str(d["cohort"])]
    for data in d["people"]:  # type: ignore[attr-defined]
        person = _person(data)
        cohort.people[person.id] = person


def _updated(p: Programme, d: dict[str, object], ts: int) -> None:
    person = p.cohorts[str(d["cohort"])].people[str(d["id"])]
    for name in ("name", "municipality", "title", "email", "role"):
        if name in d:
            setattr(person, name, d[name])


def _removed(p: Programme, d: dict[str, object], ts: int) -> None:
    p.cohorts[str(d["cohort"])].people[str(d["id"])].removed = True


def _revoked(p: Programme, d: dict[str, object], ts: int) -> None:
    p.cohorts[str(d["cohort"])].people[str(d["id"])].link += 1


_REDUCERS: dict[str, Callable[[Programme, dict[str, object], int], None]] = {
    "programme.created": _created,
    "cohort.created": _cohort_created,
    "people.added": _imported,
    "person.updated": _updated,
    "person.removed": _removed,
    "link.revoked": _revoked,
}
