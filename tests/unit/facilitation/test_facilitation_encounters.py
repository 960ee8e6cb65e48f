import pytest

from facilitation.encounters import Encounters, pair


def test_from_groups_counts_each_pair_in_a_group() -> None:
    encounters = Encounters.from_groups([["a", "b", "c"], ["d", "e"]])
    assert encounters.count("a", "b") == 1
    assert encounters.count("c", "a") == 1
    assert encounters.count("d", "e") == 1
    assert encounters.count("a", "d") == 0
    assert len(encounters) == 4


def test_merged_accumulates_without_touching_the_original() -> None:
    first = Encounters.from_groups([["a", "b"]])
    second = first.merged([["b", "a", "c"]])
    assert first.count("a", "b") == 1
    assert second.count("a", "b") == 2
    assert second.count("b", "c") == 1


def test_repeated_ids_in_a_group_are_not_a_pair() -> None:
    encounters = Encounters.from_groups([["a", "a", "b"]])
    assert encounters.count("a", "a") == 0
    assert encounters.count("a", "b") == 1


def test_counts_are_read_only_and_zero_counts_dropped() -> None:
    encounters = Encounters({pair("a", "b"): 2, pair("a", "c"): 0})
    with pytest.raises(TypeError):
        encounters.counts[pair("x", "y")] = 1  # type: ignore[index]
    assert len(encounters) == 1


def test_partners_lists_both_directions() -> None:
    encounters = Encounters.from_groups([["a", "b"], ["a", "b"], ["a", "c"]])
    assert encounters.partners() == {"a": {"b": 2, "c": 1}, "b": {"a": 2}, "c": {"a": 1}}


def test_equal_histories_compare_equal() -> None:
    assert Encounters.from_groups([["a", "b"]]) == Encounters.from_groups([["b", "a"]])
