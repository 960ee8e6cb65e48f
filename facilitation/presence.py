"""Presence in the log: whether an online/offline transition is worth an event.

The server debounces (``server/presence_log.py``); this says what the log records.
"""

from facilitation.session import Session
from rooms import Draft
from rooms.events import PresenceChanged


def presence_changed(s: Session, pid: str, online: bool, at: int) -> list[Draft]:
    """The event, unless it would change nothing (already so, gone, or meeting over)."""
    person = s.meeting.participants.get(pid)
    if s.meeting.ended or person is None or not person.present:
        return []
    if (pid in s.online) == online:
        return []
    return [PresenceChanged(participant=pid, online=online, at=at)]
