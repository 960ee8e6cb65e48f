"""Where the SQLite store does its work: an append is durable once the loop has written it
to the journal at the end of the turn (no thread hop, no GIL hand-off); the store's thread
moves the journal into SQLite, and everything else runs there too, never holding an
append. A killed process's journal is moved at the next start; a full disk refuses the
appends it cannot write and loses none it acknowledged."""

import asyncio
import os
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from rooms import Event
from server.store import SQLiteStore, StoreError
from server.store import sqlite as sqlite_module
from server.store.sqlite import read_journal
from tests.disks import fill


def ev(seq: int) -> Event:
    return Event(seq, 1000 + seq, "a", "chat.sent", {"text": f"nr {seq}"})


@contextmanager
def thread_blocked(store: SQLiteStore) -> Iterator[threading.Event]:
    """The store's thread busy (as with a long read or a slow move) until the block
    ends."""
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
async def opened(path: Path, **kwargs: float) -> AsyncIterator[tuple[SQLiteStore, list[int]]]:
    batches: list[int] = []
    async with SQLiteStore(path, on_commit=lambda s, n: batches.append(n), **kwargs) as st:
        yield st, batches


def on_disk(path: Path) -> list[tuple[str, int]]:
    """What another connection finds in SQLite's file."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT meeting, seq FROM events ORDER BY meeting, seq").fetchall()


def journal(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + "-journal-*"))


def journalled(path: Path) -> list[tuple[str, int]]:
    rows = [r for file in journal(path) for r in read_journal(file.read_bytes())[0]]
    return sorted((r[0], r[1]) for r in rows)


async def until(check, seconds: float = 5) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not in time")


async def test_appends_of_one_turn_are_one_journal_write_on_the_loop_without_the_thread(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with opened(path) as (st, batches):
        with thread_blocked(st):
            appends = [asyncio.create_task(st.append(f"m{i}", [ev(1), ev(2)]))
                       for i in range(20)]
            await asyncio.wait_for(asyncio.gather(*appends), 2)  # the thread is still held
            assert batches == [20]  # one record for the turn's appends
            # Written when the append returned: in the journal, one file, one record.
            assert len(journalled(path)) == 40 and len(journal(path)) == 1
            assert on_disk(path) == []
            await asyncio.wait_for(st.append("m0", [ev(3)]), 2)
            assert batches == [20, 1]
            assert len(journalled(path)) == 41
            # A read does not wait for the move: it merges what SQLite does not hold.
            reading = asyncio.create_task(st.read("m0", after=1))
            await asyncio.sleep(0.05)
            assert not reading.done()  # reads run on the thread, after what it was given
        assert [e.seq for e in await asyncio.wait_for(reading, 5)] == [2, 3]
        # The thread moves the journal into SQLite and removes its file.
        await until(lambda: len(on_disk(path)) == 41 and not journal(path))
        assert [e.seq for e in await st.read("m0")] == [1, 2, 3]
        assert (await st.read("m0"))[2].data == {"text": "nr 3"}


async def test_a_journal_file_takes_records_while_appends_keep_coming(tmp_path: Path) -> None:
    """Under steady appends the rows move into SQLite every ingest interval while one
    journal file goes on taking records (a file created and removed each interval cost
    the loop and the thread 0.1-0.6 ms each); it ends once it is old enough, and the next
    record starts a new file; the old one is removed once its rows are in. When appends
    pause for an interval the file ends at once, so an idle store keeps no journal."""
    path = tmp_path / "s.db"
    seen: list[str] = []
    moved_from_open_file: list[bool] = []

    async def append(seq: int) -> None:
        await st.append("m", [ev(seq)])
        seen.extend(f.name for f in journal(path) if f.name not in seen)
        moved_from_open_file.append(bool(on_disk(path)) and len(journal(path)) == 1)
        await asyncio.sleep(0.002)

    async with opened(path, ingest_after_s=0.05, rotate_after_s=0.5) as (st, _):
        for seq in range(1, 61):  # 0.15 s or more: three intervals or more, one file
            await append(seq)
        assert len(seen) == 1 and any(moved_from_open_file)
        while len(seen) == 1 and seq < 2000:  # once 0.5 s old, the next record starts
            seq += 1  # a new file
            await append(seq)
        assert len(seen) == 2
        await until(lambda: seen[0] not in {f.name for f in journal(path)})  # once moved
        await until(lambda: not journal(path))  # a pause ends the last one
        assert [s for _, s in on_disk(path)] == list(range(1, seq + 1))
        await st.append("m", [ev(seq + 1)])  # the record after a pause starts a new file
        assert [f.name for f in journal(path)] not in ([], [seen[-1]])


async def test_a_killed_process_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    """The files as a killed process leaves them (copied while its thread could move
    nothing): the next start moves the journal into SQLite before anything is read."""
    path = tmp_path / "a" / "s.db"
    after_kill = tmp_path / "b"
    async with opened(path) as (st, _):
        await st.append("m", [ev(1), ev(2)])
        await until(lambda: on_disk(path) == [("m", 1), ("m", 2)] and not journal(path))
        with thread_blocked(st):
            await st.append("m", [ev(3)])
            await st.append("n", [ev(1)])
            assert journalled(path) == [("m", 3), ("n", 1)]
            shutil.copytree(path.parent, after_kill)
    moved = after_kill / "s.db"
    async with opened(moved) as (st, _):
        assert not journal(moved)
        assert on_disk(moved) == [("m", 1), ("m", 2), ("m", 3), ("n", 1)]
        assert await st.meetings() == ["m", "n"]
        await st.append("m", [ev(4)])  # and the log goes on where it ended
        with pytest.raises(StoreError):
            await st.append("n", [ev(3)])  # a gap is still refused
    assert on_disk(moved)[-2:] == [("m", 4), ("n", 1)]


async def test_a_killed_process_s_file_with_rows_already_moved_is_moved_again_once(
        tmp_path: Path) -> None:
    """A file still taking records holds rows SQLite has already: the next start skips
    those and moves the rest, each row once."""
    path = tmp_path / "a" / "s.db"
    after_kill = tmp_path / "b"
    async with opened(path, rotate_after_s=60) as (st, _):
        seq = 0
        while not on_disk(path):  # appends every few ms: the file never pauses
            seq += 1
            await st.append("m", [ev(seq)])
            await asyncio.sleep(0.003)
        with thread_blocked(st):
            seq += 1
            await st.append("m", [ev(seq)])
            assert len(journal(path)) == 1
            assert set(journalled(path)) & set(on_disk(path))  # moved, and still there
            shutil.copytree(path.parent, after_kill)
    moved = after_kill / "s.db"
    async with opened(moved) as (st, _):
        assert not journal(moved)
        assert [s for _, s in on_disk(moved)] == list(range(1, seq + 1))
        assert [e.seq for e in await st.read("m")] == list(range(1, seq + 1))


async def test_a_record_cut_short_ends_its_file_and_the_whole_ones_are_kept(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with opened(path) as (st, _):
        with thread_blocked(st):
            await st.append("m", [ev(1)])
            await st.append("m", [ev(2)])
            (file,) = journal(path)
            whole = file.read_bytes()
            shutil.copy(file, tmp_path / "kept")
    # What a power cut in the middle of the second record could leave.
    cut = whole[:-3]
    assert read_journal(cut) == (read_journal(whole)[0][:1], False)
    os.unlink(path)
    for name in (path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)
    (path.parent / f"{path.name}-journal-00000007").write_bytes(cut)
    async with opened(path) as (st, _):
        assert [e.seq for e in await st.read("m")] == [1]
        assert not journal(path)
        await st.append("m", [ev(2)])
        # New files are numbered past the ones found.
        with thread_blocked(st):
            await st.append("m", [ev(3)])
            assert [f.name.rpartition("-")[2] for f in journal(path)] == ["00000008"]


async def test_a_rewrite_moves_the_journal_first_and_leaves_no_file_with_old_bytes(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with opened(path, ingest_after_s=60) as (st, _):  # nothing moves by itself
        await st.append("m", [ev(1), ev(2)])
        await st.append("other", [Event(1, 1001, "a", "chat.sent", {"text": "kvar"})])
        assert journal(path)
        await st.rewrite("m", [Event(1, 1001, "a", "chat.sent", {"text": "[raderat]"})])
        assert not journal(path)
        assert b"nr 2" not in b"".join(f.read_bytes() for f in path.parent.iterdir()
                                        if f.is_file())
        assert [e.data for e in await st.read("m")] == [{"text": "[raderat]"}]
        assert [e.seq for e in await st.read("other")] == [1]
        await st.append("m", [ev(2)])  # the rewritten log goes on from its own end
        assert [e.seq for e in await st.read("m")] == [1, 2]


async def test_snapshots_and_the_health_probe_never_hold_an_append(tmp_path: Path) -> None:
    """A snapshot or probe waits for the thread; the appends meanwhile do not."""
    path = tmp_path / "s.db"
    async with opened(path) as (st, batches):
        with thread_blocked(st) as release:
            snapshot = asyncio.create_task(st.save_snapshot("m", 1, b"x" * 100_000))
            probe = asyncio.create_task(st.ping())
            await asyncio.sleep(0)
            appends = [asyncio.create_task(st.append(f"m{i}", [ev(1)])) for i in range(5)]
            await asyncio.wait_for(asyncio.gather(*appends), 2)
            assert batches == [5] and not snapshot.done() and not probe.done()
            release.set()
            await asyncio.wait_for(asyncio.gather(snapshot, probe), 5)
        assert await st.latest_snapshot("m") == (1, b"x" * 100_000)


async def test_a_second_store_cannot_open_the_same_file(tmp_path: Path) -> None:
    """One process owns a data directory: another (here a second store: ``flock``
    locks belong to each open of the lock file) would move the journal under it."""
    path = tmp_path / "s.db"
    async with opened(path) as (st, _):
        await st.append("m", [ev(1)])
        with pytest.raises(StoreError, match="in use by another process"):
            async with opened(path):
                pass
        await st.append("m", [ev(2)])  # the first goes on
    async with opened(path) as (st, _):  # released when closed
        assert [e.seq for e in await st.read("m")] == [1, 2]


async def test_a_waiter_that_is_cancelled_does_not_cancel_the_append(tmp_path: Path) -> None:
    """The append's future keeps what the store answered, whoever waited on it: its
    waiter is cancelled once the write has answered, and the event is in the log."""
    async with opened(tmp_path / "s.db") as (st, _):
        begun: list[asyncio.Future[None]] = []

        async def wait() -> None:
            begun.append(st.begin_append("m", [ev(1)]))
            await begun[0]
        waiter = asyncio.create_task(wait())
        await asyncio.sleep(0)  # it waits on the append, whose write ends this turn
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


async def test_a_full_disk_refuses_what_it_cannot_write_and_keeps_what_it_did(
        small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows written to the journal while SQLite had no room stay in it and in memory:
    reads merge them, the health probe fails, and once there is room they are moved."""
    monkeypatch.setattr(sqlite_module, "RETRY_S", 0.05)
    path = small_disk / "s.db"
    async with opened(path) as (st, _):
        await st.append("m", [ev(1)])
        await until(lambda: not journal(path))
        with thread_blocked(st):
            await st.append("m", [ev(2)])  # in the journal; the thread moves nothing yet
            fill(small_disk / "filler")
        # The move fails for want of room; the append after it cannot be written.
        refused = 0
        for seq in range(3, 100):
            try:
                await st.append("m", [ev(seq)])
            except StoreError:
                refused = seq
                break
        assert refused, "a full disk took every append"
        assert on_disk(path) == [("m", 1)]  # SQLite has no room: what follows is merged
        assert [e.seq for e in await st.read("m")] == list(range(1, refused))
        assert await st.meetings() == ["m"]
        assert [e.seq for e in await st.read_range("m", 1, 2)] == [2]
        assert [e.seq for e in await st.read_seqs("m", [1, 2])] == [1, 2]
        with pytest.raises(StoreError):
            await st.ping()
        (small_disk / "filler").unlink()
        await until(lambda: len(on_disk(path)) == refused - 1 and not journal(path))
        await st.ping()
        await st.append("m", [ev(refused)])
    assert [s for _, s in on_disk(path)] == list(range(1, refused + 1))


async def test_the_store_thread_does_not_preempt_the_loop(tmp_path: Path) -> None:
    """The thread that moves the journal into SQLite runs as SCHED_BATCH (Linux): it
    keeps its share of the CPU but does not preempt the loop on waking; the loop's own
    thread keeps the default policy."""
    if not hasattr(os, "SCHED_BATCH"):
        pytest.skip("SCHED_BATCH is Linux's")
    async with SQLiteStore(tmp_path / "s.db") as st:
        tid = await st._run(threading.get_native_id)
        assert tid != threading.get_native_id()
        assert os.sched_getscheduler(tid) == os.SCHED_BATCH
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
