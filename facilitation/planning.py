"""Decisions about the agenda, and who may read which whiteboard.

Like ``breakouts``: pure functions of the session that return drafts or raise.
"""

from typing import Any

from facilitation.agenda import Activity
from facilitation.agenda_templates import load_template
from facilitation.exceptions import InvalidActivityIndex
from facilitation.session import Session
from rooms import Draft, Role
from rooms.commands import require_facilitator
from rooms.events import AgendaSet, AgendaStarted


def activity_data(a: Activity) -> dict[str, Any]:
    return {"id": a.id, "title": a.title, "duration_s": a.duration_s, "kind": a.kind.value,
            "prompt": a.prompt, "focus_area": a.focus_area.value if a.focus_area else None,
            "group_size": a.group_size}


def set_agenda(s: Session, actor: str, template: str, lang: str) -> list[Draft]:
    """Put one of the shipped agenda templates on the meeting, in ``lang``."""
    require_facilitator(s.meeting, actor)
    agenda = load_template(template, lang)
    return [AgendaSet(template=template, lang=lang,
                      activities=[activity_data(a) for a in agenda.activities])]


def start_activity(s: Session, actor: str, index: int) -> list[Draft]:
    """Move the agenda to activity ``index``; a breakout one pre-fills the next round."""
    require_facilitator(s.meeting, actor)
    if s.agenda is None or not 0 <= index < len(s.agenda.activities):
        raise InvalidActivityIndex("There is no such activity on the agenda.")
    return [AgendaStarted(index=index, activity=s.agenda.activities[index])]


def can_read_board(s: Session, participant: str, room: str) -> bool:
    """Facilitators read every board; participants their own room's, and every
    closed room's (the gallery after a round)."""
    me = s.meeting.participants.get(participant)
    target = s.meeting.rooms.get(room)
    if me is None or target is None or not me.present:
        return False
    return (me.role is Role.FACILITATOR or me.room == room or not target.open
            or s.shown_board == room)
