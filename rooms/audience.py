"""Who may see an event: the whole meeting, one room, or the facilitators.

Each event class declares it (``SEEN_BY`` in ``rooms.events``); this resolves the
declaration against the event's room. The live broadcast and the catch-up after a
reconnect use the same rules, so a client never receives on reconnect what it could
not have seen live.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rooms.events import EVENTS, Event, Seen, UnknownEvent
from rooms.meeting import moves_of


@dataclass(frozen=True)
class Audience:
    """The whole meeting, or one room's members (and, if set, every facilitator)."""

    kind: str  # "meeting" | "room"
    room: str | None = None
    facilitators: bool = False


MEETING = Audience("meeting")


def audience(event_type: str, data: dict[str, Any]) -> Audience:
    cls = EVENTS.get(event_type)
    if cls is None:
        raise UnknownEvent(f"No audience for the unknown event type {event_type!r}.")
    seen = cls.SEEN_BY
    if seen is Seen.MEETING:
        return MEETING
    return Audience("room", data["room"], facilitators=seen is Seen.ROOM_AND_FACILITATORS)


def visible(events: Iterable[Event], participant_id: str, room: str,
            facilitator: bool) -> Iterator[Event]:
    """The events a participant would have received live, starting in ``room``."""
    for event in events:
        aud = audience(event.type, event.data)
        if aud.kind == "meeting" or aud.room == room or (aud.facilitators and facilitator):
            yield event
        room = moves_of(event).get(participant_id, room)
