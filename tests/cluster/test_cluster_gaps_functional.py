"""Servers (in this process) sharing one redis-server: a link to a meeting created
elsewhere, clients told of a Redis outage, supervised loops, the sign-in throttle,
organiser sessions' expiry, one retention sweep (a second tab on another process:
``test_cluster_functional.py``)."""

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from server import retention
from server.clock import FakeClock
from server.cluster import ClusterRoundTimer
from server.cluster.sessions import RedisSessions
from server.keys import STORE
from server.organisers import WORKSPACE
from server.organisers.sessions import COOKIE
from tests.cluster_support import meeting_on
from tests.organisers import Organiser, make_organiser
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server


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


async def test_clients_are_told_when_redis_stops_answering_and_when_it_is_back(
        one: RunningServer, redis: RedisServer) -> None:
    meeting = await one.new_meeting()
    anna = await meeting.participant("Anna")
    waiting = one.client(meeting.tokens["participant"], meeting=meeting.id)  # not joined
    for c in (anna, waiting):
        c.sio.on("server.store", c._recorder("server.store"))
    await waiting.connect()
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)  # a Redis that hangs
    try:
        for c in (anna, waiting):
            assert await c.inbox.wait("server.store", timeout=4) == {"available": False}
        failed = await anna.call("chat", {"text": "under avbrottet"})
        assert failed["error"]["code"] == "store_unavailable"
        late = one.client(meeting.tokens["participant"], meeting=meeting.id)
        late.sio.on("server.store", late._recorder("server.store"))
        await late.connect()  # during the outage: told too
        assert await late.inbox.wait("server.store", timeout=4) == {"available": False}
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    for c in (anna, waiting, late):
        await c.inbox.wait("server.store", lambda d: d["available"] is True, timeout=4)
        assert [d["available"] for d in c.inbox.named("server.store")] == [False, True]
    assert (await anna.call("chat", {"text": "efter avbrottet"}))["ok"]


async def test_a_cluster_loop_whose_inner_task_fails_is_started_again(
        redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The timer's deadline writer dies once (a defect): the loop it belongs to fails
    and starts again, so the round still ends on its deadline."""
    write = ClusterRoundTimer._write
    failures = []

    async def failing_once(self: ClusterRoundTimer) -> None:
        if not failures:
            failures.append(1)
            await self._queue.get()  # takes the first deadline with it, as a crash would
            raise RuntimeError("a defect in the deadline writer")
        await write(self)

    monkeypatch.setattr(ClusterRoundTimer, "_write", failing_once)
    monkeypatch.setattr("server.cluster.RESTART_S", 0.05)
    server = await start_server(tmp_path / "t", redis_url=redis.url, grace_s=5.0,
                                clock=FakeClock(flowing=True))
    try:
        meeting = await server.new_meeting()
        fia = await meeting.facilitator()
        await meeting.participant("Anna")
        await meeting.participant("Bo", "Vasa")
        await fia.ok("round.preview", {"group_count": 1, "duration_s": 60})
        await fia.ok("round.open")
        await fia.ok("chat", {"text": "efter öppningen"})  # the writer runs again by now
        await server.advance(61)
        closing = await fia.inbox.wait("event", lambda e: e["type"] == "round.closing",
                                       timeout=5)
        assert closing["actor"] == "system"  # the deadline's, not a facilitator's
        assert failures == [1]
    finally:
        await server.stop()


async def test_failed_sign_ins_on_one_process_count_on_the_other(
        pair: list[RunningServer]) -> None:
    a, b = pair
    await make_organiser(a)
    async with Organiser(a) as org:
        for i in range(5):  # five failures in the window block the username
            org.server = (a, b)[i % 2]
            assert (await org.sign_in(password="guess guess guess")).status == 401
        for server in (a, b):
            org.server = server
            resp = await org.sign_in()  # even the right password, on either process
            assert resp.status == 429 and COOKIE not in resp.cookies
        assert (await org.sign_in(username="someone-else")).status == 401


async def test_organiser_sessions_expire_in_redis(
        pair: list[RunningServer], redis: RedisServer) -> None:
    a, b = pair
    store = a.app[STORE]
    await make_organiser(a)
    a.app[WORKSPACE].sessions = RedisSessions(store, ttl_ms=600)
    async with Organiser(a) as org:
        assert (await org.sign_in()).status == 303
        org.server = b
        assert 'action="/signin"' not in await org.get("/o")  # signed in, on b too
        keys = await store.redis.keys(f"{store.prefix}organiser-session:*")
        assert len(keys) == 1 and 0 < await store.redis.pttl(keys[0]) <= 600
        async with asyncio.timeout(3):
            while await store.redis.exists(keys[0]):  # noqa: ASYNC110 - Redis expiry
                await asyncio.sleep(0.05)
        assert 'action="/signin"' in await org.get("/o")  # expired: signed out everywhere


async def test_one_retention_sweep_per_period_for_the_whole_deployment(
        redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ledarstig.retention")
    servers = [await start_server(tmp_path / f"r{i}", redis_url=redis.url) for i in range(2)]
    try:
        def said(text: str) -> list[logging.LogRecord]:
            return [r for r in caplog.records
                    if r.name == "ledarstig.retention" and r.getMessage().startswith(text)]
        async with asyncio.timeout(3):  # each process tries at start
            while len(said("retention swept") + said("retention: another")) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert len(said("retention swept")) == 1
        assert len(said("retention: another process sweeps this period")) == 1
        store = servers[0].app[STORE]
        ttl = await store.redis.pttl(f"{store.prefix}lease:retention")
        assert 0 < ttl <= retention.SWEEP_EVERY_S * 1000  # the next period: one sweep again
    finally:
        for s in servers:
            await s.stop()
