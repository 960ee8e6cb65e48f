"""Logged presence folds into attendance: intervals close on offline, leave and end."""

from facilitation.session import Session, fold
from rooms import Event


def ev(seq: int, ts: int, type_: str, data: dict, actor: str = "system") -> Event:  # type: ignore[type-arg]
    return Event(seq, ts, actor, type_, data)


def test_attendance_from_presence_leave_and_end() -> None:
    events = [
        ev(1, 0, "meeting.created", {"id": "m", "title": "T", "starts_at": "", "cohort": ""}),
        ev(2, 1000, "presence.changed", {"participant": "a", "online": True, "at": 1000}),
        ev(3, 1000, "presence.changed", {"participant": "b", "online": True, "at": 1000}),
        ev(4, 70_000, "presence.changed", {"participant": "a", "online": False, "at": 61_000}),
        ev(5, 80_000, "presence.changed", {"participant": "a", "online": True, "at": 80_000}),
        ev(6, 90_000, "presence.changed", {"participant": "a", "online": True, "at": 90_000}),
        ev(7, 100_000, "meeting.ended", {}),
    ]
    s = fold(events[:6], Session())
    assert s.online == {"a": 80_000, "b": 1000}  # a repeated online keeps the first
    assert s.attendance_ms(100_000) == {"a": 60_000 + 20_000, "b": 99_000}
    fold(events[6:], s)
    assert s.online == {}
    assert s.attended_ms == {"a": 80_000, "b": 99_000}
    assert s.attendance_ms(500_000) == s.attended_ms  # nothing counts after the end
