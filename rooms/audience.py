"""Who may see an event: the whole meeting, one room, or the facilitators.

The live broadcast and the catch-up after a reconnect use the same rules,
so a client never receives on reconnect what it could not have seen live.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rooms.events import Event
from rooms.meeting import moves_of

ROOM_SCOPED = frozenset({"chat.sent", "reaction.sent", "board.updated"})
# Facilitators see every group's media state and messages in the console's overview.
ROOM_AND_FACILITATORS = frozenset({"help.requested", "help.answered", "round.messaged",
                                   "media.changed"})


@dataclass(frozen=True)
class Audience:
    """The whole meeting, or one room's members (and, if set, every facilitator)."""

    kind: str  # "meeting" | "room"
    room: str | None = None
    facilitators: bool = False


MEETING = Audience("meeting")


def audience(event_type: str, data: dict[str, Any]) -> Audience:
    if event_type in ROOM_SCOPED:
        return Audience("room", data["room"])
    if event_type in ROOM_AND_FACILITATORS:
        return Audience("room", data["room"], facilitators=True)
    return MEETING


def visible(events: Iterable[Event], participant_id: str, room: str,
            facilitator: bool) -> Iterator[Event]:
    """The events a participant would have received live, starting in ``room``."""
    for event in events:
        aud = audience(event.type, event.data)
        if aud.kind == "meeting" or aud.room == room or (aud.facilitators and facilitator):
            yield event
        room = moves_of(event).get(participant_id, room)
