"""An organiser prepares a meeting's agenda before the day: from one of the four
focus-area templates or from scratch, one activity at a time.

The organiser is authorised at the edge (signed in); these decisions check the
meeting and the agenda. Once the agenda has started, it is the facilitators'.
"""

from typing import Any

from facilitation.agenda import Activity, ActivityKind, Agenda, FocusArea
from facilitation.agenda_templates import load_template
from facilitation.exceptions import InvalidActivityIndex, InvalidAgenda
from facilitation.planning import activity_data
from facilitation.rounds import Strategy
from facilitation.session import Session
from rooms import Draft
from rooms.events import AgendaSet
from rooms.exceptions import MeetingEnded


def from_template(s: Session, template: str, lang: str) -> list[Draft]:
    _require_unstarted(s)
    agenda = load_template(template, lang)
    return [_set(template, lang, [activity_data(a) for a in agenda.activities])]


def add_activity(s: Session, activity: Activity, strategy: Strategy, lang: str) -> list[Draft]:
    _require_unstarted(s)
    current = list(s.agenda.activities) if s.agenda is not None else []
    taken = {str(a["id"]) for a in current}
    number = len(current) + 1
    while f"a{number}" in taken:
        number += 1
    data = activity_data(Activity(f"a{number}", activity.title, activity.duration_s,
                                  activity.kind, activity.prompt, activity.focus_area,
                                  activity.group_size))
    data["strategy"] = strategy.value
    activities = [*current, data]
    Agenda.of(_activities(activities))  # refuses what an agenda cannot hold
    template = s.agenda.template if s.agenda is not None else None
    return [_set(template, lang, activities)]


def remove_activity(s: Session, index: int, lang: str) -> list[Draft]:
    _require_unstarted(s)
    if s.agenda is None or not 0 <= index < len(s.agenda.activities):
        raise InvalidActivityIndex("There is no such activity on the agenda.")
    rest = [a for i, a in enumerate(s.agenda.activities) if i != index]
    return [_set(s.agenda.template, lang, rest)]


def _set(template: str | None, lang: str, activities: list[dict[str, Any]]) -> Draft:
    return AgendaSet(template=template, lang=lang, activities=activities)


def _activities(items: list[dict[str, Any]]) -> list[Activity]:
    return [Activity(str(a["id"]), str(a["title"]), int(a["duration_s"]),
                     ActivityKind(a["kind"]), str(a.get("prompt") or ""),
                     FocusArea(a["focus_area"]) if a.get("focus_area") else None,
                     a.get("group_size")) for a in items]


def _require_unstarted(s: Session) -> None:
    if s.meeting.ended:
        raise MeetingEnded("This meeting has ended.")
    if s.agenda is not None and s.agenda.cursor is not None:
        raise InvalidAgenda("The agenda has started; the facilitators change it now.")
