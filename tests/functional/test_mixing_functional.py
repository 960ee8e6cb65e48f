"""Mixing at its limits, end to end: real server, real Socket.IO clients.

Who is online (server) decides who is grouped; session plans are computed in
the server's worker process; constraints are set by the facilitator.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from facilitation.history import cohort_encounters
from facilitation.people import Person
from facilitation.plans import PlanRequest
from facilitation.schedule import NO_CONSTRAINTS
from server.keys import GATEWAY, HUB
from server.planner import DEBOUNCE_S, Planner
from tests.support import Client, Meeting, RunningServer, start_server

MUNIS = ["Vasa", "Borgå", "Raseborg", "Esbo", "Helsingfors", "Kimitoön", "Pargas", "Lovisa"]


@pytest.fixture
async def long_grace(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", "json", grace_s=30.0)
    yield running
    await running.stop()


@pytest.fixture
async def room(long_grace: RunningServer) -> Meeting:
    return await long_grace.new_meeting()


def state_of(meeting: Meeting) -> Any:
    return meeting.server.app[HUB].get(meeting.id).state


def planner_of(meeting: Meeting) -> Planner:
    closers = meeting.server.app[GATEWAY].closers
    return next(c.__self__ for c in closers if isinstance(getattr(c, "__self__", None), Planner))


async def settled(planner: Planner) -> None:
    """Until no re-plan is due or running (a worker process starts slowly when loaded);
    the debounce before a re-plan waits for the server's clock to be advanced."""
    await asyncio.wait_for(planner.idle(), 30)


async def crowd(meeting: Meeting, n: int) -> list[Client]:
    return [await meeting.participant(f"Deltagare {i}", MUNIS[i % len(MUNIS)])
            for i in range(n)]


async def drop(fia: Client, who: Client) -> None:
    await who.sio.disconnect()
    await fia.inbox.wait("presence", lambda d: d["participant"] == who.participant
                         and d["online"] is False)


async def resume(meeting: Meeting, who: Client) -> Client:
    back = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                 resume=who.resume_token)
    await back.connect()
    answer = await back.call("join", {})
    assert answer["ok"], answer
    back.participant = who.participant
    return back


async def test_away_people_are_listed_apart_left_out_and_placed_when_back(room: Meeting) -> None:
    fia = await room.facilitator()
    people = await crowd(room, 6)
    gone = people[0]
    await drop(fia, gone)
    preview = await fia.ok("round.preview", {"group_count": 2})
    assert gone.participant not in {pid for g in preview["groups"] for pid in g}
    shown = await fia.inbox.wait("event", lambda e: e["type"] == "round.previewed")
    assert shown["data"]["away"] == [gone.participant]
    await fia.ok("round.open")
    opened = await fia.inbox.wait("event", lambda e: e["type"] == "round.opened")
    assert opened["data"]["away"] == [gone.participant]
    assert gone.participant not in opened["data"]["moves"]
    back = await resume(room, gone)
    placed = await fia.inbox.wait("event", lambda e: e["type"] == "round.placed")
    assert placed["data"]["participant"] == gone.participant
    room_id = opened["data"]["rooms"][placed["data"]["group"]]
    assert placed["data"]["moves"] == {gone.participant: room_id}
    await back.inbox.wait("event", lambda e: e["type"] == "round.placed")
    assert state_of(room).meeting.participants[gone.participant].room == room_id
    group = state_of(room).current().groups[placed["data"]["group"]]
    met = cohort_encounters(state_of(room), [])
    assert all(met.count(gone.participant, other) == 1
               for other in group if other != gone.participant)


async def test_including_people_away_and_leavers_between_preview_and_open(room: Meeting) -> None:
    fia = await room.facilitator()
    people = await crowd(room, 7)
    await drop(fia, people[0])
    preview = await fia.ok("round.preview", {"group_count": 2, "include_away": True})
    assert people[0].participant in {pid for g in preview["groups"] for pid in g}
    await people[1].ok("leave")
    await fia.inbox.wait("event", lambda e: e["type"] == "participant.left")
    await fia.ok("round.open")
    opened = await fia.inbox.wait("event", lambda e: e["type"] == "round.opened")
    assert people[0].participant in opened["data"]["moves"]
    assert people[1].participant not in opened["data"]["moves"]
    assert "away" not in opened["data"]


async def test_groups_below_the_minimum_size_are_merged_at_opening(room: Meeting) -> None:
    fia = await room.facilitator()
    people = await crowd(room, 5)
    preview = await fia.ok("round.preview", {"group_count": 2})
    pair = min(preview["groups"], key=len)
    assert len(pair) == 2
    by_id = {c.participant: c for c in people}
    await drop(fia, by_id[pair[0]])
    await fia.ok("round.open")
    opened = await fia.inbox.wait("event", lambda e: e["type"] == "round.opened")
    assert len(opened["data"]["groups"]) == 1
    assert opened["data"]["rebalanced"]["moved"] == [pair[1]]
    assert opened["data"]["rebalanced"]["min_size"] == 2
    moved = await by_id[pair[1]].inbox.wait("event", lambda e: e["type"] == "round.opened")
    assert moved["data"]["moves"][pair[1]] == opened["data"]["rooms"][0]


async def test_constraints_are_set_by_the_facilitator_and_followed(room: Meeting) -> None:
    fia = await room.facilitator()
    people = await crowd(room, 9)
    ids = [c.participant for c in people]
    refused = await people[0].call("mix.constraints", {"together": [ids[:2]]})
    assert refused["error"]["code"] == "forbidden"
    bad = await fia.call("mix.constraints", {"together": [[ids[0], "nobody"]]})
    assert bad["error"]["code"] == "invalid_constraint"
    await fia.ok("mix.constraints", {"together": [ids[:2]], "apart": [ids[2:4]],
                                     "fair_seats": True})
    event = await fia.inbox.wait("event", lambda e: e["type"] == "mix.constrained")
    assert event["data"]["fair_seats"] is True
    preview = await fia.ok("round.preview", {"group_count": 3})
    assert any(set(ids[:2]) <= set(g) for g in preview["groups"])
    assert not any(set(ids[2:4]) <= set(g) for g in preview["groups"])
    await fia.ok("mix.constraints", {"apart": [[ids[0], ids[1]], [ids[1], ids[2]],
                                               [ids[0], ids[2]]]})
    answer = await fia.call("round.preview", {"group_count": 2})
    assert answer["error"]["code"] == "infeasible_constraint"
    assert "apart" in answer["error"]["message"]
    assert "Deltagare" in answer["error"]["message"]  # names, not ids


async def test_a_planned_session_has_no_repeats_and_replans_after_a_join(room: Meeting) -> None:
    fia = await room.facilitator()
    await crowd(room, 12)
    preview = await fia.ok("round.preview", {"group_count": 4, "rounds": 3})
    assert preview["plan"]["rounds"] == 3 and preview["plan"]["repeats"] == 0
    assert preview["plan"]["repeat_bound"] == 0
    shown = await fia.inbox.wait("event", lambda e: e["type"] == "round.previewed")
    assert len(shown["data"]["plan"]["next"]) == 2
    await fia.ok("round.open")
    await fia.ok("round.close")
    late = await room.participant("Sen", "Pargas")
    second = await fia.ok("round.preview", {"group_count": 4})
    assert second["plan"]["rounds"] == 2
    assert late.participant in {pid for g in second["groups"] for pid in g}
    met = cohort_encounters(state_of(room), [])
    assert all(met.count(a, b) == 0 for g in second["groups"] for a, b in combinations(g, 2))


async def test_a_replan_after_a_join_is_ready_before_the_preview(room: Meeting) -> None:
    fia = await room.facilitator()
    await crowd(room, 10)
    planner = planner_of(room)
    await fia.ok("round.preview", {"group_count": 3, "rounds": 3})
    await fia.ok("round.open")
    await fia.ok("round.close")
    await room.server.advance(DEBOUNCE_S)
    await settled(planner)
    done = planner.computed
    await room.participant("Sen", "Pargas")
    assert planner.computed == done  # the re-plan waits for joins to settle...
    await room.server.advance(DEBOUNCE_S)  # ... for half a second
    await settled(planner)  # debounced re-plan, in the worker process
    preview = await fia.ok("round.preview", {"group_count": 3})
    assert planner.computed == done + 1  # the preview was served the re-planned round
    assert preview["plan"]["rounds"] == 2


async def test_planning_never_holds_up_the_event_loop() -> None:
    """The loop's thread spends no CPU on the search (it runs in the worker process),
    and a timer on the loop keeps ticking while a plan is computed."""
    people = tuple(Person(f"p{i}", f"m{i}") for i in range(32))  # social golfer: full budget
    request = PlanRequest(people, 10, 8, 1, (), NO_CONSTRAINTS, (), None, iterations=3000)
    planner = Planner()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    try:
        await planner.plan("warm-up", PlanRequest(people[:8], 1, 2, 1, (), NO_CONSTRAINTS, (),
                                                  None))
        task = asyncio.create_task(ticker())
        cpu = time.thread_time()
        plan = await planner.plan("m", request)
        cpu = time.thread_time() - cpu
        task.cancel()
    finally:
        planner.close()
    assert plan.iterations == 3000 and len(plan.rounds) == 10
    assert cpu < 0.1, f"the loop's thread computed for {cpu:.2f} s"
    assert ticks > 0


async def test_a_lost_planning_worker_is_replaced() -> None:
    people = tuple(Person(f"p{i}", f"m{i % 5}") for i in range(12))
    planner = Planner()
    try:
        first = await planner.plan("m", PlanRequest(people, 2, 3, 1, (), NO_CONSTRAINTS, (), None))
        pool = planner._executor
        assert isinstance(pool, ProcessPoolExecutor)
        for process in list(pool._processes.values()):
            process.kill()
            process.join()
        again = await planner.plan("m", PlanRequest(people, 2, 3, 2, (), NO_CONSTRAINTS, (),
                                                    None))
    finally:
        planner.close()
    # Three groups of four: in round 2 every group holds two people of one round-1 group.
    assert first.repeats == again.repeats == first.repeat_bound == 3
    assert planner._executor is None
