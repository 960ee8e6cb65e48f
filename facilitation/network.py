"""Who met whom: the figures behind the "network" view of a programme."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import UnknownParticipant
from facilitation.people import same_municipality

Round = Sequence[Sequence[str]]


@dataclass(frozen=True)
class ParticipantReach:
    """The people and other municipalities one participant has met in groups."""

    person_id: str
    people_met: frozenset[str]
    municipalities_met: frozenset[str]

    @property
    def people_count(self) -> int:
        return len(self.people_met)

    @property
    def municipality_count(self) -> int:
        return len(self.municipalities_met)


@dataclass(frozen=True)
class RoundMix:
    """How well one round mixed people."""

    round_index: int
    group_sizes: tuple[int, ...]
    same_municipality_pairs: int
    repeat_pairs: int


@dataclass(frozen=True)
class NetworkReport:
    participants: Mapping[str, ParticipantReach]
    rounds: tuple[RoundMix, ...]


def analyse_network(
    rounds: Sequence[Round],
    municipality_of: Mapping[str, str],
    *,
    prior: Encounters = NO_ENCOUNTERS,
) -> NetworkReport:
    """Reach per participant and mix figures per round, oldest round first."""
    return NetworkReport(
        participant_reach(rounds, municipality_of),
        tuple(round_mix(rounds, municipality_of, prior=prior)),
    )


def participant_reach(
    rounds: Sequence[Round], municipality_of: Mapping[str, str]
) -> dict[str, ParticipantReach]:
    """Per participant: distinct people met, and distinct municipalities other than their own."""
    met: dict[str, set[str]] = {person_id: set() for person_id in municipality_of}
    for group in _all_groups(rounds):
        _require_known(group, municipality_of)
        for a, b in combinations(group, 2):
            met[a].add(b)
            met[b].add(a)
    return {
        person_id: _reach(person_id, others, municipality_of) for person_id, others in met.items()
    }


def round_mix(
    rounds: Sequence[Round],
    municipality_of: Mapping[str, str],
    *,
    prior: Encounters = NO_ENCOUNTERS,
) -> list[RoundMix]:
    """Per round: group sizes, same-municipality pairs, and pairs who had met before.

    "Before" means in ``prior`` (history older than ``rounds``) or in an
    earlier round of ``rounds``.
    """
    history = prior
    figures: list[RoundMix] = []
    for index, groups in enumerate(rounds):
        figures.append(_mix_of(index, groups, municipality_of, history))
        history = history.merged(groups)
    return figures


def same_municipality_pairs(groups: Round, municipality_of: Mapping[str, str]) -> int:
    """Pairs sharing a group who work for the same municipality."""
    count = 0
    for group in groups:
        _require_known(group, municipality_of)
        count += sum(same_municipality(municipality_of[a], municipality_of[b])
                     for a, b in combinations(group, 2))
    return count


def repeat_pairs(groups: Round, history: Encounters) -> int:
    """Pairs sharing a group who already shared one according to ``history``."""
    return sum(history.count(a, b) > 0 for group in groups for a, b in combinations(group, 2))


def _mix_of(
    index: int, groups: Round, municipality_of: Mapping[str, str], history: Encounters
) -> RoundMix:
    return RoundMix(
        round_index=index,
        group_sizes=tuple(len(group) for group in groups),
        same_municipality_pairs=same_municipality_pairs(groups, municipality_of),
        repeat_pairs=repeat_pairs(groups, history),
    )


def _reach(
    person_id: str, others: set[str], municipality_of: Mapping[str, str]
) -> ParticipantReach:
    own = municipality_of[person_id]
    municipalities = {municipality_of[other] for other in others} - {own}
    return ParticipantReach(person_id, frozenset(others), frozenset(municipalities))


def _all_groups(rounds: Sequence[Round]) -> list[Sequence[str]]:
    return [group for groups in rounds for group in groups]


def _require_known(group: Sequence[str], municipality_of: Mapping[str, str]) -> None:
    for person_id in group:
        if person_id not in municipality_of:
            raise UnknownParticipant(
                f"Participant {person_id!r} appears in a group but has no known municipality."
            )
