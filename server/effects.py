"""What the server does about a change: a pure function of the state and what happened.

Two kinds of thing happen to a meeting: events of its log (folded in
``LiveMeeting.commit``) and facts of this process's connections (a participant's
connection attached or detached, a participant came or went online, the meeting
was reloaded from its log). ``effects`` turns one of them, with the meeting's state
*just before* it, into effects; ``server.dispatcher.Dispatcher`` carries them out, in
order. Nothing here awaits, reads a clock or touches a connection, so every rule
below is a unit test away (``tests/unit/test_effects.py``).

Delivery is separate (``delivery``): it runs inside ``LiveMeeting.publish``, in log
order, once the events are durable. A follow-up decision (``SeedPrompts``,
``PlaceReturning``, ``LogPresence``) is an effect too: the dispatcher commits it after
the effects before it are done, never from inside another commit.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from facilitation.session import Session
from rooms import EVENTS, Event, audience, moves_of
from rooms.events import (
    MOVERS,
    MeetingEnded,
    MixConstrained,
    ParticipantJoined,
    ParticipantLeft,
    RoundClosed,
    RoundOpened,
    StageAdded,
    StageRemoved,
)
from server.fanout import Audience, ToMeeting, ToRoom

# -- facts of this process's connections -------------------------------------------


@dataclass(frozen=True)
class Attached:
    """A connection was bound to a participant (join or resume). ``fresh``: it resumes
    nothing, so its client holds no board yet (it starts its room's board empty)."""

    sid: str
    participant: str
    fresh: bool = False


@dataclass(frozen=True)
class Detached:
    sid: str
    participant: str | None


@dataclass(frozen=True)
class PresenceChanged:
    """A participant's first connection came, or their last one went."""

    participant: str
    online: bool


@dataclass(frozen=True)
class Reloaded:
    """The meeting was reloaded from its log (after a store failure or a rewrite)."""


Fact = Attached | Detached | PresenceChanged | Reloaded

# -- effects -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deliver:
    event: Event
    to: Audience


@dataclass(frozen=True)
class MoveConnections:
    """Re-address these participants' connections to their new rooms."""

    moves: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SyncTimer:
    """Arm, re-arm or cancel the meeting's round timer from its state."""


@dataclass(frozen=True)
class ReplanMedia:
    """Send every online member of these rooms their peer plan, if it changed."""

    rooms: frozenset[str]


@dataclass(frozen=True)
class ReplanNext:
    """Re-plan the next round of a running plan (debounced, off the event loop)."""


@dataclass(frozen=True)
class SendBoard:
    """Send a participant's connections (or one of them) the full board of a room."""

    participant: str
    room: str
    sid: str | None = None


@dataclass(frozen=True)
class ArmIce:
    """Push fresh TURN credentials to the connection before its current ones expire."""

    sid: str


@dataclass(frozen=True)
class ForgetConnection:
    """Drop what the media side holds for a closed connection."""

    sid: str


@dataclass(frozen=True)
class CloseMedia:
    """The meeting ended: close its video rooms."""


@dataclass(frozen=True)
class IndexForReview:
    """The meeting ended: build and store its review index, in the background."""


@dataclass(frozen=True)
class ForgetBoards:
    """Drop the meeting's boards from memory (they stay in the log, for review)."""


@dataclass(frozen=True)
class SeedPrompts:
    """Follow-up decision: the round's prompts as board updates, by the system."""

    seeds: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PlaceReturning:
    """Follow-up decision: a participant back during a live round joins a group."""

    participant: str


@dataclass(frozen=True)
class LogPresence:
    """Follow-up: log the participant online now, or offline once the debounce passed."""

    participant: str
    online: bool


Effect = (Deliver | MoveConnections | SyncTimer | ReplanMedia | ReplanNext | SendBoard
          | ArmIce | ForgetConnection | CloseMedia | ForgetBoards | IndexForReview
          | SeedPrompts
          | PlaceReturning | LogPresence)
FOLLOW_UPS = (SeedPrompts, PlaceReturning, LogPresence)

# A joining participant is re-planned once its connection is bound (``PresenceChanged``):
# at ``participant.joined`` it is not online yet.
_MEMBERSHIP = frozenset({ParticipantLeft.TYPE, StageAdded.TYPE, StageRemoved.TYPE})
_REPLAN_NEXT = frozenset({ParticipantJoined.TYPE, ParticipantLeft.TYPE, RoundOpened.TYPE,
                          RoundClosed.TYPE, MixConstrained.TYPE})

# Event types no rule below looks at (chat, reactions, hands, board updates, ...): their
# effects are none, known without reading the event (the bulk of a busy meeting's log).
_QUIET = frozenset(t for t in EVENTS
                   if not (t.startswith("round.") or t in _REPLAN_NEXT or t in MOVERS
                           or t in _MEMBERSHIP or t == MeetingEnded.TYPE))

# -- the rules ---------------------------------------------------------------------


def delivery(meeting: str, event: Event) -> list[Effect]:
    """Re-address whoever the event moves, then send it to its audience."""
    out: list[Effect] = []
    moves = moves_of(event)
    if moves:
        out.append(MoveConnections(tuple(moves.items())))
    aud = audience(event.type, event.data)
    to: Audience = (ToMeeting(meeting) if aud.room is None
                    else ToRoom(meeting, aud.room, aud.facilitators))
    out.append(Deliver(event, to))
    return out


def effects(before: Session, happened: Event | Fact) -> list[Effect]:
    """What to do about ``happened``, given the meeting's state just before it."""
    if isinstance(happened, Event):
        return _of_event(before, happened)
    return _of_fact(before, happened)


def _of_event(before: Session, event: Event) -> list[Effect]:
    if event.type in _QUIET:
        return []
    out: list[Effect] = []
    moves = moves_of(event)
    if event.type.startswith("round."):
        out.append(SyncTimer())
    if event.type in _REPLAN_NEXT or moves:
        out.append(ReplanNext())
    rooms = _media_rooms(before, event, moves)
    if rooms:
        out.append(ReplanMedia(rooms))
    if event.type == MeetingEnded.TYPE:
        out += [CloseMedia(), ForgetBoards(), IndexForReview()]
    fresh = {spec["id"] for spec in event.data.get("opens", ())}
    # A new room's board is empty; its seed follows as an event.
    out += [SendBoard(pid, room) for pid, room in moves.items() if room not in fresh]
    if event.type == RoundOpened.TYPE:
        seeds = tuple((room, text) for room, text
                      in zip(event.data["rooms"], event.data["prompts"], strict=True) if text)
        if seeds:
            out.append(SeedPrompts(seeds))
    return out


def _media_rooms(before: Session, event: Event, moves: dict[str, str]) -> frozenset[str]:
    """Rooms whose peer plans may change: where movers go and where they come from (the
    fold's answer before the event), and the room of whoever joins the stage or leaves."""
    rooms = set(moves.values())
    people = before.meeting.participants
    rooms.update(people[pid].room for pid in moves if pid in people)
    if event.type in _MEMBERSHIP:
        person = people.get(event.data["id"])
        if person is not None:
            rooms.add(person.room)
    return frozenset(rooms)


def _of_fact(state: Session, fact: Fact) -> list[Effect]:
    match fact:
        case Attached(sid, pid, fresh):
            room = state.meeting.participants[pid].room
            # Its first peer plan went out in its welcome (``Gateway._attach``).
            out: list[Effect] = [ArmIce(sid)]
            if not (fresh and room not in state.board_updates):
                out.append(SendBoard(pid, room, sid))  # a board never drawn on adds nothing
            return out
        case Detached(sid, _):
            return [ForgetConnection(sid)]
        case PresenceChanged(pid, online):
            return _of_presence(state, pid, online)
        case Reloaded():  # its boards are new as well: read from the log when used
            return [SyncTimer()]
    raise TypeError(f"not a fact: {fact!r}")


def _of_presence(state: Session, pid: str, online: bool) -> list[Effect]:
    out: list[Effect] = []
    person = state.meeting.participants.get(pid)
    if person is not None:
        out.append(ReplanMedia(frozenset({person.room})))
    out.append(ReplanNext())  # the dispatcher asks whether a plan is running
    r = state.current()
    if online and r is not None and r.live and r.group_of(pid) is None:
        out.append(PlaceReturning(pid))
    out.append(LogPresence(pid, online))
    return out


_ONCE = (SyncTimer, ReplanNext, CloseMedia, ForgetBoards, IndexForReview)


def coalesce(effects: Iterable[Effect]) -> list[Effect]:
    """One of each repeatable effect per batch, media rooms merged, order kept, and
    follow-up decisions last: they run once everything else of the batch is done."""
    out: list[Effect] = []
    later: list[Effect] = []
    seen: set[Effect] = set()
    media: set[str] = set()
    media_at: int | None = None
    for effect in effects:
        if isinstance(effect, ReplanMedia):
            media |= effect.rooms
            if media_at is None:
                media_at = len(out)
                out.append(effect)
            continue
        if isinstance(effect, _ONCE):
            if effect in seen:
                continue
            seen.add(effect)
        (later if isinstance(effect, FOLLOW_UPS) else out).append(effect)
    if media_at is not None:
        out[media_at] = ReplanMedia(frozenset(media))
    return out + later if later else out


def follow_up(effect: Effect) -> bool:
    return isinstance(effect, FOLLOW_UPS)


__all__: Sequence[str] = [
    "ArmIce", "Attached", "CloseMedia", "Deliver", "Detached", "Effect", "Fact",
    "IndexForReview",
    "ForgetBoards", "ForgetConnection", "LogPresence", "MoveConnections", "PlaceReturning",
    "PresenceChanged", "Reloaded", "ReplanMedia", "ReplanNext", "SeedPrompts", "SendBoard",
    "SyncTimer", "coalesce", "delivery", "effects", "follow_up",
]
