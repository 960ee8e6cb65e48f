"""Domain errors of the facilitation package.

Every error carries a stable ``code`` that the server adapter sends to the
client; the message is a full sentence meant for logs and facilitators.
"""

from __future__ import annotations


class FacilitationError(Exception):
    """Base class of every facilitation domain error."""

    code: str = "facilitation_error"


class NoParticipants(FacilitationError):
    code = "no_participants"


class DuplicateParticipant(FacilitationError):
    code = "duplicate_participant"


class UnknownParticipant(FacilitationError):
    code = "unknown_participant"


class AlreadyPlaced(FacilitationError):
    code = "already_placed"


class InvalidGroupCount(FacilitationError):
    code = "invalid_group_count"


class InvalidGroupSize(FacilitationError):
    code = "invalid_group_size"


class TooManyGroups(FacilitationError):
    code = "too_many_groups"


class InvalidGroupIndex(FacilitationError):
    code = "invalid_group_index"


class InvalidMapping(FacilitationError):
    code = "invalid_mapping"


class InvalidCapacity(FacilitationError):
    code = "invalid_capacity"


class GroupFull(FacilitationError):
    code = "group_full"


class InsufficientCapacity(FacilitationError):
    code = "insufficient_capacity"


class NoGroups(FacilitationError):
    code = "no_groups"


class NoPreviousRound(FacilitationError):
    code = "no_previous_round"


class InvalidActivity(FacilitationError):
    code = "invalid_activity"


class InvalidDuration(FacilitationError):
    code = "invalid_duration"


class InvalidAgenda(FacilitationError):
    code = "invalid_agenda"


class InvalidActivityIndex(FacilitationError):
    code = "invalid_activity_index"


class AgendaEnded(FacilitationError):
    code = "agenda_ended"


class UnknownTemplate(FacilitationError):
    code = "unknown_template"


class InvalidTemplate(FacilitationError):
    code = "invalid_template"


# Breakout rounds (the round state machine in ``rounds`` and ``breakouts``).


class RoundError(FacilitationError):
    code = "round_error"


class NoRound(RoundError):
    code = "no_round"


class RoundInProgress(RoundError):
    code = "round_in_progress"


class RoundNotOpen(RoundError):
    code = "round_not_open"


class RoundAlreadyOpen(RoundError):
    code = "round_already_open"


class RoundAlreadyClosed(RoundError):
    code = "round_already_closed"


class InvalidRound(RoundError):
    code = "invalid_round"


class NotInBreakout(RoundError):
    code = "not_in_breakout"


class HelpAlreadyRequested(RoundError):
    code = "help_already_requested"


class RoundNotRoaming(InvalidRound):
    code = "round_not_roaming"


class NoHandsToRestore(RoundError):
    code = "no_hands_to_restore"
class InvalidConstraint(FacilitationError):
    """A together/apart constraint that names nobody known, or one person twice."""

    code = "invalid_constraint"


class InfeasibleConstraint(FacilitationError):
    """Constraints that no arrangement can honour; the message names the constraint."""

    code = "infeasible_constraint"
