"""server.effects: what the server does about an event or a fact, decided without a server."""

from typing import Any

from facilitation import breakouts as b
from facilitation import steering
from facilitation.breakouts import RoundSpec
from facilitation.session import Session
from rooms import PLENARY, SYSTEM, Draft, Event, Role
from rooms import commands as cmd
from server.effects import (
    ArmIce,
    Attached,
    CloseMedia,
    Deliver,
    Detached,
    ForgetBoards,
    ForgetConnection,
    IndexForReview,
    LogPresence,
    MoveConnections,
    PlaceReturning,
    PresenceChanged,
    Reloaded,
    ReplanMedia,
    ReplanNext,
    SeedPrompts,
    SendBoard,
    SyncTimer,
    coalesce,
    delivery,
    effects,
)
from server.fanout import ToMeeting, ToRoom

T0 = 1_800_000_000_000


class Log:
    def __init__(self, people: int = 4) -> None:
        self.state = Session()
        self.do(SYSTEM, [cmd.create_meeting("m", "T", "2026-12-01", "A")])
        self.do("f", b.join(self.state, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))
        for i in range(people):
            self.do(f"p{i}", b.join(self.state, f"p{i}", Role.PARTICIPANT, name=f"P{i}",
                                    municipality="Vasa"))

    def event(self, actor: str, draft: Draft) -> Event:
        return Event(self.state.seq + 1, T0, actor, draft.type, draft.data)

    def do(self, actor: str, drafts: list[Draft]) -> list[Event]:
        events = []
        for d in drafts:
            e = self.event(actor, d)
            self.state.apply(e)
            events.append(e)
        return events


def opened_round(log: Log, prompts: list[str]) -> Event:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2, prompts=prompts),
                          seed=3))
    [draft] = b.open_round(log.state, "f", T0)
    return log.event("f", draft)


def test_a_round_opening_arms_the_timer_replans_media_and_seeds_prompts() -> None:
    log = Log()
    opened = opened_round(log, ["Why?", ""])
    todo = effects(log.state, opened)  # the state just before the event
    rooms = opened.data["rooms"]
    assert todo[:2] == [SyncTimer(), ReplanNext()]
    media = next(e for e in todo if isinstance(e, ReplanMedia))
    assert media.rooms == {PLENARY, *rooms}  # where movers go, and where the fold had them
    # New rooms have empty boards: no board state is sent, the seed follows as an event.
    assert not any(isinstance(e, SendBoard) for e in todo)
    assert todo[-1] == SeedPrompts(((rooms[0], "Why?"),))


def test_a_move_into_an_existing_room_sends_its_board() -> None:
    log = Log()
    opened = opened_round(log, ["", ""])
    log.state.apply(opened)
    room = opened.data["rooms"][1]
    mover = next(pid for pid, r in opened.data["moves"].items() if r != room)
    [draft] = steering.move(log.state, "f", mover, 1)
    todo = effects(log.state, log.event("f", draft))
    assert SendBoard(mover, room) in todo
    assert not any(isinstance(e, SeedPrompts) for e in todo)


def test_chat_is_delivered_to_its_room_and_changes_nothing_else() -> None:
    log = Log()
    [draft] = cmd.chat(log.state.meeting, "p0", "c1", "Hej")
    event = log.event("p0", draft)
    assert effects(log.state, event) == []
    assert delivery("m", event) == [Deliver(event, ToRoom("m", PLENARY))]


def test_an_event_no_rule_looks_at_is_answered_without_reading_it(monkeypatch: Any) -> None:
    """Chat, hands, reactions, board updates: no effects, known from the type alone."""
    import server.effects as fx

    log = Log()
    [draft] = cmd.chat(log.state.meeting, "p0", "c1", "Hej")
    event = log.event("p0", draft)

    def no(*_: object) -> None:
        raise AssertionError("read the event")
    monkeypatch.setattr(fx, "moves_of", no)
    monkeypatch.setattr(fx, "_media_rooms", no)
    assert effects(log.state, event) == []
    assert {"chat.sent", "board.updated", "hand.raised", "reaction.sent"} <= fx._QUIET
    assert not fx._QUIET & ({"round.opened", "meeting.ended", "participant.joined",
                             "participant.left", "participant.moved", "stage.added"})


def test_a_moving_event_readdresses_before_it_is_sent() -> None:
    log = Log()
    opened = opened_round(log, ["", ""])
    steps = delivery("m", opened)
    assert steps == [MoveConnections(tuple(opened.data["moves"].items())),
                     Deliver(opened, ToMeeting("m"))]


def test_meeting_end_closes_media_and_forgets_boards() -> None:
    log = Log()
    [draft] = cmd.end_meeting(log.state.meeting, "f")
    todo = effects(log.state, log.event("f", draft))
    assert CloseMedia() in todo and ForgetBoards() in todo and IndexForReview() in todo


def test_facts_of_connections() -> None:
    log = Log()
    assert effects(log.state, Attached("s1", "p0")) == [  # its plan was in its welcome
        ArmIce("s1"), SendBoard("p0", PLENARY, "s1")]
    assert effects(log.state, Detached("s1", "p0")) == [ForgetConnection("s1")]
    assert effects(log.state, Reloaded()) == [SyncTimer()]
    assert effects(log.state, PresenceChanged("p0", False)) == [
        ReplanMedia(frozenset({PLENARY})), ReplanNext(), LogPresence("p0", False)]


def test_someone_back_during_a_live_round_is_placed_as_a_follow_up() -> None:
    log = Log()
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2), seed=3,
                          online={"f", "p0", "p1", "p2"}))
    log.do("f", b.open_round(log.state, "f", T0, online={"f", "p0", "p1", "p2"}))
    todo = effects(log.state, PresenceChanged("p3", True))
    assert todo[-2:] == [PlaceReturning("p3"), LogPresence("p3", True)]
    assert PlaceReturning("p0") not in effects(log.state, PresenceChanged("p0", True))


def test_coalesce_merges_media_keeps_one_timer_and_puts_follow_ups_last() -> None:
    batch = [SyncTimer(), SeedPrompts((("g1", "x"),)), ReplanMedia(frozenset({"a"})),
             SyncTimer(), SendBoard("p0", "a"), ReplanMedia(frozenset({"b"}))]
    assert coalesce(batch) == [SyncTimer(), ReplanMedia(frozenset({"a", "b"})),
                               SendBoard("p0", "a"), SeedPrompts((("g1", "x"),))]
