from collections import Counter

import pytest

from facilitation.assignment import mix, random_groups
from facilitation.encounters import Encounters
from facilitation.exceptions import (
    DuplicateParticipant,
    InvalidGroupCount,
    NoParticipants,
    TooManyGroups,
)
from facilitation.people import Person
from tests.unit.facilitation.facilitation_helpers import (
    colleague_pairs,
    flat,
    repeats,
    roster,
    spread,
)


def test_every_group_gets_one_person_from_each_municipality() -> None:
    people = roster(Vasa=3, Borgå=3, Jakobstad=3, Raseborg=3)
    groups = mix(people, group_count=3, seed=1)
    assert [len(group) for group in groups] == [4, 4, 4]
    for group in groups:
        assert sorted(p.split("-")[0] for p in group) == ["Borgå", "Jakobstad", "Raseborg", "Vasa"]


def test_larger_groups_come_first_and_nobody_is_lost() -> None:
    people = roster(Vasa=4, Borgå=3, Kronoby=3, Lovisa=1)
    groups = mix(people, group_count=3, seed=7)
    assert [len(group) for group in groups] == [4, 4, 3]
    assert sorted(flat(groups)) == sorted(p.id for p in people)
    assert colleague_pairs(groups, people) == 1  # Vasa has 4 people for 3 groups


def test_oversized_municipality_is_spread_as_evenly_as_possible() -> None:
    people = roster(Helsingfors=7, Esbo=2)
    groups = mix(people, group_count=3, seed=3)
    assert sorted(spread(groups, people, "Helsingfors")) == [2, 2, 3]
    assert sorted(spread(groups, people, "Esbo")) == [0, 1, 1]
    assert colleague_pairs(groups, people) == 3 + 1 + 1


@pytest.mark.parametrize("seed", range(5))
def test_second_round_avoids_every_earlier_partner_when_possible(seed: int) -> None:
    people = [Person(f"p{i}", f"m{i}") for i in range(16)]
    first = [["p0", "p1", "p2", "p3"], ["p4", "p5", "p6", "p7"]]
    first += [["p8", "p9", "p10", "p11"], ["p12", "p13", "p14", "p15"]]
    history = Encounters.from_groups(first)
    second = mix(people, group_count=4, seed=seed, encounters=history)
    assert repeats(second, history) == 0


def _six_rounds(people: list[Person], group_count: int, strategy: str) -> tuple[int, int]:
    """(colleague pairs, repeat pairs) summed over six rounds with a growing history."""
    history, colleagues, repeated = Encounters(), 0, 0
    for round_no in range(6):
        if strategy == "mix":
            groups = mix(people, group_count=group_count, seed=round_no, encounters=history)
        else:
            groups = random_groups(people, group_count=group_count, seed=round_no)
        colleagues += colleague_pairs(groups, people)
        repeated += repeats(groups, history)
        history = history.merged(groups)
    return colleagues, repeated


def test_programme_of_six_rounds_mixes_far_better_than_random() -> None:
    people = [Person(f"p{i}", f"m{i % 12}") for i in range(40)]
    mixed = _six_rounds(people, 10, "mix")
    randomised = _six_rounds(people, 10, "random")
    assert mixed[0] == 0
    assert randomised[1] >= 30
    assert mixed[1] * 5 <= randomised[1]


def test_tight_cohort_still_repeats_much_less_than_random() -> None:
    # 24 people, 6 municipalities, groups of 4: everyone may meet only 20 others.
    people = [Person(f"p{i}", f"m{i % 6}") for i in range(24)]
    mixed = _six_rounds(people, 6, "mix")
    randomised = _six_rounds(people, 6, "random")
    assert mixed[0] == 0
    assert mixed[1] * 3 <= randomised[1]


def test_same_seed_same_groups_and_seeds_matter() -> None:
    people = roster(Vasa=5, Borgå=5, Kimitoön=4, Pargas=4, Närpes=2)
    history = Encounters.from_groups(random_groups(people, group_count=5, seed=11))
    first = mix(people, group_count=5, seed=42, encounters=history)
    assert mix(people, group_count=5, seed=42, encounters=history) == first
    variants = {str(mix(people, group_count=5, seed=s, encounters=history)) for s in range(6)}
    assert len(variants) > 1


def test_encounters_with_absent_people_are_ignored() -> None:
    people = roster(Vasa=2, Borgå=2)
    history = Encounters.from_groups([["Vasa-0", "someone-who-left"]])
    groups = mix(people, group_count=2, seed=0, encounters=history)
    assert sorted(flat(groups)) == sorted(p.id for p in people)


def test_one_group_holds_everyone() -> None:
    people = roster(Vasa=2, Borgå=1)
    assert sorted(mix(people, group_count=1, seed=0)[0]) == ["Borgå-0", "Vasa-0", "Vasa-1"]


def test_thousand_people_in_groups_of_five_are_fully_mixed() -> None:
    people = [Person(f"p{i}", f"m{i % 60}") for i in range(1000)]
    history = Encounters()
    for round_no in range(3):
        history = history.merged(random_groups(people, group_count=200, seed=round_no))
    groups = mix(people, group_count=200, seed=9, encounters=history)
    assert Counter(len(group) for group in groups) == {5: 200}
    assert colleague_pairs(groups, people) == 0
    assert repeats(groups, history) == 0


def test_rejects_empty_and_duplicate_rosters() -> None:
    with pytest.raises(NoParticipants):
        mix([], group_count=1, seed=0)
    with pytest.raises(DuplicateParticipant, match="more than once"):
        mix([Person("a", "x"), Person("a", "y")], group_count=1, seed=0)


def test_rejects_bad_group_counts() -> None:
    people = roster(Vasa=3)
    with pytest.raises(InvalidGroupCount):
        mix(people, group_count=0, seed=0)
    with pytest.raises(TooManyGroups):
        mix(people, group_count=4, seed=0)
