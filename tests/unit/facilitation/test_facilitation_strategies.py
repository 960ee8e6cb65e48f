from collections import Counter

import pytest

from facilitation.assignment import keep, manual, random_groups
from facilitation.encounters import Encounters
from facilitation.exceptions import (
    AlreadyPlaced,
    DuplicateParticipant,
    InvalidMapping,
    NoGroups,
    NoPreviousRound,
    TooManyGroups,
    UnknownParticipant,
)
from facilitation.late_join import place_late_joiner
from facilitation.people import Person
from tests.unit.facilitation.facilitation_helpers import (
    colleague_pairs,
    flat,
    municipality_map,
    roster,
)


def test_random_groups_are_balanced_complete_and_seeded() -> None:
    people = roster(Vasa=5, Borgå=4, Hangö=2)
    groups = random_groups(people, group_count=3, seed=5)
    assert [len(group) for group in groups] == [4, 4, 3]
    assert sorted(flat(groups)) == sorted(p.id for p in people)
    assert random_groups(people, group_count=3, seed=5) == groups
    assert random_groups(people, group_count=3, seed=6) != groups


def test_random_groups_validate_the_group_count() -> None:
    with pytest.raises(TooManyGroups):
        random_groups(roster(Vasa=2), group_count=3, seed=0)


def test_manual_keeps_every_mapping() -> None:
    people = roster(Vasa=2, Borgå=2)
    mapping = {"Vasa-0": 1, "Vasa-1": 1, "Borgå-0": 0, "Borgå-1": 0}
    assert manual(people, mapping, 2) == [["Borgå-0", "Borgå-1"], ["Vasa-0", "Vasa-1"]]


def test_manual_puts_unmapped_people_in_the_smallest_groups() -> None:
    people = roster(Vasa=3, Borgå=3, Pargas=3)
    mapping = {"Vasa-0": 0, "Borgå-0": 0, "Pargas-0": 0, "Vasa-1": 1}
    groups = manual(people, mapping, 3, seed=4)
    assert [len(group) for group in groups] == [3, 3, 3]
    assert {"Vasa-0", "Borgå-0", "Pargas-0"} == set(groups[0])
    assert "Vasa-1" in groups[1]
    assert colleague_pairs(groups, people) == 0
    assert manual(people, mapping, 3, seed=4) == groups


def test_manual_with_empty_mapping_balances_everyone() -> None:
    people = roster(Vasa=4, Borgå=3)
    groups = manual(people, {}, 2)
    assert sorted(len(group) for group in groups) == [3, 4]
    assert sorted(flat(groups)) == sorted(p.id for p in people)


def test_manual_rejects_unknown_people_and_bad_indices() -> None:
    people = roster(Vasa=2)
    with pytest.raises(UnknownParticipant, match="'ghost'"):
        manual(people, {"ghost": 0}, 1)
    with pytest.raises(InvalidMapping, match="numbered 0 to 1"):
        manual(people, {"Vasa-0": 2}, 2)
    with pytest.raises(InvalidMapping):
        manual(people, {"Vasa-0": -1}, 2)
    with pytest.raises(TooManyGroups):
        manual(people, {}, 3)


def test_keep_reopens_groups_without_people_who_left() -> None:
    people = roster(Vasa=2, Borgå=2)
    previous = [["Vasa-0", "Borgå-0", "gone"], ["Vasa-1", "Borgå-1"]]
    assert keep(previous, people) == [["Vasa-0", "Borgå-0"], ["Vasa-1", "Borgå-1"]]


def test_keep_places_newcomers_in_the_smallest_fitting_group() -> None:
    people = roster(Vasa=2, Borgå=2, Esbo=1, Lojo=1)
    previous = [["Vasa-0", "Borgå-0"], ["Vasa-1", "Esbo-0", "Borgå-1"]]
    groups = keep(previous, people)
    assert groups[0] == ["Vasa-0", "Borgå-0", "Lojo-0"]
    assert groups[1] == ["Vasa-1", "Esbo-0", "Borgå-1"]


def test_keep_needs_a_previous_round() -> None:
    with pytest.raises(NoPreviousRound) as caught:
        keep([], roster(Vasa=1))
    assert caught.value.code == "no_previous_round"
    with pytest.raises(NoPreviousRound):
        keep(None, roster(Vasa=1))


def test_keep_rejects_a_person_in_two_groups() -> None:
    with pytest.raises(DuplicateParticipant):
        keep([["Vasa-0"], ["Vasa-0"]], roster(Vasa=1))


def test_late_joiner_goes_to_the_smallest_group() -> None:
    groups = [["a", "b", "c"], ["d", "e"], ["f", "g", "h"]]
    municipality_of = dict.fromkeys("abcdefgh", "Vasa")
    person = Person("z", "Vasa")
    assert place_late_joiner(groups, person, municipality_of=municipality_of) == 1


def test_late_joiner_avoids_colleagues_then_earlier_partners() -> None:
    groups = [["a", "b"], ["c", "d"], ["e", "f"]]
    municipality_of = {"a": "Vasa", "b": "Borgå", "c": "Esbo", "d": "Lojo", "e": "Ingå"}
    municipality_of["f"] = "Pargas"
    history = Encounters.from_groups([["z", "c"]])
    person = Person("z", "Vasa")
    index = place_late_joiner(groups, person, municipality_of=municipality_of, encounters=history)
    assert index == 2


def test_late_joiner_ties_go_to_the_lowest_index() -> None:
    groups = [["a"], ["b"]]
    municipality_of = {"a": "Esbo", "b": "Lojo"}
    assert place_late_joiner(groups, Person("z", "Vasa"), municipality_of=municipality_of) == 0


def test_late_joiner_errors() -> None:
    with pytest.raises(NoGroups):
        place_late_joiner([], Person("z", "Vasa"), municipality_of={})
    with pytest.raises(AlreadyPlaced, match="already in a group"):
        place_late_joiner([["z"]], Person("z", "Vasa"), municipality_of={"z": "Vasa"})


def test_keep_spreads_several_newcomers() -> None:
    people = roster(Vasa=4, Nykarleby=3)
    previous = [["Vasa-0", "Nykarleby-0"], ["Vasa-1", "Nykarleby-1"]]
    groups = keep(previous, people)
    assert Counter(len(group) for group in groups) == {4: 1, 3: 1}
    assert sorted(flat(groups)) == sorted(p.id for p in people)
    assert municipality_map(people)["Nykarleby-2"] == "Nykarleby"
