"""Where the SQLite store does its work: appends are committed on the event loop at the
end of the turn (no thread hop, no GIL hand-off); checkpoints and everything else run on
the store's thread and never hold an append."""

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from rooms import Event
from server.store import SQLiteStore


def ev(seq: int) -> Event:
    return Event(seq, 1000 + seq, "a", "chat.sent", {"text": f"nr {seq}"})


@contextmanager
def thread_blocked(store: SQLiteStore) -> Iterator[threading.Event]:
    """The store's thread busy (as with a long read or a slow checkpoint) until the
    block ends."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(10)
    store._thread.submit(hold)
    assert started.wait(5)
    try:
        yield release
    finally:
        release.set()


@asynccontextmanager
async def opened(path: Path, **kwargs: int) -> AsyncIterator[tuple[SQLiteStore, list[int]]]:
    batches: list[int] = []
    async with SQLiteStore(path, on_commit=lambda s, n: batches.append(n), **kwargs) as st:
        yield st, batches


def on_disk(path: Path) -> list[tuple[str, int]]:
    """What another connection (a restarted process) finds in the file."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT meeting, seq FROM events ORDER BY meeting, seq").fetchall()


async def test_appends_of_one_turn_are_one_commit_on_the_loop_without_the_thread(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with opened(path) as (st, batches):
        with thread_blocked(st):
            appends = [asyncio.create_task(st.append(f"m{i}", [ev(1), ev(2)]))
                       for i in range(20)]
            await asyncio.wait_for(asyncio.gather(*appends), 2)  # the thread is still held
            assert batches == [20]  # one transaction for the turn's appends
            # Committed when the append returned: in the WAL, readable by anyone.
            assert len(on_disk(path)) == 40
            await asyncio.wait_for(st.append("m0", [ev(3)]), 2)
            assert batches == [20, 1]


async def test_checkpoints_run_on_the_store_thread_and_never_hold_an_append(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with opened(path, checkpoint_every=5) as (st, _):
        assert st._db is not None
        assert st._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        for seq in range(1, 6):
            await st.append("m", [ev(seq)])
        for _ in range(500):
            if st.checkpoints:
                break
            await asyncio.sleep(0.01)  # the checkpoint runs on the thread meanwhile
        kind, thread, _seconds = st.checkpoints[-1]
        assert kind == "passive" and thread.startswith("sqlite")
        assert thread != threading.current_thread().name
        done = len(st.checkpoints)
        with thread_blocked(st):  # the next checkpoint waits for the thread; appends do not
            for seq in range(6, 21):
                await asyncio.wait_for(st.append("m", [ev(seq)]), 2)
            assert len(st.checkpoints) == done
        assert [s for _, s in on_disk(path)] == list(range(1, 21))
        for _ in range(500):  # and it runs once the thread is free
            if len(st.checkpoints) > done:
                break
            await asyncio.sleep(0.01)
        assert len(st.checkpoints) > done


async def test_a_wal_past_its_limit_is_started_over_on_the_thread(tmp_path: Path) -> None:
    """Past its limit the WAL is copied out (RESTART, on the thread) and the next commit
    writes it from its start: the file keeps its size (freeing it is what made a
    TRUNCATE take 13-19 ms longer under load, every commit waiting) and does not grow."""
    path = tmp_path / "s.db"
    wal = path.parent / (path.name + "-wal")
    async with opened(path, checkpoint_every=3, wal_limit_pages=1) as (st, _):
        for seq in range(1, 4):
            await st.append("m", [ev(seq)])
        for _ in range(500):
            if any(kind == "restart" for kind, _, _ in st.checkpoints):
                break
            await asyncio.sleep(0.01)
        assert [(kind, thread[:6]) for kind, thread, _ in st.checkpoints] == [
            ("passive", "sqlite"), ("restart", "sqlite")]
        size = wal.stat().st_size
        assert size > 0  # not truncated
        await st.append("m", [ev(4)])
        assert wal.stat().st_size == size  # written over from its start
        other = sqlite3.connect(path)  # the WAL holds the one commit since
        try:
            _, frames, _ = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            other.close()
        assert 0 < frames <= 2
    assert [s for _, s in on_disk(path)] == [1, 2, 3, 4]


async def test_a_write_on_the_thread_holds_commits_back_until_it_is_done(
        tmp_path: Path) -> None:
    """A snapshot (or rewrite, or health probe) takes SQLite's write lock on the thread:
    the loop does not commit meanwhile (it would wait on the lock), and commits the
    appends made meanwhile as soon as it is done."""
    path = tmp_path / "s.db"
    async with opened(path) as (st, batches):
        with thread_blocked(st) as release:
            snapshot = asyncio.create_task(st.save_snapshot("m", 1, b"x" * 100_000))
            await asyncio.sleep(0)
            appends = [asyncio.create_task(st.append(f"m{i}", [ev(1)])) for i in range(5)]
            await asyncio.sleep(0.05)
            assert batches == [] and not any(a.done() for a in appends)
            release.set()
            await asyncio.wait_for(asyncio.gather(snapshot, *appends), 5)
        assert batches == [5]
        assert await st.latest_snapshot("m") == (1, b"x" * 100_000)


async def test_a_waiter_that_is_cancelled_does_not_cancel_the_append(tmp_path: Path) -> None:
    """The append's future keeps what the store answered, whoever waited on it: its
    waiter is cancelled once the commit has answered, and the event is in the log."""
    async with opened(tmp_path / "s.db") as (st, _):
        begun: list[asyncio.Future[None]] = []

        async def wait() -> None:
            begun.append(st.begin_append("m", [ev(1)]))
            await begun[0]
        waiter = asyncio.create_task(wait())
        await asyncio.sleep(0)  # it waits on the append, whose commit ends this turn
        assert begun and not begun[0].done()
        waiter.cancel()
        try:
            await waiter
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the waiter was not cancelled")
        durable = begun[0]
        assert durable.done() and not durable.cancelled() and durable.exception() is None
    assert [s for _, s in on_disk(tmp_path / "s.db")] == [1]
