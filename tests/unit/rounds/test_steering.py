"""Steering an open round, pure: moves fold into groups and rooms, a replay of the log
gives the same state, and the hands a round put aside come back after it."""

import pytest

from facilitation import breakouts as b
from facilitation import steering
from facilitation.breakouts import RoundSpec
from facilitation.exceptions import NoHandsToRestore, RoundNotRoaming
from facilitation.session import fold
from rooms import PLENARY, SYSTEM
from rooms import commands as cmd
from tests.unit.rounds.test_round_machine import Log


@pytest.fixture
def log() -> Log:
    lg = Log()
    lg.people(6)
    return lg


def open_round(log: Log, **spec: object) -> None:
    round_id = f"r{len(log.state.rounds) + 1}"
    log.do("f", b.preview(log.state, "f", round_id, RoundSpec(group_count=2, **spec),  # type: ignore[arg-type]
                          seed=1))
    log.do("f", b.open_round(log.state, "f", log.now))


def test_a_move_changes_group_and_room_and_replays_the_same(log: Log) -> None:
    open_round(log)
    r = log.state.current()
    assert r is not None
    pid = r.groups[0][0]
    (moved,) = log.do("f", steering.move(log.state, "f", pid, 1))
    assert moved.data["moves"] == {pid: r.rooms[1]}
    assert pid in r.groups[1] and pid not in r.groups[0]
    assert log.state.meeting.participants[pid].room == r.rooms[1]
    assert steering.move(log.state, "f", pid, 1) == []  # already there
    log.do("f", steering.move(log.state, "f", pid, None))
    assert log.state.meeting.participants[pid].room == PLENARY
    replayed = fold(log.events)
    assert replayed.current() == log.state.current()
    assert replayed.meeting.participants == log.state.meeting.participants


def test_participants_roam_only_when_the_round_allows(log: Log) -> None:
    open_round(log)
    with pytest.raises(RoundNotRoaming):
        steering.go(log.state, "p0", None)
    log.do("f", b.close(log.state, "f"))
    open_round(log, roaming=True)
    log.do("p0", steering.go(log.state, "p0", None))
    assert log.state.meeting.participants["p0"].room == PLENARY
    assert log.state.current().group_of("p0") is None  # type: ignore[union-attr]


def test_close_with_countdown_or_at_once_without_one(log: Log) -> None:
    open_round(log, closing_s=20)
    (closing,) = steering.close_with_countdown(log.state, "f", log.now)
    assert closing.type == "round.closing" and closing.data["closes_at"] == log.now + 20_000
    log.do("f", [closing])
    log.now += 20_000
    assert [d.type for d in b.tick(log.state, log.now)] == ["round.closed"]
    log.do(SYSTEM, b.tick(log.state, log.now))
    open_round(log, closing_s=0)
    assert [d.type for d in steering.close_with_countdown(log.state, "f", log.now)] == [
        "round.closed"]


def test_hands_put_aside_by_a_round_come_back_without_those_who_left(log: Log) -> None:
    for pid in ("p3", "p1", "p2"):
        log.do(pid, cmd.raise_hand(log.state.meeting, pid))
    open_round(log)
    assert log.state.meeting.hands == []
    log.do("p1", cmd.leave(log.state.meeting, "p1", "left"))
    log.do("f", b.close(log.state, "f"))
    log.do("p4", cmd.raise_hand(log.state.meeting, "p4"))
    log.do("f", steering.restore_hands(log.state, "f"))
    assert log.state.meeting.hands == ["p3", "p2", "p4"]
    with pytest.raises(NoHandsToRestore):
        steering.restore_hands(log.state, "f")
