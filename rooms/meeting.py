"""A meeting's state, and the fold that builds it from the log.

``Meeting.apply`` is the only way state changes. It trusts the event: every
rule is checked when a command is decided (see ``commands``), so replaying a
log never fails on an event the live server accepted.
"""

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import msgspec

from rooms.events import Event
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

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        if event.seq != self.seq + 1:
            raise ValueError(f"Event {event.seq} does not follow {self.seq} in the log.")
        reducer = _REDUCERS.get(event.type)
        if reducer is not None:
            reducer(self, event)
        if _BULK.intersection(event.data):
            self._apply_bulk(event.data)
        self.seq = event.seq

    def _apply_bulk(self, data: dict[str, Any]) -> None:
        """Rooms opened, participants moved and rooms closed by one event."""
        for spec in data.get("opens", ()):
            self.rooms[spec["id"]] = Room(spec["id"], RoomKind(spec["kind"]), spec["name"],
                                          spec.get("round"))
        for pid, room in data.get("moves", {}).items():
            self.participants[pid].room = room
        for room in data.get("closes", ()):
            self.rooms[room].open = False

    def members(self, room: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.present and p.room == room]

    def present(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.present]


_BULK = frozenset({"opens", "moves", "closes"})


def moves_of(event: Event) -> dict[str, str]:
    """Participant id -> new room, for every participant ``event`` moves.

    ``participant.moved`` moves one; any event may carry ``moves`` (a round
    opening or closing moves everyone at once, in one event).
    """
    if event.type == "participant.moved":
        return {event.data["id"]: event.data["room"]}
    moves: dict[str, str] = event.data.get("moves", {})
    return moves


def fold(events: Iterable[Event], state: Meeting | None = None) -> Meeting:
    """Build a meeting's state from its log (optionally on top of a snapshot)."""
    meeting = state if state is not None else Meeting()
    for event in events:
        meeting.apply(event)
    return meeting


Reducer = Callable[[Meeting, Event], None]


def _created(m: Meeting, e: Event) -> None:
    m.id = e.data["id"]
    m.title = e.data["title"]
    m.starts_at = e.data["starts_at"]
    m.cohort = e.data["cohort"]
    m.created_at = e.ts


def _updated(m: Meeting, e: Event) -> None:
    for name in ("title", "starts_at", "facilitators", "cohort"):
        if name in e.data:
            setattr(m, name, e.data[name])


def _ended(m: Meeting, e: Event) -> None:
    m.ended = True
    m.hands.clear()
    for p in m.participants.values():
        p.present = False
        p.left_at = e.ts


def _joined(m: Meeting, e: Event) -> None:
    d = e.data
    m.participants[d["id"]] = Participant(
        id=d["id"], name=d["name"], municipality=canonical_name(d["municipality"]),
        role=Role(d["role"]), sector=d.get("sector"), title=d.get("title"),
        person=d.get("person"), present=True,
        room=d.get("room", PLENARY), joined_at=e.ts)


def _left(m: Meeting, e: Event) -> None:
    p = m.participants[e.data["id"]]
    p.present = False
    p.left_at = e.ts
    p.mic = p.camera = p.screen = False
    if p.id in m.hands:
        m.hands.remove(p.id)
    if p.id in m.stage:
        m.stage.remove(p.id)


def _media(m: Meeting, e: Event) -> None:
    p = m.participants[e.data["id"]]
    p.mic, p.camera, p.screen = e.data["mic"], e.data["camera"], e.data["screen"]


def _stage_added(m: Meeting, e: Event) -> None:
    m.stage.append(e.data["id"])


def _stage_removed(m: Meeting, e: Event) -> None:
    m.stage.remove(e.data["id"])


def _chat(m: Meeting, e: Event) -> None:
    d = e.data
    kept = m.chat.setdefault(d["room"], [])
    kept.append(ChatMessage(d["id"], e.seq, e.ts, e.actor, d["room"], d["text"]))
    if len(kept) > CHAT_KEPT_PER_ROOM:
        del kept[: len(kept) - CHAT_KEPT_PER_ROOM]


def _hand_raised(m: Meeting, e: Event) -> None:
    m.hands.append(e.data["id"])


def _hand_lowered(m: Meeting, e: Event) -> None:
    m.hands.remove(e.data["id"])


def _hands_cleared(m: Meeting, e: Event) -> None:
    if e.data.get("reason") == "round":
        m.hands_set_aside = list(e.data["hands"])
    m.hands.clear()


def _hands_restored(m: Meeting, e: Event) -> None:
    restored = list(e.data["hands"])
    m.hands = restored + [pid for pid in m.hands if pid not in restored]
    m.hands_set_aside = []


def _room_opened(m: Meeting, e: Event) -> None:
    d = e.data
    m.rooms[d["id"]] = Room(d["id"], RoomKind(d["kind"]), d["name"], d.get("round"))


def _room_closed(m: Meeting, e: Event) -> None:
    m.rooms[e.data["id"]].open = False


def _moved(m: Meeting, e: Event) -> None:
    m.participants[e.data["id"]].room = e.data["room"]


_REDUCERS: dict[str, Reducer] = {
    "meeting.created": _created,
    "meeting.updated": _updated,
    "meeting.ended": _ended,
    "participant.joined": _joined,
    "participant.left": _left,
    "chat.sent": _chat,
    "hand.raised": _hand_raised,
    "hand.lowered": _hand_lowered,
    "hands.cleared": _hands_cleared,
    "hands.restored": _hands_restored,
    "room.opened": _room_opened,
    "room.closed": _room_closed,
    "participant.moved": _moved,
    "media.changed": _media,
    "stage.added": _stage_added,
    "stage.removed": _stage_removed,
}
