"""The fold and the decisions of the meeting core, with no server."""

import pytest

from rooms import Draft, Event, Meeting, Role, fold, meeting_view, visible
from rooms import commands as cmd
from rooms.events import ParticipantMoved, RoomSpec, RoundOpened
from rooms.exceptions import Forbidden, HandNotRaised, InvalidValue, MeetingEnded, NotJoined


class Log:
    """Decide and apply, as the server does, but in memory."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.state = Meeting()
        self.do("system", [cmd.create_meeting("m1", "Träff 1", "2026-12-01T09:00", "A")])

    def do(self, actor: str, drafts: list[Draft]) -> list[Event]:
        new = []
        for d in drafts:
            e = Event(self.state.seq + 1, 1000 * (self.state.seq + 1), actor, d.type, d.data)
            self.state.apply(e)
            new.append(e)
        self.events += new
        return new


@pytest.fixture
def log() -> Log:
    lg = Log()
    lg.do("f", cmd.join(lg.state, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))
    lg.do("a", cmd.join(lg.state, "a", Role.PARTICIPANT, name=" Anna ", municipality="Vasa"))
    lg.do("b", cmd.join(lg.state, "b", Role.PARTICIPANT, name="Bo", municipality="Borgå"))
    return lg


def test_fold_of_the_log_equals_the_live_state(log: Log) -> None:
    log.do("a", cmd.chat(log.state, "a", "c1", "Hej alla"))
    log.do("b", cmd.raise_hand(log.state, "b"))
    log.do("a", cmd.raise_hand(log.state, "a"))
    log.do("f", cmd.lower_hand(log.state, "f", "b"))
    log.do("b", cmd.leave(log.state, "b", "left"))
    assert fold(log.events) == log.state
    assert log.state.participants["a"].name == "Anna"
    assert log.state.hands == ["a"]
    assert [m.text for m in log.state.chat["plenary"]] == ["Hej alla"]
    assert log.state.participants["b"].present is False


def test_fold_continues_from_a_snapshot(log: Log) -> None:
    log.do("a", cmd.chat(log.state, "a", "c1", "ett"))
    head = fold(log.events[:3])
    rest = fold(log.events[3:], head)
    assert rest == log.state


def test_fold_refuses_a_gap() -> None:
    with pytest.raises(ValueError):
        fold([Event(2, 0, "system", "meeting.ended", {})])


def test_rejoin_after_leaving_keeps_the_id(log: Log) -> None:
    log.do("b", cmd.leave(log.state, "b", "timeout"))
    assert cmd.join(log.state, "a", Role.PARTICIPANT, name="Anna", municipality="Vasa") == []
    again = log.do("b", cmd.join(log.state, "b", Role.PARTICIPANT, name="Bo",
                                 municipality="Borgå"))
    assert again[0].type == "participant.joined"
    assert log.state.participants["b"].present


def test_rules(log: Log) -> None:
    with pytest.raises(Forbidden):
        cmd.clear_hands(log.state, "a")
    with pytest.raises(HandNotRaised):
        cmd.lower_hand(log.state, "a")
    with pytest.raises(InvalidValue):
        cmd.chat(log.state, "a", "c", "")
    with pytest.raises(InvalidValue):
        cmd.join(log.state, "z", Role.PARTICIPANT, name="", municipality="Vasa")
    log.do("b", cmd.leave(log.state, "b", "left"))
    with pytest.raises(NotJoined):
        cmd.chat(log.state, "b", "c", "hej")
    log.do("admin", cmd.end_meeting(log.state))
    with pytest.raises(MeetingEnded):
        cmd.chat(log.state, "a", "c", "hej")
    assert log.state.hands == [] and log.state.present() == []


def test_leaving_removes_a_raised_hand(log: Log) -> None:
    log.do("a", cmd.raise_hand(log.state, "a"))
    log.do("a", cmd.leave(log.state, "a", "timeout"))
    assert log.state.hands == []


def test_view_shows_only_the_viewers_room_chat(log: Log) -> None:
    log.do("a", cmd.chat(log.state, "a", "c1", "i plenum"))
    log.do("f", [RoundOpened(id="r1", groups=[[]], rooms=["g1"], prompts=[""], deadline=0,
                             warned=False, moves={},
                             opens=[RoomSpec(id="g1", kind="breakout", name="Grupp 1")])])
    log.do("f", [ParticipantMoved(id="b", room="g1", from_="plenary")])
    log.do("b", cmd.chat(log.state, "b", "c2", "i gruppen"))
    assert [c["text"] for c in meeting_view(log.state, "a")["chat"]] == ["i plenum"]
    assert [c["text"] for c in meeting_view(log.state, "b")["chat"]] == ["i gruppen"]


def test_visible_follows_the_participants_moves(log: Log) -> None:
    start = log.state.seq
    log.do("f", [RoundOpened(id="r1", groups=[[]], rooms=["g1"], prompts=[""], deadline=0,
                             warned=False, moves={},
                             opens=[RoomSpec(id="g1", kind="breakout", name="Grupp 1")])])
    log.do("a", cmd.chat(log.state, "a", "c1", "före"))
    log.do("f", [ParticipantMoved(id="b", room="g1", from_="plenary")])
    log.do("a", cmd.chat(log.state, "a", "c2", "efter, i plenum"))
    log.do("b", cmd.chat(log.state, "b", "c3", "i gruppen"))
    seen = [e.data.get("text") for e in visible(log.events[start:], "b", "plenary", False)
            if e.type == "chat.sent"]
    assert seen == ["före", "i gruppen"]
