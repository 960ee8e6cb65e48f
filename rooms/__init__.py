"""The meeting core: log events, the fold, rooms, presence, chat and hands."""

from rooms.audience import MEETING, Audience, audience, visible
from rooms.events import ADMIN, SYSTEM, Draft, Event
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
    "ADMIN", "MEETING", "PLENARY", "SYSTEM", "Audience", "ChatMessage",
    "DomainError", "Draft", "Event", "Meeting", "Participant", "Role", "Room", "RoomKind",
    "audience", "fold", "meeting_view", "moves_of", "visible",
]
