"""The meeting log's record, and every kind of event in it: one typed class each.

The log stores ``Event(seq, ts, actor, type, data)``: ``type`` a string and ``data``
a plain dict, on disk and on the wire alike. Each type string is the tag of one
frozen class below, which declares that dict's fields, who may see the event
(``SEEN_BY``) and, for events that move people, the bulk room changes they carry
(``opens``, ``moves``, ``closes``). Commands decide instances of these classes; the
fold, the audience rules, ``docs/protocol.md``'s tables and the browser's list of
event types all follow from them (``python -m rooms.event_docs`` writes the latter
two). An optional field is ``UNSET`` when absent, so ``data`` is exactly the dict
that was logged. The programme and organiser logs' events are typed here too, at
the end.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

SYSTEM = "system"
"""Actor of events the server makes by itself (timers, recovery)."""
ADMIN = "admin"
"""Actor of events made through the organiser's REST API."""


class Event(msgspec.Struct, frozen=True):
    """One entry of a meeting's log.

    ``seq`` is gap-free and monotonic within a meeting, ``ts`` is server
    wall time in milliseconds, ``actor`` a participant id or a system actor.
    """

    seq: int
    ts: int
    actor: str
    type: str
    data: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "actor": self.actor,
                "type": self.type, "data": self.data}


class Seen(StrEnum):
    """Who receives an event, live and in a catch-up (``rooms.audience``)."""

    MEETING = "meeting"
    ROOM = "room"  # the members of ``data.room``
    ROOM_AND_FACILITATORS = "room and facilitators"  # and every facilitator


class UnknownEvent(ValueError):
    """A log event whose type is not one of the classes below."""


class InvalidEvent(ValueError):
    """A log event whose data does not fit its type's class."""


_NO_MOVES: Mapping[str, str] = {}
E = TypeVar("E", bound="Entry")


class Entry(msgspec.Struct, frozen=True, tag_field="type"):
    """A typed log entry before the log gives it seq and ts, of any log: each subclass
    is one type (its ``tag``, also its ``TYPE``), and ``data`` the dict the log stores."""

    TYPE: ClassVar[str]  # set for every registered class below

    @property
    def type(self) -> str:
        return self.TYPE

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(self, builtin_types=(bytes,))
        del data["type"]
        return data


class Draft(Entry, frozen=True):
    """An event of a meeting's log, decided by a command; it declares who sees it."""

    SEEN_BY: ClassVar[Seen]

    def moved(self) -> Mapping[str, str]:
        """Participant id -> new room, for everyone this event moves."""
        return _NO_MOVES


class RoomSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A room an event opens."""

    id: str
    kind: str  # "plenary" | "breakout"
    name: str
    round: str | UnsetType = UNSET


# The meeting, its people and presence.

class MeetingCreated(Draft, frozen=True, tag="meeting.created"):
    """The meeting's first event, before anyone joins (actor `system`)."""

    SEEN_BY = Seen.MEETING
    id: str
    title: str
    starts_at: str
    cohort: str


class MeetingUpdated(Draft, frozen=True, tag="meeting.updated"):
    """An organiser changed the meeting before the day (`facilitators`: roster person
    ids); only what changed is in it."""

    SEEN_BY = Seen.MEETING
    title: str | UnsetType = UNSET
    starts_at: str | UnsetType = UNSET
    facilitators: list[str] | UnsetType = UNSET
    cohort: str | UnsetType = UNSET


class MeetingEnded(Draft, frozen=True, tag="meeting.ended"):
    """The meeting is over; everyone is disconnected shortly after."""

    SEEN_BY = Seen.MEETING


class ParticipantJoined(Draft, frozen=True, tag="participant.joined"):
    """Someone joined or rejoined: `municipality` canonical (see
    `rooms/municipalities.py`), `room` where they start, `person` the roster person of a
    personal link (absent for guests); `erased` once the person was erased."""

    SEEN_BY = Seen.MEETING
    id: str
    name: str
    municipality: str
    role: str  # "facilitator" | "participant"
    room: str | UnsetType = UNSET
    person: str | None | UnsetType = UNSET
    sector: str | None | UnsetType = UNSET
    title: str | None | UnsetType = UNSET
    erased: bool | UnsetType = UNSET


class ParticipantLeft(Draft, frozen=True, tag="participant.left"):
    """Someone left (`reason`: `"left"`, or `"timeout"` after the grace period)."""

    SEEN_BY = Seen.MEETING
    id: str
    reason: str


class ParticipantMoved(Draft, frozen=True, tag="participant.moved"):
    """Someone went to another room (a facilitator's visit)."""

    SEEN_BY = Seen.MEETING
    id: str
    room: str
    from_: str = msgspec.field(name="from")

    def moved(self) -> Mapping[str, str]:
        return {self.id: self.room}


class PresenceChanged(Draft, frozen=True, tag="presence.changed"):
    """Logged presence, debounced (see `review.md`); the ephemeral `presence` message
    stays the live signal."""

    SEEN_BY = Seen.MEETING
    participant: str
    online: bool
    at: int


class RecordingDeleted(Draft, frozen=True, tag="recording.deleted"):
    """Only the pseudonymised encounter skeleton is left (see `privacy.md`; written
    by retention, after the meeting)."""

    SEEN_BY = Seen.MEETING


class ChatSent(Draft, frozen=True, tag="chat.sent"):
    """A chat message to the sender's room (`erased`: its text was erased)."""

    SEEN_BY = Seen.ROOM
    id: str
    room: str
    text: str
    erased: bool | UnsetType = UNSET


class ReactionSent(Draft, frozen=True, tag="reaction.sent"):
    """A reaction in the sender's room."""

    SEEN_BY = Seen.ROOM
    room: str
    emoji: str


class HandRaised(Draft, frozen=True, tag="hand.raised"):
    """A hand went up (at the end of the queue)."""

    SEEN_BY = Seen.MEETING
    id: str


class HandLowered(Draft, frozen=True, tag="hand.lowered"):
    """A hand went down, lowered by its owner or a facilitator (`by`)."""

    SEEN_BY = Seen.MEETING
    id: str
    by: str


class HandsCleared(Draft, frozen=True, tag="hands.cleared"):
    """Every hand went down; with `reason: "round"` just before `round.opened`, the
    plenary's raised `hands` are put aside (see `hands.restored`)."""

    SEEN_BY = Seen.MEETING
    reason: str | UnsetType = UNSET
    hands: list[str] | UnsetType = UNSET


class HandsRestored(Draft, frozen=True, tag="hands.restored"):
    """The hands a round's opening put aside are raised again, at the front of the
    queue."""

    SEEN_BY = Seen.MEETING
    hands: list[str]


# Media.

class MediaChanged(Draft, frozen=True, tag="media.changed"):
    """Someone's microphone, camera or screen share changed (the room and every
    facilitator, for the console's overview)."""

    SEEN_BY = Seen.ROOM_AND_FACILITATORS
    id: str
    room: str
    mic: bool
    camera: bool
    screen: bool


class StageAdded(Draft, frozen=True, tag="stage.added"):
    """A facilitator put someone on stage."""

    SEEN_BY = Seen.MEETING
    id: str


class StageRemoved(Draft, frozen=True, tag="stage.removed"):
    """A facilitator took someone off stage."""

    SEEN_BY = Seen.MEETING
    id: str


# Breakout rounds, help and the agenda.

class RoundPreviewed(Draft, frozen=True, tag="round.previewed"):
    """A facilitator previewed a round's groups (`groups`: participant ids per group;
    `away`: participant ids left out as not connected; `plan`: a session plan, see
    *Session plans*)."""

    SEEN_BY = Seen.MEETING
    id: str
    number: int
    strategy: str
    seed: int
    duration_s: int
    closing_s: int
    warning_s: int
    prompts: list[str]
    groups: list[list[str]]
    capacity: int | None | UnsetType = UNSET
    activity: str | None | UnsetType = UNSET
    roaming: bool | UnsetType = UNSET
    away: list[str] | UnsetType = UNSET
    include_away: bool | UnsetType = UNSET
    min_size: int | UnsetType = UNSET
    plan: dict[str, Any] | None | UnsetType = UNSET


class RoundCancelled(Draft, frozen=True, tag="round.cancelled"):
    """The preview was dropped."""

    SEEN_BY = Seen.MEETING
    id: str


class RoundRegrouped(Draft, frozen=True, tag="round.regrouped"):
    """A facilitator changed the preview's groups."""

    SEEN_BY = Seen.MEETING
    id: str
    groups: list[list[str]]


class RoundChosen(Draft, frozen=True, tag="round.chosen"):
    """A participant chose a group of a self-select preview (`group: null`: none)."""

    SEEN_BY = Seen.MEETING
    id: str
    participant: str
    group: int | None


class RoundOpened(Draft, frozen=True, tag="round.opened"):
    """The round opened: every group's room `opens`, and `moves` sends everyone to
    their group, in this one event (`rebalanced`: `{merged: [group numbers of the
    preview], moved: [participant], min_size}`)."""

    SEEN_BY = Seen.MEETING
    id: str
    groups: list[list[str]]
    rooms: list[str]
    prompts: list[str]
    deadline: int
    warned: bool
    opens: list[RoomSpec]
    moves: dict[str, str]
    away: list[str] | UnsetType = UNSET
    rebalanced: dict[str, Any] | UnsetType = UNSET

    def moved(self) -> Mapping[str, str]:
        return self.moves


class RoundPlaced(Draft, frozen=True, tag="round.placed"):
    """A late joiner, after their `participant.joined` (whose `room` is already the
    group); or, with `moves` (actor `system`), someone away at the opening who came
    back."""

    SEEN_BY = Seen.MEETING
    id: str
    participant: str
    group: int
    moves: dict[str, str] | UnsetType = UNSET

    def moved(self) -> Mapping[str, str]:
        return _NO_MOVES if self.moves is UNSET else self.moves


class RoundMoved(Draft, frozen=True, tag="round.moved"):
    """A facilitator moved someone, or a participant changed group (`by` is who did
    it); `group: null` is the plenary."""

    SEEN_BY = Seen.MEETING
    id: str
    participant: str
    group: int | None
    from_: str = msgspec.field(name="from")
    by: str
    moves: dict[str, str]

    def moved(self) -> Mapping[str, str]:
        return self.moves


class RoundExtended(Draft, frozen=True, tag="round.extended"):
    """The deadline moved (back to phase `open`)."""

    SEEN_BY = Seen.MEETING
    id: str
    deadline: int
    delta_s: int
    warned: bool


class RoundWarned(Draft, frozen=True, tag="round.warned"):
    """`warning_s` before the deadline (actor `system`)."""

    SEEN_BY = Seen.MEETING
    id: str
    deadline: int


class RoundClosing(Draft, frozen=True, tag="round.closing"):
    """The closing countdown began (actor `system`, or a facilitator's early close)."""

    SEEN_BY = Seen.MEETING
    id: str
    closes_at: int


class RoundClosed(Draft, frozen=True, tag="round.closed"):
    """The round closed (`reason`: `"deadline"` or `"facilitator"`): everyone in its
    rooms (visiting facilitators too) `moves` back to the plenary and its rooms
    `closes`."""

    SEEN_BY = Seen.MEETING
    id: str
    reason: str
    moves: dict[str, str]
    closes: list[str]

    def moved(self) -> Mapping[str, str]:
        return self.moves


class RoundBroadcast(Draft, frozen=True, tag="round.broadcast"):
    """A facilitator's message to every group."""

    SEEN_BY = Seen.MEETING
    id: str
    text: str
    erased: bool | UnsetType = UNSET


class RoundMessaged(Draft, frozen=True, tag="round.messaged"):
    """A facilitator's message to one group."""

    SEEN_BY = Seen.ROOM_AND_FACILITATORS
    id: str
    group: int
    room: str
    text: str
    erased: bool | UnsetType = UNSET


class MixConstrained(Draft, frozen=True, tag="mix.constrained"):
    """The facilitators' mixing constraints, replacing the previous ones (`together`,
    `apart`: pairs `[a, b]` of participant ids)."""

    SEEN_BY = Seen.MEETING
    together: list[list[str]]
    apart: list[list[str]]
    fair_seats: bool


class HelpRequested(Draft, frozen=True, tag="help.requested"):
    """A group asked for a facilitator."""

    SEEN_BY = Seen.ROOM_AND_FACILITATORS
    participant: str
    room: str
    round: str | None | UnsetType = UNSET
    group: int | UnsetType = UNSET


class HelpAnswered(Draft, frozen=True, tag="help.answered"):
    """A facilitator answered (a facilitator's visit answers the room's requests)."""

    SEEN_BY = Seen.ROOM_AND_FACILITATORS
    participant: str
    room: str
    by: str


class AgendaSet(Draft, frozen=True, tag="agenda.set"):
    """The agenda (`activities: [{id, title, duration_s, kind, prompt, focus_area,
    group_size}]`)."""

    SEEN_BY = Seen.MEETING
    template: str | None
    lang: str
    activities: list[dict[str, Any]]


class AgendaStarted(Draft, frozen=True, tag="agenda.started"):
    """An activity began; a breakout activity pre-fills the next round."""

    SEEN_BY = Seen.MEETING
    index: int
    activity: dict[str, Any]


# Whiteboards.

class BoardUpdated(Draft, frozen=True, tag="board.updated"):
    """A Yjs v1 update of the room's board (`origin`: `"prompt"` for a round's seed,
    `"clear"` for a facilitator's clearing; absent for people's edits)."""

    SEEN_BY = Seen.ROOM
    room: str
    update: bytes
    origin: Literal["prompt", "clear"] | UnsetType = UNSET


class BoardShown(Draft, frozen=True, tag="board.shown"):
    """A facilitator shows that room's board to everyone (fetch it with
    `board.fetch`)."""

    SEEN_BY = Seen.MEETING
    room: str


GROUPS: dict[str, tuple[type[Draft], ...]] = {
    "meeting": (MeetingCreated, MeetingUpdated, MeetingEnded, ParticipantJoined,
                ParticipantLeft, ParticipantMoved, PresenceChanged, RecordingDeleted,
                ChatSent, ReactionSent, HandRaised, HandLowered, HandsCleared, HandsRestored),
    "rounds": (RoundPreviewed, RoundCancelled, RoundRegrouped, RoundChosen, RoundOpened,
               RoundPlaced, RoundMoved, RoundExtended, RoundWarned, RoundClosing, RoundClosed,
               RoundBroadcast, RoundMessaged, MixConstrained, HelpRequested, HelpAnswered,
               AgendaSet, AgendaStarted),
    "media": (MediaChanged, StageAdded, StageRemoved),
    "boards": (BoardUpdated, BoardShown),
}
"""Every event class, by the part of ``docs/protocol.md`` that lists it."""


# The other logs: a programme's (its cohorts and rosters) and the organisers' accounts.
# Neither goes to the browser; organisers see them through the server's pages.

class ProgrammeDraft(Entry, frozen=True):
    """An event of a programme's log."""


class ProgrammeCreated(ProgrammeDraft, frozen=True, tag="programme.created"):
    id: str
    name: str


class CohortCreated(ProgrammeDraft, frozen=True, tag="cohort.created"):
    id: str
    name: str
    ends_on: str | UnsetType = UNSET  # ISO date, or "" for none


class PeopleAdded(ProgrammeDraft, frozen=True, tag="people.added"):
    """Roster rows: ``{id, name, municipality, title, email, role}``."""

    cohort: str
    people: list[dict[str, str]]


class PersonUpdated(ProgrammeDraft, frozen=True, tag="person.updated"):
    """Only the fields that changed."""

    cohort: str
    id: str
    name: str | UnsetType = UNSET
    municipality: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    role: str | UnsetType = UNSET


class PersonRemoved(ProgrammeDraft, frozen=True, tag="person.removed"):
    cohort: str
    id: str


class LinkRevoked(ProgrammeDraft, frozen=True, tag="link.revoked"):
    """The person's personal links stop working; the next one issued is new."""

    cohort: str
    id: str


class OrganiserDraft(Entry, frozen=True):
    """An event of the organisers' log."""


class OrganiserCreated(OrganiserDraft, frozen=True, tag="organiser.created"):
    id: str
    username: str
    name: str
    hash: str  # argon2


def type_of(cls: type[Entry]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"{cls.__name__} has no event type"
    return tag


def _by_type(classes: Iterable[type[E]]) -> dict[str, type[E]]:
    registry = {type_of(c): c for c in classes}
    for tag, cls in registry.items():
        cls.TYPE = tag
    return registry


EVENTS: dict[str, type[Draft]] = _by_type(c for group in GROUPS.values() for c in group)
"""A meeting log's event types: type string -> class."""
PROGRAMME_EVENTS: dict[str, type[ProgrammeDraft]] = _by_type(
    (ProgrammeCreated, CohortCreated, PeopleAdded, PersonUpdated, PersonRemoved, LinkRevoked))
ORGANISER_EVENTS: dict[str, type[OrganiserDraft]] = _by_type((OrganiserCreated,))
MOVERS = frozenset(t for t, c in EVENTS.items() if c.moved is not Draft.moved)
"""The event types that move people from room to room."""


def decode(event: Event) -> Draft:
    """The typed form of a meeting log event's data."""
    return decode_in(EVENTS, event)


def decode_in(log: Mapping[str, type[E]], event: Event) -> E:
    """The typed form of ``event``'s data, one of ``log``'s types."""
    cls = log.get(event.type)
    if cls is None:
        raise UnknownEvent(f"Event {event.seq} has the unknown type {event.type!r}.")
    try:
        return msgspec.convert(event.data, cls)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"Event {event.seq} ({event.type}) does not fit its type: "
                           f"{exc}.") from None
