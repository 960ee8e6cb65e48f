"""Peer plans: who connects to whom, who is polite, mesh or stage."""

import pytest

from rooms import Draft, Event, Meeting, Role
from rooms import commands as cmd
from rooms.events import RoomSpec, RoundOpened
from rooms.exceptions import NotInRoom, PeerNotInRoom, UnknownPeer
from rooms.media import Sfu, check_publish, check_subscribe, peer_plan, room_plans


def meeting(n: int, facilitators: int = 1) -> Meeting:
    m = Meeting()
    seq = 0

    def do(actor: str, drafts: list[Draft]) -> None:
        nonlocal seq
        for d in drafts:
            seq += 1
            m.apply(Event(seq, seq, actor, d.type, d.data))

    do("system", [cmd.create_meeting("m", "T", "2026-12-01", "A")])
    for i in range(facilitators):
        do(f"f{i}", cmd.join(m, f"f{i}", Role.FACILITATOR, name="F", municipality="Esbo"))
    for i in range(n):
        do(f"p{i:02}", cmd.join(m, f"p{i:02}", Role.PARTICIPANT, name="P", municipality="Vasa"))
    return m


def test_mesh_is_full_and_politeness_is_antisymmetric() -> None:
    m = meeting(4)
    online = set(m.participants)
    plans = room_plans(m, "plenary", online)
    assert {p.mode for p in plans.values()} == {"mesh"}
    for me, plan in plans.items():
        assert plan.peer_ids() == online - {me} and plan.publish
        for other, polite in plan.peers:
            theirs = dict(plans[other].peers)[me]
            assert polite != theirs


def test_offline_members_are_left_out() -> None:
    m = meeting(3)
    plan = peer_plan(m, "p00", {"p00", "p01"})
    assert plan.peer_ids() == {"p01"}


def test_stage_mode_above_the_cap() -> None:
    m = meeting(9)
    online = set(m.participants)
    plans = room_plans(m, "plenary", online, cap=8)
    watcher, host = plans["p00"], plans["f0"]
    assert watcher.mode == "stage" and not watcher.publish
    assert watcher.peer_ids() == {"f0"}
    assert host.publish and host.peer_ids() == online - {"f0"}
    m.stage.append("p03")
    plans = room_plans(m, "plenary", online, cap=8)
    assert plans["p00"].peer_ids() == {"f0", "p03"}
    assert plans["p03"].publish and len(plans["p03"].peers) == len(online) - 1
    assert "p01" not in plans["p02"].peer_ids()


def _breakout(m: Meeting, members: list[str]) -> None:
    seq = m.seq + 1
    opened = RoundOpened(id="r1", groups=[members], rooms=["g1"], prompts=[""], deadline=0,
                         warned=False, opens=[RoomSpec(id="g1", kind="breakout", name="1")],
                         moves={pid: "g1" for pid in members})
    m.apply(Event(seq, seq, "f0", opened.type, opened.data))


def test_the_plenary_runs_through_the_sfu_while_it_is_up() -> None:
    m = meeting(30)
    online = set(m.participants)
    plans = room_plans(m, "plenary", online, cap=8, sfu=Sfu.UP)
    assert {p.mode for p in plans.values()} == {"sfu"}
    assert all(p.publish and p.peers == () and not p.fallback for p in plans.values())
    assert set(plans["p00"].publishers) == online
    down = room_plans(m, "plenary", online, cap=8, sfu=Sfu.DOWN)
    assert {p.mode for p in down.values()} == {"stage"}
    assert all(p.fallback for p in down.values())
    off = room_plans(m, "plenary", online, cap=8, sfu=Sfu.OFF)
    assert not any(p.fallback for p in off.values())


def test_breakouts_stay_peer_to_peer_with_the_sfu_up() -> None:
    m = meeting(4)
    _breakout(m, ["p00", "p01"])
    online = set(m.participants)
    group = room_plans(m, "g1", online, sfu=Sfu.UP)
    assert group["p00"].mode == "mesh" and group["p00"].peer_ids() == {"p01"}
    assert not group["p00"].fallback
    assert room_plans(m, "plenary", online, sfu=Sfu.UP)["p02"].mode == "sfu"


def test_publishing_and_subscribing_only_in_ones_own_sfu_room() -> None:
    m = meeting(4)
    assert check_publish(m, "p00", Sfu.UP) == "plenary"
    assert check_subscribe(m, "p00", ["p01", "f0"], Sfu.UP) == "plenary"
    for sfu in (Sfu.OFF, Sfu.DOWN):
        with pytest.raises(NotInRoom):
            check_publish(m, "p00", sfu)
    with pytest.raises(UnknownPeer):
        check_subscribe(m, "p00", ["p00"], Sfu.UP)
    with pytest.raises(UnknownPeer):
        check_subscribe(m, "p00", ["nobody"], Sfu.UP)
    _breakout(m, ["p02", "p03"])
    with pytest.raises(PeerNotInRoom):
        check_subscribe(m, "p00", ["p02"], Sfu.UP)
    with pytest.raises(NotInRoom):
        check_publish(m, "p02", Sfu.UP)
