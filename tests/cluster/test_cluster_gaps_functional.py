"""Two servers (in this process) sharing one redis-server: what one process does for
its own clients holds across processes too — a second tab, the sign-in throttle,
organiser sessions' expiry, one retention sweep, supervised loops."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.cluster_support import meeting_on
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture
async def pair(redis: RedisServer, tmp_path: Path) -> AsyncIterator[list[RunningServer]]:
    servers = [await start_server(tmp_path / f"d{i}", redis_url=redis.url, grace_s=5.0)
               for i in range(2)]
    yield servers
    for s in servers:
        await s.stop()


async def test_a_second_tab_on_another_process_replaces_the_first(
        pair: list[RunningServer]) -> None:
    a, b = pair
    meeting = await a.new_meeting()
    anna = await meeting.participant("Anna")  # the first tab, on a
    bo = await meeting_on(b, meeting).participant("Bo", "Vasa")
    tab2 = b.client(meeting.tokens["participant"], meeting=meeting.id,
                    resume=anna.resume_token)
    await tab2.connect()
    answer = await tab2.call("join", {})
    assert answer["ok"] and answer["data"]["participant"] == anna.participant, answer
    await anna.inbox.wait("session.replaced", timeout=3)
    assert await anna.disconnected()
    assert (await tab2.call("chat", {"text": "från andra fliken"}))["ok"]
    await bo.inbox.wait("event", lambda e: e["data"].get("text") == "från andra fliken")
    # the replaced tab left nobody offline and no one left the meeting
    assert not [p for p in bo.inbox.named("presence")
                if p["participant"] == anna.participant and not p["online"]]
    assert tab2.sio.connected and not tab2.inbox.named("session.replaced")
    assert bo.inbox.events("participant.left") == []


async def test_a_link_to_a_meeting_this_process_has_not_taken_in_yet_is_accepted(
        pair: list[RunningServer]) -> None:
    """The handshake loads the meeting first (``Gateway.adopt``), before the checks."""
    from server.keys import HUB
    a, b = pair
    meeting = await a.new_meeting()
    b.app[HUB]._meetings.pop(meeting.id, None)  # as if b's tail had not reached it yet
    bo = await meeting_on(b, meeting).participant("Bo", "Vasa")
    assert bo.participant in b.app[HUB].get(meeting.id).state.meeting.participants
    refused = b.client("not-a-token", meeting=meeting.id)
    with pytest.raises(Exception):  # noqa: B017 - socketio.exceptions.ConnectionError
        await refused.connect()
    assert refused.connect_error["data"]["code"] == "token_invalid"
