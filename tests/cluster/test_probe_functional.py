"""The cluster tried from outside, as operators and attackers will: what the other
cluster tests do not cover. A Redis that comes back empty; organiser pages, a busy
meeting and relayed signals while Redis hangs; a Redis restart that no process must
take for the death of the others."""

import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from server.keys import DISPATCHER, STORE
from tests.cluster_support import healthz, meeting_on
from tests.organisers import Organiser, make_organiser
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


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
    assert status == 503, body  # no meeting served folded from nothing
    store = one.app[STORE]
    assert await store.redis.exists(store.log_key(meeting.id)) == 0  # no log restarted at 1
    lost = [r for r in caplog.records if "no longer holds this deployment's data" in
            r.getMessage()]
    assert len(lost) == 1, [r.getMessage() for r in caplog.records]


async def test_an_organiser_signed_in_is_told_unavailable_not_signed_out_while_redis_hangs(
        pair: list[RunningServer], redis: RedisServer) -> None:
    a, b = pair
    await make_organiser(a)
    async with Organiser(a) as org:
        assert (await org.sign_in()).status == 303
        org.server = b
        assert redis.proc is not None
        os.kill(redis.proc.pid, signal.SIGSTOP)
        try:
            for path in ("/o", "/o/account"):
                started = time.monotonic()
                async with org.http.get(b.url + path, allow_redirects=False) as resp:
                    assert resp.status == 503, (path, resp.status, resp.headers)
                    assert "Servern kan inte spara just nu" in await resp.text()
                assert time.monotonic() - started < 1.2
        finally:
            os.kill(redis.proc.pid, signal.SIGCONT)
        assert 'action="/signin"' not in await org.get("/o")  # still signed in afterwards


async def test_ephemeral_messages_queued_during_an_outage_are_dropped_not_sent_late(
        pair: list[RunningServer], redis: RedisServer) -> None:
    """Signals sent while Redis hangs cannot reach the other process; they must not
    pile up (without bound) and arrive there in a burst, stale, when Redis is back."""
    a, b = pair
    meeting = await a.new_meeting()
    anna = await meeting.participant("Anna")
    bo = await meeting_on(b, meeting).participant("Bo", "Vasa")
    await anna.ok("signal", {"to": bo.participant, "description": OFFER})
    await bo.inbox.wait("signal")  # relayed while Redis answers
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        for _ in range(40):
            await anna.ok("signal", {"to": bo.participant, "description": OFFER})
        fanout = a.app[DISPATCHER]._fanout
        async with asyncio.timeout(10):  # the relay's publish times out (0.8 s), then drops
            while fanout.dropped < 40:  # noqa: ASYNC110 - the server's own state
                await asyncio.sleep(0.05)
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    await anna.ok("signal", {"to": bo.participant, "description": {**OFFER, "sdp": "v=0\r\nlast"}})
    await bo.inbox.wait("signal", lambda d: d["description"]["sdp"].endswith("last"), timeout=3)
    stale = len(bo.inbox.named("signal")) - 2
    assert stale <= 2, f"{stale} stale signals delivered after the outage"


async def test_many_commands_on_one_meeting_while_redis_hangs_all_fail_within_a_second(
        one: RunningServer, redis: RedisServer) -> None:
    """A busy meeting when Redis stops answering: every command is answered
    store_unavailable within about a second, not one after another (each waiting for
    the one before it to time out)."""
    meeting = await one.new_meeting()
    people = [await meeting.participant(f"P{i}", ("Vasa", "Åbo")[i % 2]) for i in range(8)]
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        async def chat(client: Any, i: int) -> tuple[float, Any]:
            started = time.monotonic()
            answer = await client.call("chat", {"text": f"m{i}"}, timeout=20)
            return time.monotonic() - started, answer
        calls = []
        for i in range(3):
            for c in people:  # arriving spread out, as from many browsers
                calls.append(asyncio.create_task(chat(c, i)))
                await asyncio.sleep(0.01)
        answers = await asyncio.gather(*calls)
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    assert {a["error"]["code"] for _, a in answers if not a["ok"]} == {"store_unavailable"}
    slowest = max(took for took, _ in answers)
    assert slowest < 1.5, sorted(round(t, 2) for t, _ in answers)
    async with asyncio.timeout(3):  # and it serves again once Redis answers
        while not (await people[0].call("chat", {"text": "efter"}))["ok"]:  # noqa: ASYNC110 - a client retrying
            await asyncio.sleep(0.1)  # retrying a command, as a client does


async def test_after_redis_restarts_no_live_process_is_taken_for_dead(
        tmp_path: Path) -> None:
    """Redis restarted (AOF) after longer than a heartbeat lives: every process's key
    expired meanwhile, none died. The first to beat again must not claim the others:
    their participants would be shown offline to everyone, themselves included."""
    redis = RedisServer(tmp_path / "aof", appendonly=True).start()
    a, b = [await start_server(tmp_path / f"h{i}", redis_url=redis.url, grace_s=5.0)
            for i in range(2)]
    try:
        meeting = await a.new_meeting()
        anna = await meeting.participant("Anna")
        bo = await meeting_on(b, meeting).participant("Bo", "Vasa")
        await redis.akill()
        await asyncio.sleep(2.2)  # down longer than a heartbeat key lives (2 s)
        await redis.astart()
        async with asyncio.timeout(4):  # both beat again, then a few more beats
            while await healthz(a.url) != 200 or await healthz(b.url) != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # an absence: what a wrong claim would have sent by now
        gone = [(c.participant, p["participant"]) for c in (anna, bo)
                for p in c.inbox.named("presence") if not p["online"]]
        assert gone == [], gone
    finally:
        for s in (a, b):
            await s.stop()
        redis.kill()
