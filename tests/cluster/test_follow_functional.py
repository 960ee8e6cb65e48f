"""Each process follows only the meetings it serves (server/cluster, ``Hub.partial``):
a meeting used on one process is not held by the other, which loads it when a client,
a REST call or a round timer needs it there, and releases it when it is idle again."""

import asyncio
from collections.abc import Callable

from server.config import Settings
from server.keys import HUB, STORE, VIDEO
from server.store import StoreError
from tests.cluster.test_shared_state_functional import eventually
from tests.cluster_support import meeting_on
from tests.functional.test_workspace_functional import (
    cohort_with_roster,
    new_meeting,
    second_cohort,
)
from tests.organisers import Organiser
from tests.support import Meeting, RunningServer


def held(server: RunningServer) -> set[str]:
    return {live.id for live in server.app[HUB].all()}


async def used_on_a_only(a: RunningServer, b: RunningServer) -> Meeting:
    """A meeting (no cohort) created and used on ``a``. ``b`` holds a meeting of the
    cohort K (a REST call), so it holds a new meeting of K created on ``a`` (a cohort's
    decisions read all its meetings): once it does, ``b`` has seen the first one's
    creation too, and left it alone."""
    k1 = await a.create_meeting("K1", cohort="K")
    status, _ = await b.api("GET", f"/api/meetings/{k1}")
    assert status == 200
    meeting = await a.new_meeting(cohort="")
    anna = await meeting.participant("Anna")
    await anna.ok("chat", {"text": "hej från a"})
    k2 = await a.create_meeting("K2", cohort="K")
    await eventually(lambda: k2 in held(b))
    assert meeting.id in held(a)
    assert meeting.id not in held(b)
    return meeting


async def test_a_meeting_used_on_one_process_is_loaded_on_the_other_when_needed(
        pair: list[RunningServer]) -> None:
    a, b = pair
    meeting = await used_on_a_only(a, b)
    plain = await a.new_meeting("Bara REST", cohort="")  # nobody anywhere; b never held it
    # a client on b: its welcome has the whole meeting, and it is served both ways
    cilla = b.client(meeting.tokens["participant"], meeting=meeting.id)
    await cilla.connect()
    await cilla.join("Cilla", "Borgå")
    welcome = await cilla.inbox.wait("welcome")
    snapshot = welcome["snapshot"]
    assert welcome["seq"] == snapshot["seq"] == b.app[HUB].get(meeting.id).state.seq
    assert {p["name"] for p in snapshot["participants"]} == {"Anna", "Cilla"}
    assert [m["text"] for m in snapshot["chat"]] == ["hej från a"]
    assert meeting.id in held(b)
    anna = a.clients[0]
    await anna.ok("chat", {"text": "till cilla"})
    await cilla.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                           and e["data"]["text"] == "till cilla")
    await cilla.ok("chat", {"text": "till anna"})
    await anna.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                          and e["data"]["text"] == "till anna")
    # REST on b for a meeting b does not hold: loaded, answered from the latest log
    assert plain.id not in held(b)
    status, body = await b.api("GET", f"/api/meetings/{plain.id}")
    assert status == 200 and body["title"] == "Bara REST", body
    status, body = await b.api("POST", f"/api/meetings/{plain.id}/end")
    assert status == 200, body
    await eventually(lambda: a.app[HUB].get(plain.id).state.meeting.ended)
    status, listed = await b.api("GET", "/api/meetings")
    assert status == 200 and {meeting.id, plain.id} <= {m["id"] for m in listed}


async def test_a_round_timer_claimed_by_a_process_that_did_not_hold_the_meeting(
        pair: list[RunningServer]) -> None:
    a, b = pair
    meeting = await used_on_a_only(a, b)
    fia = await meeting.facilitator()
    await meeting.participant("Bo", "Vasa")
    await fia.ok("round.preview", {"group_count": 1, "duration_s": 60, "closing_s": 1,
                                    "warning_s": 1})
    await fia.ok("round.open")
    assert meeting.id not in held(b)
    # only b's clock passes the deadline: b claims the timer, loads the meeting, ticks
    await b.advance(61)
    await fia.inbox.wait("event", lambda e: e["type"] == "round.closing")
    assert meeting.id in held(b)
    await b.advance(2)
    closed = await fia.inbox.wait("event", lambda e: e["type"] == "round.closed")
    assert closed["data"]["reason"] == "deadline"
    await a.advance(120)  # a's poller finds nothing left to fire
    await b.advance(120)
    status, body = await a.api("GET", f"/api/meetings/{meeting.id}/log?limit=10000")
    assert status == 200
    types = [e["type"] for e in body["events"]]
    assert types.count("round.closing") == 1 and types.count("round.closed") == 1


async def test_an_idle_meeting_is_released_and_one_with_a_client_is_kept(
        pair: list[RunningServer]) -> None:
    a, b = pair
    meeting = await used_on_a_only(a, b)
    other = await a.new_meeting("Andra", cohort="")
    cilla = await meeting_on(b, meeting).participant("Cilla", "Borgå")
    status, _ = await b.api("GET", f"/api/meetings/{other.id}")
    assert status == 200
    assert {meeting.id, other.id} <= held(b)
    released = b.app[HUB].released
    idle_s = Settings().cluster_idle_s  # the test servers' setting
    await b.advance(idle_s / 2)
    await b.advance(idle_s / 2 + 1)
    await eventually(lambda: other.id not in held(b))
    assert b.app[HUB].released == released + 3  # and K1, K2 (no reason left)
    assert meeting.id in held(b)  # Cilla is connected here
    # released, not forgotten: loaded again on the next call, with what happened since
    anna = a.clients[0]
    await anna.ok("chat", {"text": "efteråt"})
    await cilla.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                           and e["data"]["text"] == "efteråt")
    status, body = await b.api("GET", f"/api/meetings/{other.id}")
    assert status == 200 and body["title"] == "Andra"


async def test_a_meeting_used_while_its_release_waits_is_kept(
        pair: list[RunningServer]) -> None:
    """The idle sweep found a meeting idle here, and its release waits for the hub's
    lock (a meeting being loaded, say): a client connecting meanwhile keeps it held,
    and joins. Released under it, its join was refused (`meeting_not_found`)."""
    a, b = pair
    other = await a.new_meeting("Andra", cohort="")
    status, _ = await b.api("GET", f"/api/meetings/{other.id}")
    assert status == 200 and other.id in held(b)
    hub = b.app[HUB]
    uses = hub.uses(other.id)  # as the sweep saw it
    async with hub._reload_lock:  # a load under way (the lock ``release`` takes)
        release = asyncio.create_task(hub.release(other.id, uses))
        await asyncio.sleep(0.01)
        assert not release.done()
        cilla = b.client(other.tokens["participant"], meeting=other.id)
        await cilla.connect()
    await release
    assert other.id in held(b)
    await cilla.join("Cilla", "Borgå")
    welcome = await cilla.inbox.wait("welcome")
    assert welcome["snapshot"]["meeting"]["title"] == "Andra"
    await cilla.close()
    video = b.app[VIDEO]
    video._loaded.add(other.id)  # as if its plenary's SFU feeds were followed here
    await hub.release(other.id, hub.uses(other.id))  # unused since it was judged idle
    assert other.id not in held(b)
    assert other.id not in video._loaded  # what this process knew of its VideoRoom too


async def test_a_meeting_moved_into_a_cohort_a_process_serves_is_held_there(
        pair: list[RunningServer]) -> None:
    """``b`` serves a meeting of cohort B; a meeting of cohort A (not held on ``b``) moves
    to B on ``a``: ``b`` learns it (the move's notice) and holds it, so its view of the
    cohort (breakout history, pages) has every meeting of it."""
    a, b = pair
    meeting, other, there = await moved_to_a_cohort_b_serves(a, b)
    await eventually(lambda: meeting in held(b))
    await eventually(lambda: b.app[HUB].get(meeting).state.meeting.cohort == other)
    assert [s.id for s in b.app[HUB].cohort_of(there)] == [meeting]


async def moved_to_a_cohort_b_serves(
        a: RunningServer, b: RunningServer,
        before_the_move: Callable[[], None] = lambda: None) -> tuple[str, str, str]:
    """A meeting of cohort A (not held on ``b``) moved on ``a`` to cohort B, whose
    meeting ``there`` ``b`` serves: (the meeting, B, there)."""
    async with Organiser(a) as org:
        cohort = await cohort_with_roster(a, org)
        other = await second_cohort(a, cohort)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        there = await new_meeting(org, other, "Träff B", "2026-11-20")
        status, _ = await b.api("GET", f"/api/meetings/{there}")
        assert status == 200
        assert meeting not in held(b)
        before_the_move()
        status, _, text = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other})
        assert status == 303, text
    return meeting, other, there


async def test_a_move_whose_notice_fails_still_succeeds_and_is_announced_later(
        pair: list[RunningServer]) -> None:
    """The move is durable, then its notice to the other processes fails (Redis gone for
    that moment): the organiser's move succeeds, and the notice goes out afterwards.
    Before, the move answered `store_unavailable`, and trying again changed nothing (the
    meeting was in that cohort already), so ``b`` never learnt of it."""
    a, b = pair
    store = a.app[STORE]
    real = store.announce  # type: ignore[attr-defined]
    failed: list[str] = []

    async def fails_once(meeting: str) -> None:
        if not failed:
            failed.append(meeting)
            raise StoreError("The event store is unavailable; try again.")
        await real(meeting)
    def failing() -> None:
        store.announce = fails_once  # type: ignore[attr-defined]
    meeting, other, _ = await moved_to_a_cohort_b_serves(a, b, failing)
    assert failed == [meeting]
    await eventually(lambda: meeting in held(b))
    await eventually(lambda: b.app[HUB].get(meeting).state.meeting.cohort == other)
    assert not a.app[HUB].unannounced
