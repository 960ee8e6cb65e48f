import pytest

from facilitation.encounters import Encounters
from facilitation.exceptions import UnknownParticipant
from facilitation.network import (
    analyse_network,
    participant_reach,
    repeat_pairs,
    round_mix,
    same_municipality_pairs,
)

MUNICIPALITY_OF = {"a": "Vasa", "b": "Vasa", "c": "Borgå", "d": "Esbo", "e": "Lojo"}
ROUNDS = [
    [["a", "b", "c"], ["d", "e"]],
    [["a", "c", "d"], ["b", "e"]],
]


def test_reach_counts_distinct_people_and_other_municipalities() -> None:
    reach = participant_reach(ROUNDS, MUNICIPALITY_OF)
    assert reach["a"].people_met == {"b", "c", "d"}
    assert reach["a"].municipalities_met == {"Borgå", "Esbo"}
    assert (reach["a"].people_count, reach["a"].municipality_count) == (3, 2)
    assert reach["e"].people_met == {"d", "b"}
    assert reach["e"].municipalities_met == {"Esbo", "Vasa"}


def test_someone_who_never_joined_a_group_met_nobody() -> None:
    reach = participant_reach(ROUNDS, {**MUNICIPALITY_OF, "f": "Ingå"})
    assert reach["f"].people_count == 0
    assert reach["f"].municipality_count == 0


def test_round_figures_count_colleagues_and_repeats() -> None:
    figures = round_mix(ROUNDS, MUNICIPALITY_OF)
    assert [f.round_index for f in figures] == [0, 1]
    assert figures[0].group_sizes == (3, 2)
    assert figures[0].same_municipality_pairs == 1  # a and b are both from Vasa
    assert figures[0].repeat_pairs == 0
    assert figures[1].same_municipality_pairs == 0
    assert figures[1].repeat_pairs == 1  # a and c met in round 0


def test_prior_history_counts_as_earlier_encounters() -> None:
    prior = Encounters.from_groups([["b", "e"], ["d", "e"]])
    figures = round_mix(ROUNDS, MUNICIPALITY_OF, prior=prior)
    assert figures[0].repeat_pairs == 1  # d and e
    assert figures[1].repeat_pairs == 2  # a-c from round 0, b-e from the prior history


def test_pair_counters_directly() -> None:
    groups = [["a", "b", "c"]]
    assert same_municipality_pairs(groups, MUNICIPALITY_OF) == 1
    assert repeat_pairs(groups, Encounters.from_groups([["a", "c"], ["b", "c"]])) == 2


def test_report_combines_both_views() -> None:
    report = analyse_network(ROUNDS, MUNICIPALITY_OF)
    assert set(report.participants) == set(MUNICIPALITY_OF)
    assert [f.repeat_pairs for f in report.rounds] == [0, 1]


def test_people_without_a_municipality_are_reported() -> None:
    with pytest.raises(UnknownParticipant, match="'x'"):
        participant_reach([[["a", "x"]]], MUNICIPALITY_OF)
    with pytest.raises(UnknownParticipant):
        round_mix([[["a", "x"]]], MUNICIPALITY_OF)
