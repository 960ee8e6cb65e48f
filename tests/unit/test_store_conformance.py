"""The same contract, checked against every LogStore implementation."""

import contextlib
import sqlite3
from collections.abc import AsyncIterator

import pytest

from rooms import Event
from server.store import LogStore, MemoryStore, SQLiteStore, StoreError
from server.store.redis_store import RedisStore
from tests.redis_support import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.kill()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[LogStore]:  # type: ignore[no-untyped-def]
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        impl: LogStore = RedisStore(server.url, prefix=f"t{tmp_path.name}:")
    else:
        impl = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    async with impl as opened:  # type: ignore[attr-defined]
        yield opened


def ev(seq: int, type_: str = "chat.sent") -> Event:
    return Event(seq, 1000 + seq, "a", type_, {"n": seq, "text": "å ä ö", "nested": [1, {"x": 2}]})


async def test_append_then_read_in_order(store: LogStore) -> None:
    await store.append("m1", [ev(1), ev(2)])
    await store.append("m2", [ev(1)])
    await store.append("m1", [ev(3)])
    assert await store.read("m1") == [ev(1), ev(2), ev(3)]
    assert await store.read("m1", after=2) == [ev(3)]
    assert await store.meetings() == ["m1", "m2"]


async def test_snapshots(store: LogStore) -> None:
    assert await store.latest_snapshot("m1") is None
    await store.save_snapshot("m1", 10, b"a")
    await store.save_snapshot("m1", 20, b"b")
    assert await store.latest_snapshot("m1") == (20, b"b")


async def test_duplicate_seq_is_refused(store: LogStore) -> None:
    await store.append("m1", [ev(1)])
    with pytest.raises((StoreError, sqlite3.IntegrityError)):
        await store.append("m1", [ev(1)])
    assert await store.read("m1") == [ev(1)]


async def test_concurrent_appends_group_commit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    batches: list[int] = []
    async with SQLiteStore(tmp_path / "g.db", on_commit=lambda s, n: batches.append(n)) as st:
        await asyncio.gather(*(st.append(f"m{i}", [ev(1)]) for i in range(50)))
        assert len(await st.meetings()) == 50
    assert sum(batches) == 50 and len(batches) < 50


async def test_sqlite_survives_reopen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with SQLiteStore(tmp_path / "r.db") as st:
        await st.append("m1", [ev(1), ev(2)])
    async with SQLiteStore(tmp_path / "r.db") as st:
        assert await st.read("m1") == [ev(1), ev(2)]


async def test_a_log_never_gets_a_gap(store: LogStore) -> None:
    await store.append("m1", [ev(1)])
    with pytest.raises(StoreError):
        await store.append("m1", [ev(3)])
    await store.append("m1", [ev(2)])
    assert [e.seq for e in await store.read("m1")] == [1, 2]


async def test_an_unencodable_event_fails_alone_and_the_store_goes_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with SQLiteStore(tmp_path / "u.db") as st:
        with pytest.raises(StoreError):
            await st.append("m1", [Event(1, 0, "a", "x", {"n": 2**70})])
        await st.append("m2", [ev(1)])
        assert await st.read("m2") == [ev(1)]


async def test_read_range_and_rewrite(store: LogStore) -> None:
    await store.append("m1", [ev(i) for i in range(1, 11)])
    await store.append("m10", [ev(1)])
    assert await store.read_range("m1", 3, 6, 100) == [ev(4), ev(5), ev(6)]  # type: ignore[attr-defined]
    assert await store.read_range("m1", 3, 9, 2) == [ev(4), ev(5)]  # type: ignore[attr-defined]
    await store.save_snapshot("m1", 5, b"s")
    await store.save_snapshot("m1#board#plenary", 5, b"b")
    await store.save_snapshot("m10", 1, b"other")
    await store.rewrite("m1", [ev(1), ev(2, "presence.changed")])  # type: ignore[attr-defined]
    assert await store.read("m1") == [ev(1), ev(2, "presence.changed")]
    assert await store.latest_snapshot("m1") is None
    assert await store.latest_snapshot("m1#board#plenary") is None
    assert await store.latest_snapshot("m10") == (1, b"other")  # another meeting's stays
    await store.append("m1", [ev(3)])  # the log continues after the rewrite
    assert [e.seq for e in await store.read("m1")] == [1, 2, 3]


async def test_redis_appends_from_two_clients_get_one_order(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two processes' stores racing for the same seq: exactly one wins, the other
    learns the log's last seq (SeqConflict) and nothing is overwritten."""
    import asyncio

    from server.store.base import SeqConflict
    prefix = f"race{tmp_path.name}:"
    async with RedisStore(redis_server.url, prefix) as a, RedisStore(redis_server.url, prefix) as b:
        await a.append("m1", [ev(1)])
        results = await asyncio.gather(a.append("m1", [ev(2, "a")]),
                                       b.append("m1", [ev(2, "b")]), return_exceptions=True)
        losers = [r for r in results if isinstance(r, SeqConflict)]
        assert len(losers) == 1 and losers[0].last == 2
        winner = "a" if results[0] is None else "b"
        assert [e.type for e in await b.read("m1")] == ["chat.sent", winner]
        await a.save_snapshot("m1", 5, b"new")
        await b.save_snapshot("m1", 3, b"old")  # never replaces a newer snapshot
        assert await a.latest_snapshot("m1") == (5, b"new")


async def test_redis_down_fails_fast_with_store_unavailable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    from tests.redis_support import free_port
    async with RedisStore(f"redis://127.0.0.1:{free_port()}/0", op_timeout_s=0.5) as st:
        started = time.monotonic()
        for call in (st.ping(), st.append("m1", [ev(1)]), st.read("m1")):
            with pytest.raises(StoreError) as info:
                await call
            assert info.value.code == "store_unavailable"
        assert time.monotonic() - started < 3 * 1.0


async def test_appends_in_flight_to_one_log_keep_their_order(store: LogStore) -> None:
    """Many appends to one log awaited together (a burst of commands on one meeting)
    all land, in call order, none refused (Redis: they must not race each other)."""
    import asyncio
    await asyncio.gather(*(store.append("m1", [ev(i)]) for i in range(1, 61)))
    assert [e.seq for e in await store.read("m1")] == list(range(1, 61))


async def test_redis_that_stops_answering_fails_commands_within_a_second(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Redis that hangs (SIGSTOP), not one that refuses: every command still fails
    with store_unavailable within the deadline, and works again once it answers."""
    import signal
    import time

    server = RedisServer(tmp_path / "hung").start()
    try:
        async with RedisStore(server.url, op_timeout_s=0.8) as st:
            await st.append("m1", [ev(1)])
            assert server.proc is not None
            server.proc.send_signal(signal.SIGSTOP)
            for call in (st.ping(), st.append("m1", [ev(2)]), st.read("m1")):
                started = time.monotonic()
                with pytest.raises(StoreError):
                    await call
                assert time.monotonic() - started < 1.0
            server.proc.send_signal(signal.SIGCONT)
            await st.ping()
            assert [e.seq for e in await st.read("m1")] in ([1], [1, 2])
    finally:
        server.kill()


async def test_closing_answers_the_commit_in_flight_and_the_pending_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Closing the store while one commit runs on its thread and more appends wait for
    the next: every append is answered (none hangs) and is in the log afterwards."""
    import asyncio
    st = SQLiteStore(tmp_path / "c.db")
    await st.__aenter__()
    first = [asyncio.create_task(st.append(f"m{i}", [ev(1)])) for i in range(20)]
    await asyncio.sleep(0)  # the first append submitted a commit; the rest wait behind it
    second = [asyncio.create_task(st.append(f"n{i}", [ev(1)])) for i in range(20)]
    await asyncio.sleep(0)
    await asyncio.wait_for(st.__aexit__(None, None, None), 10)
    await asyncio.wait_for(asyncio.gather(*first, *second), 1)
    async with SQLiteStore(tmp_path / "c.db") as again:
        assert len(await again.meetings()) == 40


async def test_redis_pool_is_bounded_and_waits_under_the_benchmarks_burst(
        redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The pool is sized on purpose (64) and, under bench/bench_cluster.py's join burst
    taken four times over (200 joins at once instead of 50: each an append, a presence
    write and publish, and a read), waits for a free connection instead of failing;
    redis-py 8's own pool of the same size refuses the same burst (the pitfall). The
    store's check of the deployment's data before its first command runs once for the
    whole burst, not once per command (which doubled the burst's commands)."""
    import asyncio
    import gc

    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError

    from server.gc_policy import GcPolicy

    async def gets() -> int:  # the check's reads of the epoch key, server-wide
        async with aioredis.Redis.from_url(redis_server.url) as r:
            stats = await r.info("commandstats")
        return int(stats.get("cmdstat_get", {}).get("calls", 0))

    prefix = f"pool{tmp_path.name}:"
    gets_before = await gets()
    # The collector as the server runs it (server/gc_policy.py: off, the heap frozen):
    # under pytest's default one, the whole suite's heap (~750,000 objects by here) made
    # a full collection of 0.7 s in the middle of the burst, past the 0.8 s deadline.
    collector = asyncio.create_task(GcPolicy(full_every_s=3600).run())

    async def give_back() -> None:
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
        assert gc.isenabled()

    await asyncio.sleep(0)
    assert not gc.isenabled()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(give_back)
        st = await stack.enter_async_context(RedisStore(redis_server.url, prefix))
        assert st.max_connections == 64

        async def join(i: int) -> None:
            await st.append(f"m{i % 40}#{i // 40}", [ev(1)])
            pipe = st.redis.pipeline(transaction=False)
            pipe.hset(f"{prefix}online:p", f"m\t{i}", 1)
            pipe.publish(f"{prefix}presence", b"x")
            await st.call(pipe.execute())
            assert await st.read(f"m{i % 40}#{i // 40}") == [ev(1)]
        await asyncio.gather(*(join(i) for i in range(200)))
        assert st.connections_opened() == 64  # it reached its bound, and waited there
        assert await gets() - gets_before == 1
    plain = aioredis.Redis.from_url(redis_server.url, max_connections=64)
    try:
        results = await asyncio.gather(*(plain.xrange(f"{prefix}log:m{i % 40}#0")
                                         for i in range(600)), return_exceptions=True)
        refused = [r for r in results if isinstance(r, BaseException)]
        assert refused and all(isinstance(r, RedisConnectionError) for r in refused)
    finally:
        await plain.aclose()
        await plain.connection_pool.disconnect()


async def test_a_failing_handler_keeps_the_subscription(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One pub/sub handler that raises does not cost the process its subscription: a
    message on another channel published right behind it still arrives (pub/sub keeps
    nothing for a subscriber that is away), and nothing subscribes again."""
    import asyncio

    got: list[bytes] = []
    arrived, ready, subscriptions = asyncio.Event(), asyncio.Event(), []

    async def failing(data: bytes) -> None:
        raise RuntimeError("a defect in one handler")

    async def working(data: bytes) -> None:
        got.append(data)
        arrived.set()

    async def subscribed() -> None:
        subscriptions.append(1)
        ready.set()

    prefix = f"sub{tmp_path.name}:"
    async with RedisStore(redis_server.url, prefix) as st:
        listening = asyncio.create_task(st.listen(
            {f"{prefix}a": failing, f"{prefix}b": working}, subscribed))
        try:
            await asyncio.wait_for(ready.wait(), 5)  # the subscription is made
            async with st.redis.pipeline(transaction=False) as pipe:
                pipe.publish(f"{prefix}a", b"first")
                pipe.publish(f"{prefix}b", b"second")
                await pipe.execute()
            await asyncio.wait_for(arrived.wait(), 3)
            assert got == [b"second"] and subscriptions == [1]
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
