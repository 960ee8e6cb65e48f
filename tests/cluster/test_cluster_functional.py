"""Three server processes sharing one redis-server (``--redis-url``)."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.cluster_support import Proc, healthz, spawn, wait_healthy
from tests.redis_support import RedisServer
from tests.support import Client

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


@pytest.fixture
def redis_aof(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=True, fsync="always").start()
    yield server
    server.kill()


@pytest.fixture
async def procs(redis_aof: RedisServer, tmp_path: Path) -> AsyncIterator[list[Proc]]:
    started = [spawn(redis_aof.url, tmp_path, f"p{i}", grace_s=30) for i in range(3)]
    try:
        await asyncio.gather(*(wait_healthy(p) for p in started))
        yield started
    finally:
        for p in started:
            for c in p.clients:
                await c.close()
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in started))


async def join(proc: Proc, token: str, meeting: str, name: str, muni: str = "Vasa") -> Client:
    c = proc.client(token, meeting=meeting)
    await c.connect()
    await c.join(name, muni)
    return c


async def test_clients_on_three_processes_chat_signal_and_see_one_round(
        procs: list[Proc]) -> None:
    a, b, c = procs
    meeting = await a.new_meeting()
    fia = await meeting.facilitator()  # on a
    people = [await join(p, meeting.tokens["participant"], meeting.id, f"Deltagare {i}",
                         ("Vasa", "Borgå", "Åbo", "Kimito")[i])
              for i, p in enumerate([a, b, c, b])]
    await fia.ok("round.preview", {"group_count": 1, "duration_s": 600})
    await fia.ok("round.open")
    opened = [await client.inbox.wait("event", lambda e: e["type"] == "round.opened")
              for client in [fia, *people]]
    assert len({e["seq"] for e in opened}) == 1  # one round, the same event everywhere
    # one group: the people on a, b and c chat and signal across processes
    on_a, on_b, on_c = people[0], people[1], people[2]
    await on_b.ok("chat", {"text": "hej från b"})
    for client in (on_a, on_c):
        got = await client.inbox.wait("event", lambda e: e["type"] == "chat.sent")
        assert got["data"]["text"] == "hej från b"
    # the peer plans count group members online on other processes
    plan = await on_a.inbox.wait("peers", lambda d: d["room"] != "plenary" and {
        on_b.participant, on_c.participant} <= {p["id"] for p in d["peers"]})
    assert on_a.participant not in {p["id"] for p in plan["peers"]}
    await on_c.ok("signal", {"to": on_a.participant, "description": OFFER})
    relayed = await on_a.inbox.wait("signal")
    assert relayed["from"] == on_c.participant and relayed["description"] == OFFER
    # every client saw every event once, in log order with no gap
    await on_a.ok("chat", {"text": "sista"})
    for client in [fia, *people]:
        if client is not fia:
            await client.inbox.wait("event", lambda e: e["data"].get("text") == "sista")
        seqs = [e["seq"] for e in client.inbox.events()]
        assert seqs == sorted(set(seqs)), seqs
        assert len(client.inbox.events("round.opened")) == 1
    _, metrics = await c.api("GET", "/metrics", token=None)  # the relay lost nothing
    assert "ledarstig_relays_dropped_total 0.0" in metrics


async def stall_tails(url: str, count: int) -> None:
    """Answer the ``count`` blocked log tails (``XREAD``) with an error, as a lost
    connection would: each process waits 0.5 s before reading again, so meanwhile its
    state lags the log (what a busy process's tail does now and then)."""
    r = aioredis.Redis.from_url(url)
    try:
        for _ in range(200):
            blocked = [c["id"] for c in await r.client_list()
                       if c.get("cmd") == "xread" and "b" in c.get("flags", "")]
            if len(blocked) >= count:
                break
            await asyncio.sleep(0.01)
        assert len(blocked) >= count, blocked
        for client_id in blocked:
            await r.client_unblock(client_id, error=True)
    finally:
        await r.aclose()


async def test_concurrent_commands_on_different_processes_get_one_order(
        procs: list[Proc], redis_aof: RedisServer) -> None:
    a, b, c = procs
    meeting = await a.new_meeting()
    fia = await meeting.facilitator()
    fred = await join(b, meeting.tokens["facilitator"], meeting.id, "Fred")
    watcher = await join(c, meeting.tokens["participant"], meeting.id, "Wille")
    for i in range(4):
        await join((a, b, c)[i % 3], meeting.tokens["participant"], meeting.id, f"P{i}",
                   ("Vasa", "Åbo")[i % 2])
    chats = await asyncio.gather(*(cl.call("chat", {"text": f"m{i}"})
                                   for i, cl in enumerate([fia, fred, watcher] * 5)))
    assert all(x["ok"] for x in chats)
    # b has not taken in the preview when fred's opening reaches it: a refusal there
    # (no_round) would rest on stale state; b reads the log first and decides again
    await stall_tails(redis_aof.url, 3)
    await fia.ok("round.preview", {"group_count": 2})
    opens = await asyncio.gather(fia.call("round.open"), fred.call("round.open"))
    assert sorted(x["ok"] for x in opens) == [False, True], opens
    assert next(x for x in opens if not x["ok"])["error"]["code"] == "round_already_open"
    await watcher.inbox.wait("event", lambda e: e["type"] == "round.opened")
    assert len(watcher.inbox.events("chat.sent")) == 15
    seqs = [e["seq"] for e in watcher.inbox.events()]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, no repeat
    assert len(watcher.inbox.events("round.opened")) == 1


async def log_of(proc: Proc, meeting: str) -> list[dict]:
    status, body = await proc.api("GET", f"/api/meetings/{meeting}/log?limit=10000")
    assert status == 200, body
    return list(body["events"])


async def test_kill9_mid_round_ends_it_once_on_time_and_its_clients_resume_elsewhere(
        procs: list[Proc]) -> None:
    a, b, c = procs
    meeting = await a.new_meeting()
    fia = await meeting.facilitator()  # on a, the process that opens (and arms) the round
    people = [await join(p, meeting.tokens["participant"], meeting.id, f"D{i}",
                         ("Vasa", "Borgå")[i % 2]) for i, p in enumerate([a, b, c, a])]
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 60, "closing_s": 1,
                                    "warning_s": 1})
    await fia.ok("round.open")
    await fia.ok("round.extend", {"delta_s": -58})  # the deadline in ~2 s, closes ~1 s later
    closing_due = time.time() * 1000 + 3000
    on_a = [fia, people[0], people[3]]
    a.kill9()
    # a's clients come back through c with their resume tokens and what they had seen
    back = []
    for old in on_a:
        assert await old.disconnected(5)
        again = c.client(meeting.tokens["facilitator" if old is fia else "participant"],
                         meeting=meeting.id, resume=old.resume_token, last_seq=old.last_seq())
        await again.connect()
        answer = await again.call("join", {})
        assert answer["ok"] and answer["data"]["participant"] == old.participant, answer
        back.append(again)
    for client in [*back, people[1], people[2]]:
        closed = await client.inbox.wait("event", lambda e: e["type"] == "round.closed",
                                         timeout=8)
        assert closed["data"]["reason"] == "deadline"
        assert -500 < closed["ts"] - closing_due < 2000, closed["ts"] - closing_due
    events = await log_of(c, meeting.id)
    assert [e["type"] for e in events].count("round.closed") == 1
    assert [e["type"] for e in events].count("round.closing") == 1
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    left = [e for e in events if e["type"] == "participant.left"]
    assert left == []  # resumed within grace: nobody left


async def test_redis_restart_with_aof_loses_no_acknowledged_event(
        procs: list[Proc], redis_aof: RedisServer) -> None:
    a, b, _ = procs
    meeting = await a.new_meeting()
    anna = await join(a, meeting.tokens["participant"], meeting.id, "Anna")
    bo = await join(b, meeting.tokens["participant"], meeting.id, "Bo")
    acked = {(await anna.ok("chat", {"text": f"a{i}"}))["seq"]: f"a{i}" for i in range(10)}
    acked |= {(await bo.ok("chat", {"text": f"b{i}"}))["seq"]: f"b{i}" for i in range(10)}
    await redis_aof.akill()  # SIGKILL: no shutdown save; only the append-only file remains
    started = time.monotonic()
    failed = await anna.call("chat", {"text": "under the outage"})
    assert failed["ok"] is False and failed["error"]["code"] == "store_unavailable"
    assert time.monotonic() - started < 1.5
    assert await healthz(a.url) == 503
    status, body = await a.api("GET", f"/api/meetings/{meeting.id}/log")
    assert status == 503 and body["error"]["code"] == "store_unavailable", body
    await redis_aof.astart()
    for _ in range(100):  # service resumes once Redis is back
        answer = await bo.call("chat", {"text": "efter"})
        if answer["ok"]:
            break
        await asyncio.sleep(0.1)  # retrying a command, as a client does
    assert answer["ok"], answer
    assert await healthz(a.url) == 200
    events = await log_of(b, meeting.id)
    texts = {e["seq"]: e["data"].get("text") for e in events}
    # each acknowledged chat at its own seq (a lost one would have had its seq reused)
    assert {seq: texts.get(seq) for seq in acked} == acked
    assert [seq for seq, text in texts.items() if text == "efter"] == [answer["data"]["seq"]]
    assert answer["data"]["seq"] > max(acked)
    await anna.inbox.wait("event", lambda e: e["data"].get("text") == "efter", timeout=5)


async def test_a_dead_process_s_participants_get_grace_then_leave_once(
        redis_aof: RedisServer, tmp_path: Path) -> None:
    """Presence held by a killed process expires by heartbeat: shown offline at once,
    and whoever does not come back leaves after the grace period, logged once."""
    a, b = [spawn(redis_aof.url, tmp_path, f"g{i}", grace_s=2) for i in range(2)]
    try:
        await asyncio.gather(wait_healthy(a), wait_healthy(b))
        meeting = await a.new_meeting()
        gone = await join(a, meeting.tokens["participant"], meeting.id, "Gunnar")
        stays = await join(b, meeting.tokens["participant"], meeting.id, "Stina", "Åbo")
        killed_at = time.monotonic()
        a.kill9()
        offline = await stays.inbox.wait("presence", lambda d: d["participant"] ==
                                         gone.participant and d["online"] is False, timeout=5)
        assert offline and time.monotonic() - killed_at < 4  # heartbeat 0.5 s, expiry 2 s
        left = await stays.inbox.wait("event", lambda e: e["type"] == "participant.left",
                                      timeout=8)
        assert left["data"]["id"] == gone.participant and left["data"]["reason"] == "timeout"
        events = await log_of(b, meeting.id)
        assert [e["type"] for e in events].count("participant.left") == 1
    finally:
        for p in (a, b):
            for c in p.clients:
                await c.close()
            await asyncio.to_thread(p.stop)


async def test_rolling_restart_clients_move_on_with_nothing_lost(procs: list[Proc]) -> None:
    """SIGTERM one process (a deploy): its clients are told server.restarting, come back
    through another process with their resume token and last seq, and miss nothing."""
    a, b, c = procs
    meeting = await a.new_meeting()
    anna = await join(a, meeting.tokens["participant"], meeting.id, "Anna")
    bo = await join(b, meeting.tokens["participant"], meeting.id, "Bo")
    anna.sio.on("server.restarting", anna._recorder("server.restarting"))
    await bo.ok("chat", {"text": "före"})
    await anna.inbox.wait("event", lambda e: e["data"].get("text") == "före")
    seen = anna.last_seq()
    await asyncio.to_thread(a.stop)  # SIGTERM
    assert await anna.disconnected(5)
    assert anna.inbox.named("server.restarting")
    said = await bo.ok("chat", {"text": "medan"})  # while anna is away
    back = c.client(meeting.tokens["participant"], meeting=meeting.id,
                    resume=anna.resume_token, last_seq=seen)
    await back.connect()
    answer = await back.call("join", {})
    assert answer["ok"] and answer["data"]["participant"] == anna.participant
    welcome = await back.inbox.wait("welcome")
    assert said["seq"] in [e["seq"] for e in welcome.get("missed", [])], welcome
    await bo.ok("chat", {"text": "efter"})
    await back.inbox.wait("event", lambda e: e["data"].get("text") == "efter")
    events = await log_of(c, meeting.id)
    assert [e["type"] for e in events].count("participant.left") == 0


async def test_a_second_tab_on_another_process_replaces_the_first(procs: list[Proc]) -> None:
    a, b, c = procs
    meeting = await a.new_meeting()
    anna = await join(a, meeting.tokens["participant"], meeting.id, "Anna")  # first tab
    bo = await join(c, meeting.tokens["participant"], meeting.id, "Bo", "Åbo")
    tab2 = b.client(meeting.tokens["participant"], meeting=meeting.id,
                    resume=anna.resume_token, last_seq=anna.last_seq())
    await tab2.connect()
    answer = await tab2.call("join", {})
    assert answer["ok"] and answer["data"]["participant"] == anna.participant, answer
    await anna.inbox.wait("session.replaced", timeout=3)
    assert await anna.disconnected()
    await tab2.ok("chat", {"text": "från andra fliken"})
    await bo.inbox.wait("event", lambda e: e["data"].get("text") == "från andra fliken")
    assert tab2.sio.connected and not tab2.inbox.named("session.replaced")
    # replaced, not gone: never shown offline, nobody left
    assert not [p for p in bo.inbox.named("presence")
                if p["participant"] == anna.participant and not p["online"]]
    events = await log_of(a, meeting.id)
    assert [e["type"] for e in events].count("participant.left") == 0
