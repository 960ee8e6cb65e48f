"""Two servers (in this process) sharing one Redis: what one writes, the other knows —
programmes, revoked links, organiser sessions, whiteboards, the signing key."""

import asyncio
from collections.abc import Callable

import pytest

from server.organisers import WORKSPACE
from tests.cluster_support import meeting_on
from tests.functional.test_boards_functional import Replica, stroke
from tests.functional.test_workspace_functional import cohort_with_roster, links, new_meeting
from tests.organisers import Organiser
from tests.redis_support import RedisServer
from tests.support import RunningServer


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    """Until ``check()`` holds (another process's tail takes milliseconds)."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - state of another server, no event to await
            await asyncio.sleep(0.01)


async def test_programmes_revocations_and_organiser_sessions_are_shared(
        pair: list[RunningServer]) -> None:
    a, b = pair
    async with Organiser(a) as org:
        cohort = await cohort_with_roster(a, org)  # signed in on a, programme made on a
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        old = (await links(org, cohort, meeting))["Bo Ek"]
        org.server = b  # the same browser, now reaching b: still signed in
        await eventually(lambda: bool(b.app[WORKSPACE].programmes))
        bo = next(p for p in b.app[WORKSPACE].cohort(cohort)[1].roster() if p.name == "Bo Ek")
        old_link = bo.link  # (the fold changes the person in place)
        await org.get(f"/o/c/{cohort}/people/{bo.id}")
        status, _, _ = await org.post(f"/o/c/{cohort}/people/{bo.id}/revoke")
        assert status == 303  # revoked on b ...
        await eventually(lambda: next(
            p for p in a.app[WORKSPACE].cohort(cohort)[1].roster() if p.name == "Bo Ek"
        ).link != old_link)
        refused = a.client(old.split("?t=")[1], meeting=meeting)  # ... refused on a
        with pytest.raises(Exception):  # noqa: B017 - socketio.exceptions.ConnectionError
            await refused.connect()
        assert refused.connect_error["data"]["code"] == "token_revoked"
        status, location, _ = await org.post("/signout")  # signed out on b ...
        assert status == 303
        org.server = a
        assert 'action="/signin"' in await org.get("/o")  # ... and so on a


async def test_a_board_drawn_on_one_process_is_seen_whole_on_the_other(
        pair: list[RunningServer]) -> None:
    a, b = pair
    meeting = await a.new_meeting()
    anna = await meeting.participant("Anna")
    cilla = await meeting_on(b, meeting).participant("Cilla", "Borgå")
    mine = Replica()
    await anna.ok("board.update", {"update": mine.add("s1", **stroke())})
    await cilla.inbox.wait("event", lambda e: e["type"] == "board.updated")
    fetched = await cilla.ok("board.fetch", {"room": "plenary"})  # b had it cached? rebuilt
    theirs = Replica()
    theirs.apply(fetched["update"])
    assert theirs.ids() == {"s1"}
    await cilla.ok("board.update", {"update": theirs.add("s2", **stroke("#000000"))})
    late = await meeting.participant("Dan", "Vasa")  # joins on a: gets both strokes
    state = await late.inbox.wait("board.state")
    fresh = Replica()
    fresh.apply(state["update"])
    assert fresh.ids() == {"s1", "s2"}


async def test_ending_and_removing_a_meeting_reaches_the_other_process(
        pair: list[RunningServer]) -> None:
    """Ended on one: the other's clients are closed too. Removed (its cohort over) on
    one: the other drops it from memory, so no erased data lives on there."""
    from server.keys import HUB
    a, b = pair
    meeting = await a.new_meeting()
    anna = await meeting.participant("Anna")
    bo = await meeting_on(b, meeting).participant("Bo", "Vasa")
    status, _ = await a.api("POST", f"/api/meetings/{meeting.id}/end")
    assert status == 200
    assert await anna.disconnected(5) and await bo.disconnected(5)
    await eventually(lambda: b.app[HUB].get(meeting.id).state.meeting.ended)
    await a.app[HUB].remove(meeting.id)
    await eventually(lambda: meeting.id not in {m.id for m in b.app[HUB].all()})


async def test_a_removal_reaches_a_process_that_was_not_subscribed_at_that_moment(
        redis: RedisServer, pair: list[RunningServer]) -> None:
    """The notice of a rewrite (erasure, removal) is in a stream every process reads from
    its own position, not a pub/sub message: a process whose subscription was down at
    that moment (at most once) still drops the meeting, so no erased data lives on."""
    import redis.asyncio as aioredis

    from server.keys import HUB
    a, b = pair
    meeting = await a.new_meeting()
    await meeting.participant("Anna")
    await meeting_on(b, meeting).participant("Bo", "Vasa")
    status, _ = await a.api("POST", f"/api/meetings/{meeting.id}/end")
    assert status == 200
    await eventually(lambda: b.app[HUB].get(meeting.id).state.meeting.ended)
    admin = aioredis.Redis.from_url(redis.url)
    try:
        assert await admin.client_kill_filter(_type="pubsub") >= 1  # every subscription cut
        await a.app[HUB].remove(meeting.id)
    finally:
        await admin.aclose()
    await eventually(lambda: meeting.id not in {m.id for m in b.app[HUB].all()})
