"""Moving a meeting to another cohort: one event in the meeting's own log."""

import pytest

from rooms import Draft, Event, Meeting, Role, fold
from rooms import commands as cmd
from rooms.events import MeetingUpdated
from rooms.exceptions import CohortNotAllowed, MeetingEnded, MeetingInUse

COHORTS = {"A", "B"}


def run(events: list[Event], state: Meeting, drafts: list[Draft]) -> None:
    for d in drafts:
        e = Event(state.seq + 1, 1000 * (state.seq + 1), "admin", d.type, d.data)
        state.apply(e)
        events.append(e)


def meeting() -> tuple[list[Event], Meeting]:
    events: list[Event] = []
    state = Meeting()
    run(events, state, [cmd.create_meeting("m1", "Träff 1", "2026-12-01T09:00", "A")])
    run(events, state, cmd.update_meeting(state, facilitators=["pbo"]))
    return events, state


def test_a_move_is_one_event_and_the_fold_replays_it() -> None:
    events, state = meeting()
    drafts = cmd.move_meeting(state, "B", COHORTS)
    assert drafts == [MeetingUpdated(cohort="B", facilitators=[])]
    run(events, state, drafts)
    assert (state.cohort, state.facilitators) == ("B", [])
    replayed = fold(events)  # restart recovery and review see the same cohort
    assert (replayed.cohort, replayed.facilitators) == ("B", [])
    assert cmd.move_meeting(state, "B", COHORTS) == []  # already there: nothing logged


def test_a_move_is_refused_outside_the_programme_while_used_or_ended() -> None:
    events, state = meeting()
    with pytest.raises(CohortNotAllowed):
        cmd.move_meeting(state, "X", COHORTS)
    run(events, state, cmd.join(state, "p1", Role.PARTICIPANT, name="Bo", municipality="Esbo"))
    with pytest.raises(MeetingInUse):
        cmd.move_meeting(state, "B", COHORTS)
    run(events, state, cmd.end_meeting(state))
    with pytest.raises(MeetingEnded):
        cmd.move_meeting(state, "B", COHORTS)
    assert state.cohort == "A"
