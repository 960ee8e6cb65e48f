import pytest

from facilitation.agenda import Activity, ActivityKind, Agenda, FocusArea
from facilitation.exceptions import (
    AgendaEnded,
    InvalidActivity,
    InvalidActivityIndex,
    InvalidAgenda,
    InvalidDuration,
)

WELCOME = Activity("welcome", "Välkommen", 600, ActivityKind.PLENARY)
TALK = Activity("talk", "Samtal", 1200, ActivityKind.BREAKOUT, "Berätta …", group_size=4)
WRAP = Activity("wrap", "Återkoppling", 900, ActivityKind.PLENARY)


def agenda() -> Agenda:
    return Agenda.of([WELCOME, TALK, WRAP], title="Test")


def test_cursor_walks_through_the_activities() -> None:
    state = agenda()
    assert state.current is None
    state = state.next()
    assert state.current == WELCOME
    state = state.next().next()
    assert state.current == WRAP
    assert state.is_last
    assert state.total_duration_s == 2700


def test_next_after_the_last_activity_ends_the_agenda() -> None:
    last = agenda().start(2)
    with pytest.raises(AgendaEnded) as caught:
        last.next()
    assert caught.value.code == "agenda_ended"


def test_start_jumps_and_refuses_out_of_range() -> None:
    assert agenda().start(1).current == TALK
    assert agenda().start(2).start(0).current == WELCOME
    with pytest.raises(InvalidActivityIndex):
        agenda().start(3)
    with pytest.raises(InvalidActivityIndex):
        agenda().start(-1)


def test_state_changes_leave_the_original_untouched() -> None:
    original = agenda()
    original.start(1)
    assert original.cursor is None


@pytest.mark.parametrize("seconds", [29, 3 * 3600 + 1, 0])
def test_breakouts_last_between_30_seconds_and_three_hours(seconds: int) -> None:
    with pytest.raises(InvalidDuration, match="between 30 and 10800"):
        Activity("b", "Breakout", seconds, ActivityKind.BREAKOUT)


@pytest.mark.parametrize("seconds", [30, 60, 3 * 3600])
def test_breakout_duration_limits_are_inclusive(seconds: int) -> None:
    assert Activity("b", "Breakout", seconds, ActivityKind.BREAKOUT).duration_s == seconds


def test_plenary_needs_a_positive_duration() -> None:
    with pytest.raises(InvalidDuration):
        Activity("p", "Plenum", 0, ActivityKind.PLENARY)


def test_activity_validation() -> None:
    with pytest.raises(InvalidActivity):
        Activity(" ", "Title", 600, ActivityKind.PLENARY)
    with pytest.raises(InvalidActivity, match="cannot have a group size"):
        Activity("p", "Plenum", 600, ActivityKind.PLENARY, group_size=4)
    with pytest.raises(InvalidActivity):
        Activity("b", "Breakout", 600, ActivityKind.BREAKOUT, group_size=1)
    focused = Activity("b", "B", 600, ActivityKind.BREAKOUT, focus_area=FocusArea.CREATIVITY)
    assert focused.focus_area == "creativity_problem_solving"


def test_agenda_validation() -> None:
    with pytest.raises(InvalidAgenda):
        Agenda.of([])
    with pytest.raises(InvalidAgenda, match="its own id"):
        Agenda.of([WELCOME, WELCOME])
    with pytest.raises(InvalidActivityIndex):
        Agenda((WELCOME,), cursor=1)
