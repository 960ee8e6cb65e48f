"""Which session plan a round needs, as plain data a worker process can run.

The server asks ``plan_request`` what to plan, runs ``PlanRequest.run`` off
its event loop (debounced after joins and leaves, cached until something
changes) and passes the ``Plan`` into ``breakouts.preview``, which logs the
plan's figures and the rounds after this one in the round's event. Replay
reads the groups from the log; nothing is planned twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facilitation.encounters import Encounters
from facilitation.history import larger_seats
from facilitation.late_join import place_late_joiner
from facilitation.people import Person, municipalities_of
from facilitation.rounds import Strategy
from facilitation.schedule import ITERATIONS, Constraints, Plan, plan_session
from facilitation.session import Session
from facilitation.sizing import resolve_group_count

MAX_PLANNED_ROUNDS = 12
WORK_BUDGET = 3_000_000
MIN_ITERATIONS = 500

Schedule = tuple[tuple[tuple[str, ...], ...], ...]


@dataclass(frozen=True)
class PlanRequest:
    """Everything ``plan_session`` needs, hashable and picklable."""

    people: tuple[Person, ...]
    rounds: int
    group_count: int
    seed: int
    encounters: tuple[tuple[str, str, int], ...]
    constraints: Constraints
    seats: tuple[tuple[str, int], ...]
    warm: Schedule | None
    iterations: int = ITERATIONS

    def run(self) -> Plan:
        history = Encounters({frozenset((a, b)): t for a, b, t in self.encounters})
        return plan_session(self.people, rounds=self.rounds, group_count=self.group_count,
                            seed=self.seed, encounters=history, constraints=self.constraints,
                            seats=dict(self.seats), warm=self.warm, iterations=self.iterations)


def planned_rounds(s: Session, rounds: int | None) -> tuple[int, Schedule | None] | None:
    """How many rounds to plan from this one on, and an earlier plan of them.

    The facilitator's number wins; else the rounds left of the last plan; else
    the breakout activities left on the agenda, from the running one on.
    """
    if rounds is not None:
        return min(rounds, MAX_PLANNED_ROUNDS), None
    last = s.last_opened()
    if last is not None and last.plan and last.plan.get("next"):
        following = tuple(tuple(tuple(g) for g in groups) for groups in last.plan["next"])
        return len(following), following
    agenda = s.agenda
    if agenda is not None and agenda.cursor is not None:
        left = [a for a in agenda.activities[agenda.cursor:] if a.get("kind") == "breakout"]
        if len(left) > 1:
            return min(len(left), MAX_PLANNED_ROUNDS), None
    return None


def plan_request(s: Session, *, strategy: Strategy, group_count: int | None,
                 group_size: int | None, rounds: int | None, people: Sequence[Person],
                 seed: int, encounters: Encounters,
                 iterations: int = ITERATIONS) -> PlanRequest | None:
    """The plan a mixed round needs, or None when today's single-round ``mix`` does."""
    if strategy is not Strategy.MIX or not people:
        return None
    constraints = s.constraints.constraints()
    wanted = planned_rounds(s, rounds)
    if wanted is None and constraints.empty:
        return None
    count, warm = wanted if wanted is not None else (1, None)
    ids = {p.id for p in people}
    pairs = tuple(sorted((min(a, b), max(a, b), t) for key, t in encounters.counts.items()
                         for a, b in [tuple(key)] if a in ids and b in ids))
    seats = tuple(sorted((pid, n) for pid, n in larger_seats(s).items() if pid in ids))
    # A search iteration costs about one pass over the people: large sessions search less.
    budget = min(iterations, max(MIN_ITERATIONS, WORK_BUDGET // (len(people) * count)))
    return PlanRequest(tuple(people), count,
                       resolve_group_count(len(people), group_count, group_size), seed,
                       pairs, constraints, seats, warm, budget)


def fit(groups: Sequence[Sequence[str]], people: Sequence[Person],
        encounters: Encounters) -> list[list[str]]:
    """Planned groups for the people here now: the absent dropped, newcomers placed."""
    here = {p.id for p in people}
    fitted = [[pid for pid in g if pid in here] for g in groups]
    placed = {pid for g in fitted for pid in g}
    municipality_of = municipalities_of(list(people))
    for person in people:
        if person.id not in placed:
            index = place_late_joiner(fitted, person, municipality_of=municipality_of,
                                      encounters=encounters)
            fitted[index].append(person.id)
    return fitted
