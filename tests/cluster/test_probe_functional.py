"""The cluster tried from outside, as operators and attackers will: what the other
cluster tests do not cover (a Redis that comes back empty, ...)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.clock import FakeClock
from server.keys import STORE
from tests.cluster_support import healthz
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()  # no persistence
    yield server
    server.kill()


@pytest.fixture
async def one(redis: RedisServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    server = await start_server(tmp_path / "one", redis_url=redis.url, grace_s=5.0,
                                clock=FakeClock(flowing=True))
    yield server
    await server.stop()


async def test_a_redis_that_comes_back_without_its_data_is_refused_not_written_to(
        one: RunningServer, redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    """Redis restarted without persistence: the process still holds its meetings, the
    logs are gone. It must not restart every log at seq 1 under them, nor serve a
    meeting folded from nothing: unhealthy, commands refused, one clear error logged."""
    caplog.set_level(logging.ERROR, logger="ledarstig.store")
    meeting = await one.new_meeting()
    anna = await meeting.participant("Anna")
    await anna.ok("chat", {"text": "före"})
    await redis.akill()
    await redis.astart()  # the same address, empty
    async with asyncio.timeout(3):
        while await healthz(one.url) != 503:  # noqa: ASYNC110 - the next store check
            await asyncio.sleep(0.05)
    failed = await anna.call("chat", {"text": "efter"})
    assert failed["ok"] is False and failed["error"]["code"] == "store_unavailable", failed
    status, body = await one.api("GET", "/api/meetings")
    assert status == 503 or all(m["id"] for m in body), body  # none folded from nothing
    store = one.app[STORE]
    assert await store.redis.exists(store.log_key(meeting.id)) == 0  # no log restarted at 1
    lost = [r for r in caplog.records if "no longer holds this deployment's data" in
            r.getMessage()]
    assert len(lost) == 1, [r.getMessage() for r in caplog.records]
