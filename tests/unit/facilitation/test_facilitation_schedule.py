"""Planning a whole session: zero repeats where possible, bounds, constraints."""

from collections import Counter
from itertools import combinations

import pytest

from facilitation.encounters import Encounters
from facilitation.exceptions import InfeasibleConstraint, InvalidConstraint
from facilitation.late_join import place_late_joiner
from facilitation.network import same_municipality_pairs
from facilitation.people import Person
from facilitation.schedule import Constraints, Plan, plan_session

PROGRAMME = (7, 6, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1)  # 40 people, 12 municipalities


def people_of(sizes: tuple[int, ...] | list[int]) -> list[Person]:
    return [Person(f"m{m}-{k}", f"m{m}") for m, size in enumerate(sizes) for k in range(size)]


def pair_counts(plan: Plan) -> Counter[frozenset[str]]:
    return Counter(frozenset(p) for groups in plan.rounds for g in groups
                   for p in combinations(g, 2))


def test_forty_people_eight_rounds_without_a_repeat() -> None:
    """Round by round, mix repeats pairs from round 7; the whole session has none."""
    plan = plan_session(people_of(PROGRAMME), rounds=8, group_count=10, seed=1)
    assert plan.repeats == 0 and plan.repeat_bound == 0 and plan.optimal
    assert plan.colleague_pairs == plan.colleague_minimum == 0
    assert max(pair_counts(plan).values()) == 1
    assert plan.fewest_met == 24
    everyone = sorted(p.id for p in people_of(PROGRAMME))
    for groups in plan.rounds:
        assert sorted(pid for g in groups for pid in g) == everyone


def test_uneven_groups_and_a_municipality_larger_than_the_group_count() -> None:
    sizes = [8, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # 53
    plan = plan_session(people_of(sizes), rounds=5, group_count=10, seed=3)
    assert plan.colleague_minimum == 0 and plan.colleague_pairs == 0
    assert plan.repeats == 0
    for groups in plan.rounds:
        assert {len(g) for g in groups} == {5, 6}
    # Nine colleagues, eight groups: one pair per round is the minimum, never more.
    tight = plan_session(people_of([9, 5, 4, 4, 3, 3, 3, 2, 2, 2] + [1] * 8), rounds=4,
                         group_count=8, seed=3)
    assert tight.colleague_pairs == tight.colleague_minimum == 4
    assert tight.repeats == tight.repeat_bound == 0


def test_a_transversal_design_schedules_thirty_two_people_for_eight_rounds() -> None:
    plan = plan_session([Person(f"p{i}", f"m{i}") for i in range(32)], rounds=8,
                        group_count=8, seed=0)
    assert plan.start == "design" and plan.repeats == 0 and plan.iterations == 0


def test_an_affine_plane_meets_everyone_exactly_once() -> None:
    people = [Person(f"p{i}", "") for i in range(16)]
    plan = plan_session(people, rounds=5, group_count=4, seed=0)
    assert plan.repeats == 0
    assert set(pair_counts(plan).values()) == {1} and len(pair_counts(plan)) == 120


def test_the_lower_bound_is_printed_and_reached_where_repeats_are_forced() -> None:
    # Nine people in threes: four rounds meet everyone, the fifth repeats 9 pairs.
    plan = plan_session([Person(f"p{i}", f"m{i}") for i in range(9)], rounds=5,
                        group_count=3, seed=2)
    assert plan.repeat_bound == 9
    assert plan.repeats == 9 and plan.optimal


def test_the_bound_counts_the_first_rounds_groups_spread_over_later_rounds() -> None:
    plan = plan_session([Person(f"p{i}", f"m{i}") for i in range(12)], rounds=3,
                        group_count=3, seed=1)
    assert plan.repeat_bound == 6 and plan.repeats == 6 and plan.optimal


def test_earlier_encounters_count_as_repeats() -> None:
    people = people_of([1] * 12)
    history = Encounters.from_groups([[p.id for p in people[:6]], [p.id for p in people[6:]]])
    plan = plan_session(people, rounds=2, group_count=6, seed=5, encounters=history)
    assert plan.repeats == 0
    assert all(history.count(a, b) == 0 for g in plan.rounds[0] for a, b in combinations(g, 2))


def test_the_same_seed_gives_the_same_plan() -> None:
    people = people_of([5, 4, 4, 3, 3, 2, 2, 1])
    first = plan_session(people, rounds=4, group_count=6, seed=11)
    assert plan_session(list(people), rounds=4, group_count=6, seed=11) == first


def test_together_and_apart_are_honoured_every_round() -> None:
    people = people_of([4, 4, 3, 3, 2, 2, 2])
    wanted = Constraints(together=(("m0-0", "m1-0"),), apart=(("m2-0", "m3-0"),))
    plan = plan_session(people, rounds=4, group_count=5, seed=1, constraints=wanted,
                        iterations=800)
    for groups in plan.rounds:
        assert any({"m0-0", "m1-0"} <= set(g) for g in groups)
        assert not any({"m2-0", "m3-0"} <= set(g) for g in groups)


def test_infeasible_constraints_name_the_constraint() -> None:
    people = people_of([1] * 6)
    with pytest.raises(InfeasibleConstraint, match="m0-0 and m1-0"):
        plan_session(people, rounds=1, group_count=2, seed=1, constraints=Constraints(
            together=(("m0-0", "m1-0"),), apart=(("m0-0", "m1-0"),)))
    with pytest.raises(InfeasibleConstraint, match="m0-0, m1-0, m2-0, m3-0"):
        plan_session(people, rounds=1, group_count=2, seed=1, constraints=Constraints(
            together=(("m0-0", "m1-0"), ("m1-0", "m2-0"), ("m2-0", "m3-0"))))
    # Three people pairwise apart cannot fit into two groups.
    with pytest.raises(InfeasibleConstraint, match="apart"):
        plan_session(people, rounds=1, group_count=2, seed=1, constraints=Constraints(
            apart=(("m0-0", "m1-0"), ("m1-0", "m2-0"), ("m0-0", "m2-0"))))
    with pytest.raises(InvalidConstraint):
        plan_session(people, rounds=1, group_count=2, seed=1,
                     constraints=Constraints(apart=(("m0-0", "m0-0"),)))


def test_fair_rotation_of_the_larger_seats() -> None:
    people = people_of([2, 2, 2, 2, 2, 1, 1, 1, 1])  # 14 people in 4 groups: 4, 4, 3, 3
    plan = plan_session(people, rounds=6, group_count=4, seed=4,
                        constraints=Constraints(fair_seats=True), iterations=800)
    seats = Counter(pid for groups in plan.rounds for g in groups if len(g) == 4 for pid in g)
    counts = [seats.get(p.id, 0) for p in people]
    assert max(counts) - min(counts) <= 1 and plan.seat_spread <= 1


def test_replanning_after_a_join_and_a_leave_starts_from_the_earlier_plan() -> None:
    people = people_of(PROGRAMME)
    plan = plan_session(people, rounds=6, group_count=10, seed=1)
    now = [p for p in people if p.id != "m0-0"] + [Person("new", "m99")]
    again = plan_session(now, rounds=5, group_count=10, seed=2, warm=plan.rounds[1:])
    assert again.start == "warm" and again.repeats == 0
    assert all("new" in {pid for g in groups for pid in g} for groups in again.rounds)


def test_a_blank_municipality_is_nobodys_colleague() -> None:
    assert same_municipality_pairs([["a", "b"]], {"a": "", "b": " "}) == 0
    assert same_municipality_pairs([["a", "b"]], {"a": "Vasa", "b": " vasa"}) == 1
    groups = [["a"], ["b"]]
    index = place_late_joiner(groups, Person("c", ""), municipality_of={"a": "", "b": "Vasa"})
    assert index == 0  # a blank municipality is no reason to avoid group 0
    plan = plan_session([Person(f"p{i}", "") for i in range(8)], rounds=1, group_count=2, seed=1)
    assert plan.colleague_pairs == plan.colleague_minimum == 0


def test_free_swaps_give_the_person_who_meets_fewest_more_people() -> None:
    # Groups of 5 and 4: whoever sits only in groups of 4 meets fewest. Swaps that cost
    # no colleague and no repeat pass larger seats on to them.
    people = [Person(f"p{i}", f"m{i % 13}") for i in range(40)]
    plan = plan_session(people, rounds=4, group_count=9, seed=0)
    assert plan.repeats == 0 and plan.colleague_pairs == 0
    assert plan.fewest_met >= 13 and plan.seat_spread <= 3
