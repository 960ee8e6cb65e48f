"""Presence-aware rounds, rebalancing, session plans and constraints, as pure decisions."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation import breakouts as b
from facilitation.breakouts import RoundSpec
from facilitation.exceptions import (
    InfeasibleConstraint,
    InvalidConstraint,
    InvalidGroupCount,
    NoParticipants,
    TooManyGroups,
)
from facilitation.history import cohort_encounters, larger_seats
from facilitation.rounds import Strategy
from rooms import Role
from rooms.events import ParticipantMoved
from tests.unit.rounds.test_round_machine import Log


def everyone(log: Log) -> set[str]:
    return {p.id for p in log.state.meeting.present() if p.role is Role.PARTICIPANT}


def test_people_away_are_listed_apart_and_left_out_at_opening() -> None:
    log = Log()
    ids = log.people(8)
    online = everyone(log) - {"p1", "p2"}
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=3), seed=1, online=online))
    r = log.state.current()
    assert r is not None and r.away == ["p1", "p2"]
    assert sorted(pid for g in r.groups for pid in g) == sorted(online)
    [opened] = log.do("f", b.open_round(log.state, "f", log.now, online=online))
    assert opened.data["away"] == ["p1", "p2"]
    assert "p1" not in opened.data["moves"] and len(opened.data["moves"]) == 6
    assert log.state.meeting.participants["p1"].room == "plenary"
    # p1 comes back: placed into a group at once, and moved there.
    [placed] = log.do("p1", b.place_returning(log.state, "p1"))
    assert placed.type == "round.placed" and placed.data["moves"] == {
        "p1": r.rooms[placed.data["group"]]}
    assert log.state.meeting.participants["p1"].room == r.rooms[placed.data["group"]]
    assert b.place_returning(log.state, "p1") == []  # already placed: nothing
    assert ids[0] in online


def test_the_facilitator_can_include_people_away() -> None:
    log = Log()
    log.people(6)
    online = everyone(log) - {"p0"}
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2, include_away=True),
                          seed=1, online=online))
    [opened] = log.do("f", b.open_round(log.state, "f", log.now, online=online))
    assert "p0" in opened.data["moves"] and "away" not in opened.data


def test_groups_below_the_minimum_are_merged_and_the_event_says_so() -> None:
    log = Log()
    log.people(7)
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=3), seed=4))
    r = log.state.current()
    assert r is not None
    smallest = list(min(r.groups, key=len))
    number = r.groups.index(smallest) + 1
    assert len(smallest) == 2
    online = everyone(log) - {smallest[0]}
    [opened] = log.do("f", b.open_round(log.state, "f", log.now, online=online))
    assert len(opened.data["groups"]) == 2 and min(map(len, opened.data["groups"])) >= 2
    assert opened.data["rebalanced"]["moved"] == [smallest[1]]
    assert opened.data["rebalanced"]["merged"] == [number]
    assert len(opened.data["prompts"]) == 2


def test_a_min_size_of_three_merges_pairs() -> None:
    log = Log()
    log.people(8)
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_size=2, min_size=3), seed=4))
    [opened] = log.do("f", b.open_round(log.state, "f", log.now))
    assert all(len(g) >= 3 for g in opened.data["groups"])
    assert len(opened.data["rebalanced"]["merged"]) >= 2


def test_any_move_into_a_group_during_an_open_round_counts_as_an_encounter() -> None:
    log = Log()
    log.people(6)
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2), seed=1))
    log.do("f", b.open_round(log.state, "f", log.now))
    r = log.state.current()
    assert r is not None
    mover, target = r.groups[0][0], r.groups[1]
    # A facilitator (or the participant) moves someone with the standard ``moves`` field.
    log.do("f", [ParticipantMoved(id=mover, room=r.rooms[1], from_=r.rooms[0])])
    met = cohort_encounters(log.state, [])
    assert all(met.count(mover, other) == 1 for other in target)
    assert all(met.count(mover, other) == 1 for other in r.groups[0] if other != mover)
    log.do("f", b.close(log.state, "f"))
    assert cohort_encounters(log.state, []).count(mover, target[0]) == 1


def test_two_participants_with_one_name_and_municipality_stay_two_people() -> None:
    log = Log()
    log.do("f", b.join(log.state, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))
    for pid in ("a1", "a2"):
        log.do(pid, b.join(log.state, pid, Role.PARTICIPANT, name="Anna", municipality="Vasa"))
    for i, muni in enumerate(["Esbo", "Borgå"]):
        log.do(f"x{i}", b.join(log.state, f"x{i}", Role.PARTICIPANT, name=f"X{i}",
                               municipality=muni))
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(
        strategy=Strategy.MANUAL, group_count=2, mapping={"a1": 0, "a2": 0, "x0": 1, "x1": 1}),
        seed=1))
    log.do("f", b.open_round(log.state, "f", log.now))
    met = cohort_encounters(log.state, [])
    assert met.count("a1", "a2") == 1  # they met each other: two people, not one
    assert met.count("a1", "x0") == 0 and met.count("a2", "x0") == 0


def test_keep_refuses_a_different_group_count() -> None:
    log = Log()
    log.people(6)
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=2), seed=1))
    log.do("f", b.open_round(log.state, "f", log.now))
    log.do("f", b.close(log.state, "f"))
    with pytest.raises(InvalidGroupCount):
        b.preview(log.state, "f", "r2", RoundSpec(strategy=Strategy.KEEP, group_count=3), seed=1)
    log.do("f", b.preview(log.state, "f", "r2", RoundSpec(strategy=Strategy.KEEP, group_count=2),
                          seed=1))


def test_a_planned_session_continues_its_plan_round_after_round() -> None:
    log = Log()
    log.people(12)
    log.do("f", b.preview(log.state, "f", "r1", RoundSpec(group_count=4, rounds=3), seed=5))
    r1 = log.state.current()
    assert r1 is not None and r1.plan is not None
    assert r1.plan["rounds"] == 3 and len(r1.plan["next"]) == 2 and r1.plan["repeats"] == 0
    log.do("f", b.open_round(log.state, "f", log.now))
    log.do("f", b.close(log.state, "f"))
    log.do("f", b.preview(log.state, "f", "r2", RoundSpec(group_count=4), seed=6))
    r2 = log.state.current()
    assert r2 is not None and r2.plan is not None and r2.plan["rounds"] == 2
    met = cohort_encounters(log.state, [])
    assert all(met.count(a, c) == 0 for g in r2.groups for a in g for c in g if a < c)


def test_constraints_are_validated_and_followed() -> None:
    log = Log()
    log.people(8)
    with pytest.raises(InvalidConstraint, match="ghost"):
        b.set_constraints(log.state, "f", [["p0", "ghost"]], [], False)
    with pytest.raises(InvalidConstraint, match="twice"):
        b.set_constraints(log.state, "f", [["p0", "p1"]], [["p1", "p0"]], False)
    log.do("f", b.set_constraints(log.state, "f", [["p0", "p1"]], [["p2", "p3"]], True))
    for seed in range(3):
        log.do("f", b.preview(log.state, "f", f"r{seed}", RoundSpec(group_count=3), seed=seed))
        r = log.state.current()
        assert r is not None
        assert any({"p0", "p1"} <= set(g) for g in r.groups)
        assert not any({"p2", "p3"} <= set(g) for g in r.groups)
    log.do("f", b.set_constraints(log.state, "f", [], [["p0", "p1"], ["p1", "p2"],
                                                        ["p0", "p2"]], False))
    with pytest.raises(InfeasibleConstraint):
        b.preview(log.state, "f", "rx", RoundSpec(group_count=2), seed=1)
    assert larger_seats(log.state) == {}


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(st.integers(2, 14), st.integers(1, 5), st.integers(1, 4), st.data())
def test_opening_groups_everyone_online_once_and_no_group_below_the_minimum(
        n: int, groups: int, min_size: int, data: st.DataObject) -> None:
    log = Log()
    ids = log.people(n)
    groups = min(groups, n)
    before = data.draw(st.sets(st.sampled_from(ids)), label="away at the preview")
    try:
        drafts = b.preview(log.state, "f", "r1", RoundSpec(group_count=groups, min_size=min_size),
                           seed=1, online=everyone(log) - before)
    except (NoParticipants, TooManyGroups):
        return  # nobody, or too few people, online to preview: refused, as it should be
    log.do("f", drafts)
    after = data.draw(st.sets(st.sampled_from(ids)), label="away at the opening")
    online = everyone(log) - after
    if not online:
        return
    [opened] = log.do("f", b.open_round(log.state, "f", log.now, online=online))
    placed = [pid for g in opened.data["groups"] for pid in g]
    assert sorted(placed) == sorted(online) and set(opened.data["moves"]) == online
    sizes = [len(g) for g in opened.data["groups"]]
    assert len(sizes) == 1 or min(sizes) >= min_size
    assert sorted(opened.data.get("away", [])) == sorted(after)
