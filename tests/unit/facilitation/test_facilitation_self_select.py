import pytest

from facilitation.encounters import Encounters
from facilitation.exceptions import (
    DuplicateParticipant,
    GroupFull,
    InsufficientCapacity,
    InvalidCapacity,
    InvalidGroupCount,
    InvalidGroupIndex,
    UnknownParticipant,
)
from facilitation.self_select import SelfSelect
from tests.unit.facilitation.facilitation_helpers import colleague_pairs, flat, roster

IDS = ["a", "b", "c", "d", "e"]


def test_choices_are_recorded_in_a_new_state() -> None:
    opened = SelfSelect.open(IDS, group_count=2, capacity=3)
    chosen = opened.choose("a", 1).choose("b", 1)
    assert opened.unchosen() == IDS
    assert chosen.members(1) == ["a", "b"]
    assert chosen.unchosen() == ["c", "d", "e"]
    assert chosen.seats_left(1) == 1


def test_a_full_group_refuses_more() -> None:
    state = SelfSelect.open(IDS, group_count=2, capacity=2).choose("a", 0).choose("b", 0)
    with pytest.raises(GroupFull, match="Group 0 is full") as caught:
        state.choose("c", 0)
    assert caught.value.code == "group_full"


def test_changing_your_mind_frees_your_seat() -> None:
    state = SelfSelect.open(IDS, group_count=2, capacity=1).choose("a", 0)
    assert state.choose("a", 0) == state
    moved = state.choose("a", 1)
    assert moved.members(0) == []
    assert moved.choose("b", 0).members(0) == ["b"]
    assert moved.withdraw("a").unchosen() == IDS


def test_only_participants_choose_existing_groups() -> None:
    state = SelfSelect.open(IDS, group_count=2, capacity=2)
    with pytest.raises(UnknownParticipant):
        state.choose("x", 0)
    with pytest.raises(InvalidGroupIndex, match="numbered 0 to 1"):
        state.choose("a", 2)
    assert state.join("x").choose("x", 0).members(0) == ["x"]


def test_open_validates_its_arguments() -> None:
    with pytest.raises(InvalidGroupCount):
        SelfSelect.open(IDS, group_count=0, capacity=2)
    with pytest.raises(InvalidCapacity):
        SelfSelect.open(IDS, group_count=2, capacity=0)
    with pytest.raises(DuplicateParticipant):
        SelfSelect.open(["a", "a"], group_count=1, capacity=2)


def test_finalize_keeps_choices_and_fills_groups_with_room() -> None:
    people = roster(Vasa=3, Borgå=3, Lovisa=2)
    ids = [p.id for p in people]
    state = SelfSelect.open(ids, group_count=3, capacity=3)
    state = state.choose("Vasa-0", 0).choose("Borgå-0", 0).choose("Lovisa-0", 0)
    state = state.choose("Vasa-1", 1)
    groups = state.finalize(people, seed=3, encounters=Encounters())
    assert set(groups[0]) == {"Vasa-0", "Borgå-0", "Lovisa-0"}
    assert "Vasa-1" in groups[1]
    assert sorted(len(group) for group in groups) == [2, 3, 3]
    assert sorted(flat(groups)) == sorted(ids)
    assert colleague_pairs(groups, people) == 0
    assert state.finalize(people, seed=3) == groups


def test_finalize_drops_people_who_left_and_places_newcomers() -> None:
    people = roster(Vasa=2, Borgå=2)
    state = SelfSelect.open(["Vasa-0", "gone"], group_count=2, capacity=2)
    state = state.choose("gone", 0).choose("Vasa-0", 0)
    groups = state.finalize(people, seed=0)
    assert "gone" not in flat(groups)
    assert "Vasa-0" in groups[0]
    assert sorted(flat(groups)) == sorted(p.id for p in people)


def test_finalize_refuses_when_there_are_not_enough_seats() -> None:
    people = roster(Vasa=5)
    state = SelfSelect.open([p.id for p in people], group_count=2, capacity=2)
    with pytest.raises(InsufficientCapacity):
        state.finalize(people, seed=0)
