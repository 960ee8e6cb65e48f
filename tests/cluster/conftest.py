"""Fixtures shared by the cluster tests: a real redis-server on a free loopback port
(no persistence), and one or two in-process servers on it."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.clock import FakeClock
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()  # no persistence
    yield server
    server.kill()


@pytest.fixture
async def pair(redis: RedisServer, tmp_path: Path) -> AsyncIterator[list[RunningServer]]:
    servers = [await start_server(tmp_path / f"d{i}", redis_url=redis.url, grace_s=5.0)
               for i in range(2)]
    yield servers
    for s in servers:
        await s.stop()


@pytest.fixture
async def one(redis: RedisServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    server = await start_server(tmp_path / "one", redis_url=redis.url, grace_s=5.0,
                                clock=FakeClock(flowing=True))
    yield server
    await server.stop()
