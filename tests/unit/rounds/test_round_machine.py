"""The breakout round state machine, folded from its own decisions, no server."""

import pytest

from facilitation import breakouts as b
from facilitation.breakouts import RoundSpec
from facilitation.exceptions import (
    FacilitationError,
    HelpAlreadyRequested,
    InvalidDuration,
    NotInBreakout,
    RoundAlreadyClosed,
    RoundAlreadyOpen,
    RoundInProgress,
    TooManyGroups,
    UnknownParticipant,
)
from facilitation.history import cohort_encounters, network_report
from facilitation.rounds import Phase, Strategy
from facilitation.session import Session, fold
from rooms import SYSTEM, Draft, Event, Role
from rooms import commands as cmd
from rooms.exceptions import Forbidden

T0 = 1_800_000_000_000
MUNICIPALITIES = ["Vasa", "Borgå", "Raseborg", "Esbo", "Helsingfors", "Kimitoön"]


class Log:
    def __init__(self, meeting: str = "m1", cohort: str = "A") -> None:
        self.events: list[Event] = []
        self.state = Session()
        self.now = T0
        self.do(SYSTEM, [cmd.create_meeting(meeting, "Träff", "2026-12-01", cohort)])

    def do(self, actor: str, drafts: list[Draft]) -> list[Event]:
        out = []
        for d in drafts:
            e = Event(self.state.seq + 1, self.now, actor, d.type, d.data)
            self.state.apply(e)
            out.append(e)
        self.events += out
        return out

    def people(self, n: int) -> list[str]:
        self.do("f", b.join(self.state, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))
        ids = []
        for i in range(n):
            pid = f"p{i}"
            self.do(pid, b.join(self.state, pid, Role.PARTICIPANT, name=f"Person {i}",
                                municipality=MUNICIPALITIES[i % len(MUNICIPALITIES)],
                                person=f"person-{i}"))
            ids.append(pid)
        return ids


@pytest.fixture
def log() -> Log:
    lg = Log()
    lg.people(12)
    return lg


def open_round(log: Log, **spec: object) -> None:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(**spec), seed=7))  # type: ignore[arg-type]
    log.do("f", b.open_round(log.state, "f", log.now))


def test_preview_then_open_moves_everyone_but_facilitators(log: Log) -> None:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_size=4, duration_s=600,
                                                          prompt="Diskutera"), seed=1))
    r = log.state.current()
    assert r is not None and r.phase is Phase.PREVIEW and len(r.groups) == 3
    assert all(p.room == "plenary" for p in log.state.meeting.present())
    log.do("f", b.open_round(log.state, "f", log.now))
    assert r.phase is Phase.OPEN and r.deadline == log.now + 600_000
    m = log.state.meeting
    assert m.participants["f"].room == "plenary"
    for index, group in enumerate(r.groups):
        assert {p.id for p in m.members(r.rooms[index])} == set(group)
        assert len({m.participants[pid].municipality for pid in group}) == len(group)
    assert r.prompts == ["Diskutera"] * 3
    assert fold(log.events) == log.state


def test_regroup_in_preview(log: Log) -> None:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=3), seed=1))
    r = log.state.current()
    assert r is not None
    target = 0 if "p0" not in r.groups[0] else 1
    log.do("f", b.regroup(log.state, "f", "p0", target))
    assert "p0" in r.groups[target] and sum("p0" in g for g in r.groups) == 1


def test_timers_warn_then_closing_then_close(log: Log) -> None:
    open_round(log, group_count=3, duration_s=300, warning_s=60, closing_s=30)
    r = log.state.current()
    assert r is not None and r.deadline is not None
    assert b.next_due(log.state) == r.deadline - 60_000
    assert b.tick(log.state, r.deadline - 61_000) == []
    log.do(SYSTEM, b.tick(log.state, r.deadline - 60_000))
    assert r.warned and b.next_due(log.state) == r.deadline
    log.do(SYSTEM, b.tick(log.state, r.deadline))
    assert r.phase is Phase.CLOSING and r.closes_at == r.deadline + 30_000
    log.do(SYSTEM, b.tick(log.state, r.deadline + 30_000))
    assert r.phase is Phase.CLOSED and r.close_reason == "deadline"
    assert all(p.room == "plenary" for p in log.state.meeting.present())
    assert not any(log.state.meeting.rooms[room].open for room in r.rooms)
    assert b.next_due(log.state) is None


def test_a_restart_long_after_the_deadline_closes_at_once(log: Log) -> None:
    open_round(log, group_count=2, duration_s=120)
    r = log.state.current()
    assert r is not None and r.deadline is not None
    drafts = b.tick(log.state, r.deadline + 3_600_000)
    assert [d.type for d in drafts][:2] == ["round.closing", "round.closed"]
    log.do(SYSTEM, drafts)
    assert r.phase is Phase.CLOSED


def test_extend_and_shorten(log: Log) -> None:
    open_round(log, group_count=2, duration_s=600)
    r = log.state.current()
    assert r is not None and r.deadline is not None
    first = r.deadline
    log.do("f", b.extend(log.state, "f", 120, log.now))
    assert r.deadline == first + 120_000
    log.do("f", b.extend(log.state, "f", -300, log.now))
    assert r.deadline == first - 180_000
    with pytest.raises(InvalidDuration):
        b.extend(log.state, "f", -10_000, log.now)
    log.do(SYSTEM, b.tick(log.state, r.deadline))
    assert r.phase is Phase.CLOSING
    log.now = r.deadline + 5_000
    log.do("f", b.extend(log.state, "f", 60, log.now))
    assert r.phase is Phase.OPEN and r.deadline == log.now + 60_000


def test_close_twice_gives_one_close(log: Log) -> None:
    open_round(log, group_count=2)
    log.do("f", b.close(log.state, "f"))
    with pytest.raises(RoundAlreadyClosed):
        b.close(log.state, "f")
    with pytest.raises(RoundAlreadyClosed):
        b.extend(log.state, "f", 60, log.now)
    assert sum(e.type == "round.closed" for e in log.events) == 1


def test_open_twice_and_preview_during_a_round_are_refused(log: Log) -> None:
    open_round(log, group_count=2)
    with pytest.raises(RoundAlreadyOpen):
        b.open_round(log.state, "f", log.now)
    with pytest.raises(RoundInProgress):
        b.preview(log.state, "f", "r2", RoundSpec(group_count=2), seed=1)


def test_participants_cannot_run_rounds(log: Log) -> None:
    for attempt in (lambda: b.preview(log.state, "p1", "r1", RoundSpec(group_count=2), 1),
                    lambda: b.open_round(log.state, "p1", log.now),
                    lambda: b.close(log.state, "p1"),
                    lambda: b.broadcast(log.state, "p1", "hej")):
        with pytest.raises(Forbidden):
            attempt()


@pytest.mark.parametrize("spec,error", [
    (RoundSpec(group_count=0), FacilitationError),
    (RoundSpec(group_count=13), TooManyGroups),
    (RoundSpec(group_count=2, duration_s=29), InvalidDuration),
    (RoundSpec(group_count=2, duration_s=3 * 3600 + 1), InvalidDuration),
    (RoundSpec(strategy=Strategy.MANUAL, group_count=2, mapping={"nobody": 0}),
     UnknownParticipant),
    (RoundSpec(strategy=Strategy.KEEP), FacilitationError),
])
def test_impossible_parameters(log: Log, spec: RoundSpec, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        b.preview(log.state, "f", "r1", spec, seed=1)
    assert raised.value.code != "facilitation_error"  # type: ignore[attr-defined]


def test_late_joiner_and_returning_participant(log: Log) -> None:
    open_round(log, group_count=3)
    r = log.state.current()
    assert r is not None
    log.do("late", b.join(log.state, "late", Role.PARTICIPANT, name="Sen", municipality="Pargas"))
    assert r.group_of("late") is not None
    assert log.state.meeting.participants["late"].room == r.room_of("late")
    log.do("p3", cmd.leave(log.state.meeting, "p3", "timeout"))
    log.do("p3", b.join(log.state, "p3", Role.PARTICIPANT, name="Person 3",
                        municipality="Esbo"))
    assert log.state.meeting.participants["p3"].room == r.room_of("p3")


def test_visit_help_and_broadcast(log: Log) -> None:
    open_round(log, group_count=3)
    r = log.state.current()
    assert r is not None
    with pytest.raises(NotInBreakout):
        b.request_help(log.state, "f")
    log.do("p0", b.request_help(log.state, "p0"))
    with pytest.raises(HelpAlreadyRequested):
        b.request_help(log.state, "p0")
    room = log.state.help["p0"].room
    group = r.rooms.index(room)
    log.do("f", b.visit(log.state, "f", group))
    assert log.state.meeting.participants["f"].room == room and log.state.help == {}
    log.do("f", b.broadcast(log.state, "f", "Fem minuter kvar"))
    assert r.broadcasts == ["Fem minuter kvar"]
    log.do("f", b.close(log.state, "f"))
    assert log.state.meeting.participants["f"].room == "plenary"


def test_self_select(log: Log) -> None:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(strategy=Strategy.SELF_SELECT,
                                                          group_count=3, capacity=4), seed=3))
    for pid in ("p0", "p1", "p2", "p3"):
        log.do(pid, b.choose(log.state, pid, 0))
    with pytest.raises(FacilitationError) as full:
        b.choose(log.state, "p4", 0)
    assert full.value.code == "group_full"
    log.do("p4", b.choose(log.state, "p4", 1))
    log.do("f", b.open_round(log.state, "f", log.now))
    r = log.state.current()
    assert r is not None
    assert set(r.groups[0]) == {"p0", "p1", "p2", "p3"} and "p4" in r.groups[1]
    assert sorted(len(g) for g in r.groups) == [4, 4, 4]


def test_keep_reopens_previous_groups(log: Log) -> None:
    open_round(log, group_count=3)
    first = [list(g) for g in log.state.rounds[-1].groups]
    log.do("f", b.close(log.state, "f"))
    log.do("f", b.preview(log.state, "f", "r2", RoundSpec(strategy=Strategy.KEEP), seed=9))
    log.do("f", b.open_round(log.state, "f", log.now))
    assert log.state.rounds[-1].groups == first


def test_mix_avoids_repeats_across_the_cohort() -> None:
    earlier = Log("m0")
    earlier.people(12)
    open_round(earlier, group_count=3)
    now = Log("m1")
    now.people(12)
    met = cohort_encounters(now.state, [earlier.state])
    assert len(met) > 0
    # Four groups of three can take one person from each earlier group: no repeats.
    now.do("f", b.preview(now.state, "f", "r1", RoundSpec(group_count=4), seed=7,
                          encounters=met))
    groups = now.state.current().groups  # type: ignore[union-attr]
    repeats = sum(met.count(a, c) for g in groups for a in g for c in g if a < c)
    assert repeats == 0
    report = network_report(now.state, [earlier.state])
    assert report["rounds"] == []
    people = {p["id"]: p for p in report["participants"]}  # type: ignore[index, union-attr]
    assert people["p0"]["people_met"] == 3


def test_round_numbers_count_opened_rounds(log: Log) -> None:
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2), seed=1))
    log.do("f", b.preview(log.state, "f", "r2", RoundSpec(group_count=3), seed=1))
    assert [r.phase for r in log.state.rounds] == [Phase.CANCELLED, Phase.PREVIEW]
    assert log.state.rounds[-1].number == 1
