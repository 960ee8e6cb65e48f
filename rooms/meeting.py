"""A meeting's state, and the fold that builds it from the log.

``Meeting.apply`` is the only way state changes. It trusts the event: every
rule is checked when a command is decided (see ``commands``), so replaying a
log never fails on an event the live server accepted.
"""

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from rooms.events import (
    MOVERS,
    ChatSent,
    Draft,
    Event,
    HandLowered,
    HandRaised,
    HandsCleared,
    HandsRestored,
    MediaChanged,
    MeetingCreated,
    MeetingEnded,
    MeetingUpdated,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantMoved,
    RoundClosed,
    RoundMoved,
    RoundOpened,
    RoundPlaced,
    StageAdded,
    StageRemoved,
    decode,
)
from rooms.municipalities import canonical_name

PLENARY = "plenary"
CHAT_KEPT_PER_ROOM = 500


class Role(StrEnum):
    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"


class RoomKind(StrEnum):
    PLENARY = "plenary"
    BREAKOUT = "breakout"


class Participant(msgspec.Struct):
    id: str
    name: str
    municipality: str
    role: Role
    sector: str | None = None
    title: str | None = None
    person: str | None = None  # a roster person (personal link); None for a guest
    present: bool = True
    room: str = PLENARY
    joined_at: int = 0
    left_at: int | None = None
    mic: bool = False
    camera: bool = False
    screen: bool = False


class Room(msgspec.Struct):
    id: str
    kind: RoomKind
    name: str
    round: str | None = None
    open: bool = True


class ChatMessage(msgspec.Struct, frozen=True):
    id: str
    seq: int
    ts: int
    author: str
    room: str
    text: str


class Meeting(msgspec.Struct):
    id: str = ""
    title: str = ""
    starts_at: str = ""
    cohort: str = ""
    facilitators: list[str] = msgspec.field(default_factory=list)  # roster person ids
    created_at: int = 0
    ended: bool = False
    seq: int = 0
    participants: dict[str, Participant] = msgspec.field(default_factory=dict)
    rooms: dict[str, Room] = msgspec.field(
        default_factory=lambda: {PLENARY: Room(PLENARY, RoomKind.PLENARY, "Plenary")})
    hands: list[str] = msgspec.field(default_factory=list)
    chat: dict[str, list[ChatMessage]] = msgspec.field(default_factory=dict)
    stage: list[str] = msgspec.field(default_factory=list)
    hands_set_aside: list[str] = msgspec.field(default_factory=list)  # lowered by a round

    def apply(self, event: Event, body: Draft | None = None) -> None:
        """Fold one event into the state (``body``: its typed data, if already decoded)."""
        if event.seq != self.seq + 1:
            raise ValueError(f"Event {event.seq} does not follow {self.seq} in the log.")
        if body is None:
            body = decode(event)
        reducer = _REDUCERS.get(type(body))
        if reducer is not None:
            reducer(self, event, body)
        self.seq = event.seq

    def members(self, room: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.present and p.room == room]

    def present(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.present]


def moves_of(event: Event) -> dict[str, str]:
    """Participant id -> new room, for every participant ``event`` moves (see
    ``Draft.moved``: a round opening or closing moves everyone in one event)."""
    return dict(decode(event).moved()) if event.type in MOVERS else {}


def fold(events: Iterable[Event], state: Meeting | None = None) -> Meeting:
    """Build a meeting's state from its log (optionally on top of a snapshot)."""
    meeting = state if state is not None else Meeting()
    for event in events:
        meeting.apply(event)
    return meeting


P = TypeVar("P", bound=Draft)
Reducer = Callable[[Meeting, Event, P], None]
_REDUCERS: dict[type[Draft], Reducer[Any]] = {}


def reduces(cls: type[P]) -> Callable[[Reducer[P]], Reducer[P]]:
    """Register the meeting's reducer of the event class ``cls``."""
    def register(reducer: Reducer[P]) -> Reducer[P]:
        assert cls not in _REDUCERS, f"{cls.__name__} has two reducers"
        _REDUCERS[cls] = reducer
        return reducer
    return register


def reduced() -> frozenset[type[Draft]]:
    """The event classes the meeting folds."""
    return frozenset(_REDUCERS)


@reduces(MeetingCreated)
def _created(m: Meeting, e: Event, b: MeetingCreated) -> None:
    m.id, m.title, m.starts_at, m.cohort = b.id, b.title, b.starts_at, b.cohort
    m.created_at = e.ts


@reduces(MeetingUpdated)
def _updated(m: Meeting, e: Event, b: MeetingUpdated) -> None:
    if b.title is not UNSET:
        m.title = b.title
    if b.starts_at is not UNSET:
        m.starts_at = b.starts_at
    if b.facilitators is not UNSET:
        m.facilitators = list(b.facilitators)  # not the draft's list (see Session.apply)
    if b.cohort is not UNSET:
        m.cohort = b.cohort


@reduces(MeetingEnded)
def _ended(m: Meeting, e: Event, b: MeetingEnded) -> None:
    m.ended = True
    m.hands.clear()
    for p in m.participants.values():
        p.present = False
        p.left_at = e.ts


@reduces(ParticipantJoined)
def _joined(m: Meeting, e: Event, b: ParticipantJoined) -> None:
    m.participants[b.id] = Participant(
        id=b.id, name=b.name, municipality=canonical_name(b.municipality),
        role=Role(b.role), sector=_given(b.sector), title=_given(b.title),
        person=_given(b.person), present=True,
        room=PLENARY if b.room is UNSET else b.room, joined_at=e.ts)


def _given(value: str | None | UnsetType) -> str | None:
    return None if value is UNSET else value


@reduces(ParticipantLeft)
def _left(m: Meeting, e: Event, b: ParticipantLeft) -> None:
    p = m.participants[b.id]
    p.present = False
    p.left_at = e.ts
    p.mic = p.camera = p.screen = False
    if p.id in m.hands:
        m.hands.remove(p.id)
    if p.id in m.stage:
        m.stage.remove(p.id)


@reduces(MediaChanged)
def _media(m: Meeting, e: Event, b: MediaChanged) -> None:
    p = m.participants[b.id]
    p.mic, p.camera, p.screen = b.mic, b.camera, b.screen


@reduces(StageAdded)
def _stage_added(m: Meeting, e: Event, b: StageAdded) -> None:
    m.stage.append(b.id)


@reduces(StageRemoved)
def _stage_removed(m: Meeting, e: Event, b: StageRemoved) -> None:
    m.stage.remove(b.id)


@reduces(ChatSent)
def _chat(m: Meeting, e: Event, b: ChatSent) -> None:
    kept = m.chat.setdefault(b.room, [])
    kept.append(ChatMessage(b.id, e.seq, e.ts, e.actor, b.room, b.text))
    if len(kept) > CHAT_KEPT_PER_ROOM:
        del kept[: len(kept) - CHAT_KEPT_PER_ROOM]


@reduces(HandRaised)
def _hand_raised(m: Meeting, e: Event, b: HandRaised) -> None:
    m.hands.append(b.id)


@reduces(HandLowered)
def _hand_lowered(m: Meeting, e: Event, b: HandLowered) -> None:
    m.hands.remove(b.id)


@reduces(HandsCleared)
def _hands_cleared(m: Meeting, e: Event, b: HandsCleared) -> None:
    if b.reason == "round" and b.hands is not UNSET:
        m.hands_set_aside = list(b.hands)
    m.hands.clear()


@reduces(HandsRestored)
def _hands_restored(m: Meeting, e: Event, b: HandsRestored) -> None:
    restored = list(b.hands)
    m.hands = restored + [pid for pid in m.hands if pid not in restored]
    m.hands_set_aside = []


@reduces(ParticipantMoved)
def _moved(m: Meeting, e: Event, b: ParticipantMoved) -> None:
    m.participants[b.id].room = b.room


# Bulk room changes: the round events that open rooms, move people and close rooms.

@reduces(RoundOpened)
def _round_opened(m: Meeting, e: Event, b: RoundOpened) -> None:
    for spec in b.opens:
        m.rooms[spec.id] = Room(spec.id, RoomKind(spec.kind), spec.name,
                                None if spec.round is UNSET else spec.round)
    _move(m, b.moves)


@reduces(RoundPlaced)
def _round_placed(m: Meeting, e: Event, b: RoundPlaced) -> None:
    _move(m, b.moved())


@reduces(RoundMoved)
def _round_moved(m: Meeting, e: Event, b: RoundMoved) -> None:
    _move(m, b.moves)


@reduces(RoundClosed)
def _round_closed(m: Meeting, e: Event, b: RoundClosed) -> None:
    _move(m, b.moves)
    for room in b.closes:
        m.rooms[room].open = False


def _move(m: Meeting, moves: Mapping[str, str]) -> None:
    for pid, room in moves.items():
        m.participants[pid].room = room
