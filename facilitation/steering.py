"""Steering an open round: moving people between groups, a message to one group,
closing early with the countdown, and the plenary's hands after the round.

Like ``breakouts``, each function checks the rules against the ``Session`` and
returns drafts or raises a named error; time comes in as ``now`` (wall-clock ms).
A move carries the standard ``moves`` field, so the meeting's membership (and
whoever counts encounters from ``moves``) follows from the one event.
"""

from facilitation.breakouts import BROADCAST_MAX, close
from facilitation.exceptions import (
    InvalidGroupIndex,
    InvalidRound,
    NoHandsToRestore,
    RoundNotRoaming,
    UnknownParticipant,
)
from facilitation.rounds import Phase, Round
from facilitation.session import Session
from rooms import PLENARY, Draft, Role
from rooms.commands import clean_text, present, require_facilitator
from rooms.events import HandsRestored, RoundClosing, RoundMessaged, RoundMoved


def move(s: Session, actor: str, participant: str, group: int | None) -> list[Draft]:
    """A facilitator moves a participant to another group (None: to the plenary)."""
    require_facilitator(s.meeting, actor)
    return _move(s, actor, participant, group)


def go(s: Session, actor: str, group: int | None) -> list[Draft]:
    """A participant changes group, or returns to the plenary, if the round allows it."""
    present(s.meeting, actor)
    r = _live(s)
    if not r.roaming:
        raise RoundNotRoaming("In this round the groups stay as they are.")
    return _move(s, actor, actor, group)


def message(s: Session, actor: str, group: int, text: str) -> list[Draft]:
    """A facilitator's message to one group (seen by its room and the facilitators)."""
    require_facilitator(s.meeting, actor)
    r = _live(s)
    _require_group(r, group)
    body = clean_text(text, field="message", max_len=BROADCAST_MAX)
    return [RoundMessaged(id=r.id, group=group, room=r.rooms[group], text=body)]


def close_with_countdown(s: Session, actor: str, now: int) -> list[Draft]:
    """Close early, but with the round's closing countdown (or at once without one)."""
    require_facilitator(s.meeting, actor)
    r = _live(s)
    if r.phase is Phase.CLOSING or r.closing_s == 0:
        return close(s, actor)
    return [RoundClosing(id=r.id, closes_at=now + r.closing_s * 1000)]


def restore_hands(s: Session, actor: str) -> list[Draft]:
    """Raise again the plenary hands a round's opening lowered (those still present)."""
    require_facilitator(s.meeting, actor)
    current = s.current()
    if current is not None and current.live:
        raise InvalidRound("Restore the hands once the round is over.")
    people = s.meeting.participants
    hands = [pid for pid in s.meeting.hands_set_aside if pid in people and people[pid].present]
    if not hands:
        raise NoHandsToRestore("No hands were lowered by the last round.")
    return [HandsRestored(hands=hands)]


def _move(s: Session, actor: str, participant: str, group: int | None) -> list[Draft]:
    r = _live(s)
    person = s.meeting.participants.get(participant)
    if person is None or not person.present or person.role is not Role.PARTICIPANT:
        raise UnknownParticipant("That person is not a participant present in this meeting.")
    if group is not None:
        _require_group(r, group)
    room = PLENARY if group is None else r.rooms[group]
    if person.room == room and r.group_of(participant) == group:
        return []
    return [RoundMoved(id=r.id, participant=participant, group=group, from_=person.room,
                       by=actor, moves={participant: room})]


def _live(s: Session) -> Round:
    r = s.current()
    if r is None or not r.live:
        raise InvalidRound("There is no open round.")
    r.guard("move")
    return r


def _require_group(r: Round, group: int) -> None:
    if not 0 <= group < len(r.groups):
        raise InvalidGroupIndex(f"There is no group {group + 1}.")
