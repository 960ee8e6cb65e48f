"""The meeting core: log events, the fold, rooms, presence, chat and hands."""

from rooms.audience import MEETING, Audience, audience, visible
from rooms.events import ADMIN, EVENTS, SYSTEM, Draft, Entry, Event, Seen, decode
from rooms.exceptions import DomainError
from rooms.meeting import (
    PLENARY,
    ChatMessage,
    Meeting,
    Participant,
    Role,
    Room,
    RoomKind,
    fold,
    moves_of,
)
from rooms.view import meeting_view

__all__ = [
    "ADMIN", "EVENTS", "MEETING", "PLENARY", "SYSTEM", "Audience", "ChatMessage",
    "DomainError", "Draft", "Entry", "Event", "Meeting", "Participant", "Role", "Room",
    "RoomKind", "Seen", "audience", "decode", "fold", "meeting_view", "moves_of", "visible",
]
