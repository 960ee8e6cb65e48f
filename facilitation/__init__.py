"""Pure facilitation domain: breakout assignment, network figures and agendas.

No I/O, no clock, no asyncio: callers pass everything in, including seeds.
"""

from facilitation.agenda import Activity, ActivityKind, Agenda, FocusArea
from facilitation.agenda_templates import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TemplateInfo,
    list_templates,
    load_template,
    parse_template,
)
from facilitation.assignment import keep, manual, mix, random_groups
from facilitation.encounters import Encounters
from facilitation.exceptions import (
    AgendaEnded,
    AlreadyPlaced,
    DuplicateParticipant,
    FacilitationError,
    GroupFull,
    InsufficientCapacity,
    InvalidActivity,
    InvalidActivityIndex,
    InvalidAgenda,
    InvalidCapacity,
    InvalidDuration,
    InvalidGroupCount,
    InvalidGroupIndex,
    InvalidGroupSize,
    InvalidMapping,
    InvalidTemplate,
    NoGroups,
    NoParticipants,
    NoPreviousRound,
    TooManyGroups,
    UnknownParticipant,
    UnknownTemplate,
)
from facilitation.late_join import place_late_joiner
from facilitation.network import (
    NetworkReport,
    ParticipantReach,
    RoundMix,
    analyse_network,
    participant_reach,
    repeat_pairs,
    round_mix,
    same_municipality_pairs,
)
from facilitation.people import Person
from facilitation.self_select import SelfSelect
from facilitation.sizing import group_sizes

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Activity",
    "ActivityKind",
    "Agenda",
    "AgendaEnded",
    "AlreadyPlaced",
    "DuplicateParticipant",
    "Encounters",
    "FacilitationError",
    "FocusArea",
    "GroupFull",
    "InsufficientCapacity",
    "InvalidActivity",
    "InvalidActivityIndex",
    "InvalidAgenda",
    "InvalidCapacity",
    "InvalidDuration",
    "InvalidGroupCount",
    "InvalidGroupIndex",
    "InvalidGroupSize",
    "InvalidMapping",
    "InvalidTemplate",
    "NetworkReport",
    "NoGroups",
    "NoParticipants",
    "NoPreviousRound",
    "ParticipantReach",
    "Person",
    "RoundMix",
    "SelfSelect",
    "TemplateInfo",
    "TooManyGroups",
    "UnknownParticipant",
    "UnknownTemplate",
    "analyse_network",
    "group_sizes",
    "keep",
    "list_templates",
    "load_template",
    "manual",
    "mix",
    "parse_template",
    "participant_reach",
    "place_late_joiner",
    "random_groups",
    "repeat_pairs",
    "round_mix",
    "same_municipality_pairs",
]
