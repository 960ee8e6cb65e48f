"""Invariants of session plans on random rosters (hypothesis, bounded and derandomized)."""

from collections import Counter
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.encounters import Encounters
from facilitation.people import Person
from facilitation.schedule import Constraints, Plan, plan_session

BOUNDED = settings(max_examples=40, deadline=None, database=None, derandomize=True)
ITERATIONS = 200


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[Person], int, int, int, Encounters]:
    counts = draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))
    blanks = draw(st.integers(0, 3))
    people = [Person(f"m{m}-{k}", f"m{m}") for m, n in enumerate(counts) for k in range(n)]
    people += [Person(f"blank-{k}", " " * (k % 2)) for k in range(blanks)]
    group_count = draw(st.integers(1, max(1, len(people) // 2)))
    rounds = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32))
    earlier = draw(st.lists(st.lists(st.sampled_from(people), min_size=2, max_size=4),
                            max_size=4))
    history = Encounters.from_groups([[p.id for p in g] for g in earlier])
    return people, group_count, rounds, seed, history


def repeats_of(plan: Plan, history: Encounters) -> int:
    seen = Counter(history.counts)
    total = 0
    for groups in plan.rounds:
        for group in groups:
            for a, b in combinations(group, 2):
                key = frozenset((a, b))
                total += seen[key] > 0
                seen[key] += 1
    return total


@BOUNDED
@given(sessions())
def test_everyone_once_per_round_in_balanced_groups_with_the_fewest_colleagues(
    session: tuple[list[Person], int, int, int, Encounters],
) -> None:
    people, group_count, rounds, seed, history = session
    plan = plan_session(people, rounds=rounds, group_count=group_count, seed=seed,
                        encounters=history, iterations=ITERATIONS)
    assert len(plan.rounds) == rounds
    for groups in plan.rounds:
        assert len(groups) == group_count
        sizes = [len(g) for g in groups]
        assert max(sizes) - min(sizes) <= 1
        assert Counter(pid for g in groups for pid in g) == Counter(p.id for p in people)
    assert plan.colleague_pairs == plan.colleague_minimum
    assert plan.repeats == repeats_of(plan, history)
    assert plan.repeat_bound <= plan.repeats
    # The minimum spreads every known municipality evenly; blank ones are nobody's colleagues.
    sizes = Counter(p.municipality for p in people if p.municipality.strip())
    per_round = 0
    for m in sizes.values():
        base, extra = divmod(m, group_count)
        per_round += extra * base * (base + 1) // 2 + (group_count - extra) * base * (base - 1) // 2
    assert plan.colleague_minimum == per_round * rounds
    assert plan == plan_session(list(people), rounds=rounds, group_count=group_count,
                                seed=seed, encounters=history, iterations=ITERATIONS)


@settings(BOUNDED, max_examples=25)
@given(sessions(), st.data())
def test_together_and_apart_hold_in_every_round(
    session: tuple[list[Person], int, int, int, Encounters], data: st.DataObject,
) -> None:
    people, group_count, rounds, seed, history = session
    ids = [p.id for p in people]
    if len(ids) < 3 * group_count or group_count < 2:
        return  # groups of three or more always leave room for both constraints
    a, b, c, d = data.draw(st.permutations(ids))[:4]
    wanted = Constraints(together=((a, b),), apart=((c, d),))
    plan = plan_session(people, rounds=rounds, group_count=group_count, seed=seed,
                        encounters=history, constraints=wanted, iterations=ITERATIONS)
    for groups in plan.rounds:
        assert any({a, b} <= set(g) for g in groups)
        assert not any({c, d} <= set(g) for g in groups)


@BOUNDED
@given(sessions())
def test_larger_seats_rotate_fairly(
    session: tuple[list[Person], int, int, int, Encounters],
) -> None:
    people, group_count, rounds, seed, history = session
    plan = plan_session(people, rounds=rounds, group_count=group_count, seed=seed,
                        encounters=history, constraints=Constraints(fair_seats=True),
                        iterations=ITERATIONS)
    seats = Counter(pid for groups in plan.rounds for g in groups
                    if len(g) > min(map(len, groups)) for pid in g)
    counts = [seats[p.id] for p in people]
    assert max(counts) - min(counts) <= 1 and plan.seat_spread == max(counts) - min(counts)
