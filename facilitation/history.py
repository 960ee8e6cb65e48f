"""Who has met whom across a programme cohort.

Participant ids belong to one meeting; a returning participant is known
across meetings by their *person key*: the roster person their personal link
names, whatever they typed. A guest (open link) is only ever themselves: two
guests with one name are two people. Encounters are counted on person keys,
then read back as the ids of the meeting at hand.

Meetings count in the order of their start times: a meeting's figures and its
``mix`` history see only the meetings that started before it.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import combinations

from facilitation.encounters import Encounters, pair
from facilitation.network import participant_reach, round_mix
from facilitation.session import Session
from rooms import Participant
from rooms.municipalities import canonical_name, municipality_id


def person_key(p: Participant) -> str:
    return f"person:{p.person}" if p.person else f"guest:{p.id}"


def meeting_order(s: Session) -> tuple[float, int, str]:
    """Where a meeting stands among its cohort: by start time (then creation, id)."""
    try:
        starts = datetime.fromisoformat(s.meeting.starts_at).timestamp()
    except (ValueError, TypeError):
        starts = s.meeting.created_at / 1000
    return (starts, s.meeting.created_at, s.id)


def earlier(current: Session, sessions: Iterable[Session]) -> list[Session]:
    """The ``sessions`` that started before ``current``, oldest first."""
    mark = meeting_order(current)
    return sorted((s for s in sessions if s.id != current.id and meeting_order(s) < mark),
                  key=meeting_order)


def opened_groups(session: Session) -> list[list[list[str]]]:
    """Every opened round's groups, oldest first, as participant ids: everyone who
    was in a group's room while the round was open (late arrivals and moves too)."""
    return [r.met or r.groups for r in session.rounds if r.opened_at is not None]


def larger_seats(session: Session) -> dict[str, int]:
    """How many times each participant sat in one of a round's larger groups."""
    seats: dict[str, int] = {}
    for r in session.rounds:
        if r.opened_at is None or not r.groups:
            continue
        sizes = [len(g) for g in r.groups if g]
        for group in r.groups:
            if sizes and len(group) > min(sizes):
                for pid in group:
                    seats[pid] = seats.get(pid, 0) + 1
    return seats


def cohort_encounters(current: Session, others: Iterable[Session]) -> Encounters:
    """Encounters among the current meeting's participants, counting every round of
    the current meeting and of the ``others`` that started before it.

    Within the current meeting people are their participant ids: two participants
    with one name and municipality stay two people. Earlier meetings are matched
    by person key.
    """
    others = earlier(current, others)
    keys_here = {p.id: person_key(p) for p in current.meeting.present()}
    ids_by_key: dict[str, list[str]] = {}
    for pid, key in keys_here.items():
        ids_by_key.setdefault(key, []).append(pid)
    counts: dict[frozenset[str], int] = {}
    for session in others:
        key_of = {pid: person_key(p) for pid, p in session.meeting.participants.items()}
        for groups in opened_groups(session):
            for group in groups:
                _count(counts, [key_of[pid] for pid in group if pid in key_of])
    by_ids: dict[frozenset[str], int] = {}
    for key_pair, times in counts.items():
        a, b = tuple(key_pair)
        for ida in ids_by_key.get(a, ()):
            for idb in ids_by_key.get(b, ()):
                by_ids[pair(ida, idb)] = times
    here: dict[frozenset[str], int] = {}
    for groups in opened_groups(current):
        for group in groups:
            _count(here, [pid for pid in group if pid in keys_here])
    for ids, times in here.items():
        by_ids[ids] = by_ids.get(ids, 0) + times
    return Encounters(by_ids)


def _count(counts: dict[frozenset[str], int], keys: Sequence[str]) -> None:
    for a, b in combinations(sorted(set(keys)), 2):
        counts[frozenset((a, b))] = counts.get(frozenset((a, b)), 0) + 1


def network_report(current: Session, others: Iterable[Session]) -> dict[str, object]:
    """Per participant of ``current``: the distinct people and municipalities met in
    groups across the cohort up to it; per round of ``current``: its mix figures.
    Meetings that started later are left out, so they never change these figures."""
    sessions = [*earlier(current, others), current]
    municipality_of: dict[str, str] = {}
    shown: dict[str, str] = {}
    rounds: list[list[list[str]]] = []
    for session in sessions:
        for p in session.meeting.participants.values():
            municipality_of[person_key(p)] = municipality_id(p.municipality)
            shown.setdefault(municipality_id(p.municipality), canonical_name(p.municipality))
        key_of = {pid: person_key(p) for pid, p in session.meeting.participants.items()}
        rounds += [[[key_of[pid] for pid in g] for g in groups]
                   for groups in opened_groups(session)]
    reach = participant_reach(rounds, municipality_of)
    people = []
    for p in current.meeting.participants.values():
        r = reach.get(person_key(p))
        met = sorted(shown[m] for m in r.municipalities_met) if r else []
        people.append({"id": p.id, "name": p.name, "municipality": p.municipality,
                       "person": p.person, "people_met": r.people_count if r else 0,
                       "municipalities_met": met})
    prior_rounds = len(rounds) - len(opened_groups(current))
    mixes = round_mix(rounds, municipality_of)[prior_rounds:]
    numbers = [r.number for r in current.rounds if r.opened_at is not None]
    return {"participants": people,
            "rounds": [{"number": n, "group_sizes": list(m.group_sizes),
                        "same_municipality_pairs": m.same_municipality_pairs,
                        "repeat_pairs": m.repeat_pairs}
                       for n, m in zip(numbers, mixes, strict=True)]}
