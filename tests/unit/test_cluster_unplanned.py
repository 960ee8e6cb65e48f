"""Someone heard of as online (another process's presence message) before their join
reached this process: their room is re-planned once the join is taken in."""

from rooms import PLENARY, Event, Meeting, fold
from rooms.events import ParticipantJoined
from server.cluster.unplanned import Unplanned


def _joined(seq: int, pid: str) -> Event:
    data = {"id": pid, "name": pid, "municipality": "Vasa", "role": "participant"}
    return Event(seq, 0, pid, ParticipantJoined.TYPE, data)


def _meeting(*events: Event) -> Meeting:
    created = Event(1, 0, "system", "meeting.created",
                    {"id": "m", "title": "T", "starts_at": "2026-12-01", "cohort": ""})
    return fold([created, *events])


def test_a_presence_before_the_join_re_plans_the_room_when_the_join_comes() -> None:
    early = Unplanned()
    before = _meeting()
    early.heard("m", before, "anna", online=True)  # not a participant here yet
    join = _joined(2, "anna")
    after = _meeting(join)
    assert after.participants["anna"].room == PLENARY
    assert early.joined("m", after, [join]) == frozenset({PLENARY})
    assert early.joined("m", after, [join]) == frozenset()  # once


def test_a_presence_after_the_join_re_plans_nothing_more() -> None:
    early = Unplanned()
    join = _joined(2, "anna")
    after = _meeting(join)
    early.heard("m", after, "anna", online=True)  # the presence's own re-plan places her
    assert early.joined("m", after, [join]) == frozenset()


def test_gone_again_or_the_meeting_released_before_the_join_leaves_nothing() -> None:
    early = Unplanned()
    before = _meeting()
    early.heard("m", before, "anna", online=True)
    early.heard("m", before, "anna", online=False)
    early.heard("m", before, "bo", online=True)
    early.forget("m")
    join_a, join_b = _joined(2, "anna"), _joined(3, "bo")
    assert early.joined("m", _meeting(join_a, join_b), [join_a, join_b]) == frozenset()
