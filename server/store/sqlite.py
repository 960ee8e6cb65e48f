"""The embedded default: the log in SQLite, made durable first by one write to a journal.

Appends are group-committed at the end of the loop turn: every append made while the
loop runs one round of ready callbacks goes out, at the end of that turn, as one record
(its length, a CRC-32 and the rows in msgpack) written with one ``write()`` to the
store's journal, a plain file beside the database. An append returns only once that
write returned: the record is then in the kernel's page cache and survives a killed
process, as SQLite's WAL with ``synchronous=NORMAL`` does (neither survives a power cut:
``docs/design.md``). So nothing is delivered that a killed process could lose.

The store's thread then moves the rows into SQLite, a batch every ``ingest_after_s``
(20 ms) in one transaction on its own connection. A journal file takes records for
``rotate_after_s`` (5 s) under steady appends, or until appends pause for one ingest
interval; then the next record starts a new file, and the thread deletes the old one once
its last rows are committed (creating and deleting a file costs 0.1-0.6 ms each, on the
loop and on the thread: every 20 ms, that was ~1 % of the core and a stall in the middle
of a chat's turn). At start-up, files left by a killed process are moved into SQLite
(rows already there are skipped) before anything is read (a record cut short, which
only a power cut or a full disk leaves, ends its file). A full disk refuses the appends
whose write fails; rows already written and not yet moved stay in their file and in
memory and are moved once there is room (a read meanwhile merges them).

Why a journal in front of SQLite (until issue 17's fourth pass an append was an INSERT
committed on the loop): between two chats the rest of the server's work evicts SQLite's
code and pages from the CPU's caches, so one INSERT and its commit took 35-45 µs of the
loop's time, the largest single step of a chat, where a ``write()`` takes a few; batched
on the thread, SQLite's work per row is a fraction of that, off every chat's path
(docs/benchmarks.md). Why not commit on the thread instead: the thread and the loop share
the GIL, and a thread whose every statement waits to get the GIL back put a tail of
several ms on each append.

What else could take long stays off the loop too, on the store's thread: reads (which
run after the rows handed to the thread before them, and merge any it could not move),
snapshots, rewrites, the health probe, and SQLite's own checkpoints (the thread is the
only writer, so its autocheckpoint finds the WAL wholly copied and starts it over). One
read is on the loop: a meeting's last seq, the first time it is appended to after
start-up or a rewrite (an index lookup). A rewrite (erasure) holds the appends back
while it runs, and first moves every row written before it and ends the journal file,
so no journal file keeps a byte it replaced. One process owns a data directory: a lock
file says so.
"""

import asyncio
import collections
import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from rooms import Event
from server.store.base import StoreError

log = logging.getLogger("ledarstig.store")

#: How long rows written to the journal wait before the thread moves them into SQLite
#: (one transaction for all of them); a read never waits for it.
INGEST_AFTER_S = 0.02
#: How long one journal file takes records while appends keep coming (they pause for an
#: ingest interval: it ends then). Bounds what a start-up moves again after a kill.
ROTATE_AFTER_S = 5.0
#: After a move failed (a full disk), how long until the thread tries again.
RETRY_S = 0.5
#: How long a connection waits for SQLite's write lock (only a write of the thread's own,
#: or a tool opening the file, could hold it).
BUSY_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    meeting TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
    actor TEXT NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (meeting, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    meeting TEXT PRIMARY KEY, seq INTEGER NOT NULL, blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS health (
    id INTEGER PRIMARY KEY, checked_at REAL NOT NULL);
"""

Batch = list[tuple[str, list["Row"], "_Durable"]]
Row = tuple[str, int, int, str, str, bytes]
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(dict[str, Any]).decode
_decode_rows = msgspec.msgpack.Decoder(list[tuple[str, int, int, str, str, bytes]]).decode
_HEADER = struct.Struct("<II")  # a record: the body's length and its CRC-32, then the body
_INSERT = "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?)"


class _Durable(asyncio.Future):  # type: ignore[type-arg]
    """An append's future, which no waiter's cancellation cancels (``begin_append``)."""

    on_answer: Callable[[], None] | None = None

    def cancel(self, msg: Any = None) -> bool:
        return False


class SQLiteStore:
    def __init__(self, path: Path, on_commit: Callable[[float, int], None] | None = None,
                 ingest_after_s: float = INGEST_AFTER_S,
                 rotate_after_s: float = ROTATE_AFTER_S) -> None:
        self._path = path
        self._on_commit = on_commit or (lambda seconds, count: None)
        self._ingest_after = ingest_after_s
        self._rotate_after = rotate_after_s
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite",
                                          initializer=_batch_thread)
        self._db: sqlite3.Connection | None = None  # the loop's: a meeting's last seq
        self._side: sqlite3.Connection | None = None  # the thread's: everything else
        self._lock_fd: int | None = None
        self._pending: Batch = []
        self._flush_at: asyncio.Handle | None = None  # the write scheduled for the turn's end
        self._thread_writes = 0  # rewrites under way on the thread: no append meanwhile
        self._last: dict[str, int] = {}  # meeting -> last durable seq
        # The journal, on the loop: the file written now (since when, whether it holds a
        # record), the rows written since the last hand-over, and the batches handed to
        # the thread that SQLite does not hold yet (oldest first).
        self._fd: int | None = None
        self._file_no = 0
        self._file: Path | None = None
        self._file_since = 0.0
        self._file_used = False
        self._written: list[Row] = []
        self._handed: collections.deque[list[Row]] = collections.deque()
        self._handed_moved = 0  # of the batches ever handed, how many SQLite holds
        self._tick_at: asyncio.TimerHandle | None = None  # the next hand-over
        self._retry_at: asyncio.TimerHandle | None = None  # the next try of a failed move
        self._moving: set[asyncio.Future[int]] = set()
        self._failing = False  # the last move failed: try again
        # On the thread only: the handed batches not yet in SQLite, each with the file it
        # ends (removed once it is in), and how many ever were moved.
        self._backlog: collections.deque[tuple[list[Row], Path | None]] = collections.deque()
        self._moved = 0

    async def __aenter__(self) -> "SQLiteStore":
        try:
            await self._run(self._open)
        except BaseException:
            await self._run(self._close)
            self._thread.shutdown(wait=True)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._pending or self._thread_writes:  # every append is answered
            if self._flush_at is None and not self._thread_writes:
                self._flush()
            await asyncio.sleep(0.005 if self._thread_writes else 0)
        self._hand_over()
        if self._retry_at is not None:
            self._retry_at.cancel()
            self._retry_at = None
        db, self._db = self._db, None
        if db is not None:
            db.close()
        with contextlib.suppress(StoreError):  # rows it could not move stay in the journal
            await self._run(self._drain)
        await self._run(self._close)
        if self._moving:
            await asyncio.wait(self._moving)
        self._thread.shutdown(wait=True)

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        await asyncio.shield(self.begin_append(meeting, events))  # a caller may give up

    def begin_append(self, meeting: str, events: Sequence[Event],
                     on_answer: Callable[[], None] | None = None) -> "asyncio.Future[None]":
        """``append`` begun: its future is done once the batch is durable (or refused),
        at the journal write that ends this turn of the loop; whoever holds it may wait
        on it or, like ``LiveMeeting.publish``, look whether it is done. It cannot be
        cancelled: a waiter that is cancelled gets its ``CancelledError`` when the write
        answers (at the end of the turn), and the future keeps what the store answered,
        as ``asyncio.shield`` would have it but without the turn of the loop its relay
        costs before the waiter resumes. ``on_answer`` is called in the write's own
        callback, once every append of the write is answered (before any waiter
        resumes)."""
        loop = asyncio.get_running_loop()
        done = _Durable(loop=loop)
        done.on_answer = on_answer
        if not events:
            done.set_result(None)
            return done
        try:
            rows = [(meeting, e.seq, e.ts, e.actor, e.type, _encode(e.data)) for e in events]
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreError(f"An event could not be encoded: {exc}.") from exc
        self._pending.append((meeting, rows, done))
        if self._flush_at is None and not self._thread_writes:
            self._flush_at = loop.call_soon(self._flush)
        return done

    async def read(self, meeting: str, after: int = 0) -> list[Event]:
        unmoved = self._unmoved(meeting)
        rows = await self._run(self._select, meeting, after)
        return _events(_merged(rows, unmoved, lambda seq: seq > after))

    async def read_range(self, meeting: str, after: int, upto: int,
                         limit: int = 5000) -> list[Event]:
        """Events with ``after < seq <= upto``, at most ``limit`` (review, exports)."""
        unmoved = self._unmoved(meeting)
        rows = await self._run(self._query,
                               "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? "
                               "AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                               (meeting, after, upto, limit))
        if len(rows) < limit:
            rows = _merged(rows, unmoved, lambda seq: after < seq <= upto)[:limit]
        return _events(rows)

    async def read_seqs(self, meeting: str, seqs: Sequence[int]) -> list[Event]:
        """The events with these ``seq`` (at most a few hundred), in order."""
        if not seqs:
            return []
        unmoved = self._unmoved(meeting)
        marks = ",".join("?" * len(seqs))
        rows = await self._run(self._query,
                               "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? "
                               f"AND seq IN ({marks}) ORDER BY seq", (meeting, *seqs))
        wanted, found = set(seqs), {r[0] for r in rows}
        rows += [r[1:] for r in unmoved if r[1] in wanted and r[1] not in found]
        return _events(sorted(rows))

    async def meetings(self) -> list[str]:
        unmoved = {r[0] for batch in (*self._handed, self._written) for r in batch}
        rows = await self._run(self._query, "SELECT DISTINCT meeting FROM events ORDER BY meeting")
        return sorted({r[0] for r in rows} | unmoved)

    async def save_snapshot(self, meeting: str, seq: int, blob: bytes) -> None:
        await self._run(self._exec, "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                        (meeting, seq, blob))

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None:
        rows = await self._run(self._query, "SELECT seq, blob FROM snapshots WHERE meeting = ?",
                               (meeting,))
        return (rows[0][0], rows[0][1]) if rows else None

    async def rewrite(self, meeting: str, events: Sequence[Event]) -> None:
        """Replace a meeting's whole log (erasure, a deleted recording) and drop its
        snapshots; then no old byte stays in the journal, the WAL or free pages. Appends
        wait meanwhile; every row written before it is moved into SQLite first (if that
        fails, so does the rewrite, and nothing is replaced)."""
        rows = [(meeting, e.seq, e.ts, e.actor, e.type, _encode(e.data)) for e in events]
        try:
            await self._thread_write(self._rewrite, meeting, rows)
        finally:
            self._last.pop(meeting, None)  # the next append reads where the log ends

    def _rewrite(self, meeting: str, rows: list[Row]) -> None:
        self._drain()
        db = self._side_conn()
        with _transaction(db):
            db.execute("DELETE FROM events WHERE meeting = ?", (meeting,))
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("DELETE FROM snapshots WHERE meeting = ? OR substr(meeting, 1, ?) = ?",
                       (meeting, len(meeting) + 1, meeting + "#"))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def ping(self) -> None:
        """Real writes where the appends go: a page to the journal's folder (a full disk
        fails it even while SQLite's WAL has room to reuse), the rows not yet moved, and
        a row through SQLite."""
        self._hand_over(end_file=False)
        await self._run(self._probe)

    # -- on the loop -----------------------------------------------------------------

    def _flush(self) -> None:
        """Write every pending append as one journal record and answer them (on the
        loop, at the end of the turn in which the first of them was made)."""
        self._flush_at = None
        if self._thread_writes or not self._pending:
            return  # a rewrite on the thread: it flushes when done
        batch, self._pending = self._pending, []
        started = time.perf_counter()
        refused: set[int] = set()
        failure: StoreError | None = None
        try:
            refused = self._write(batch)
        except (sqlite3.Error, OSError, ValueError, TypeError, OverflowError) as exc:
            failure = StoreError(f"The event store failed: {exc}.")
        except Exception as exc:  # noqa: BLE001 - the appends must hear of anything
            failure = StoreError(f"The event store failed: {exc!r}.")
        if failure is None:
            self._on_commit(time.perf_counter() - started, len(batch))
        for index, (meeting, _, done) in enumerate(batch):
            if done.done():
                continue
            if failure is not None:
                done.set_exception(failure)
            elif index in refused:
                done.set_exception(StoreError(
                    f"An append to {meeting} does not continue its log; refused."))
            else:
                done.set_result(None)
        for _, _, done in batch:
            hook = done.on_answer
            if hook is not None:
                try:
                    hook()
                except Exception:  # noqa: BLE001 - its waiter still hears the answer
                    log.exception("delivering at the commit failed")

    def _write(self, batch: Batch) -> set[int]:
        """Write every append that continues its meeting's log as one record; return the
        indices of those refused. A log never gets a gap: the appends behind one that
        does not continue its log no longer continue it either, and are refused too."""
        last: dict[str, int] = {}  # this batch's meetings (not a copy of every one known)
        rows: list[Row] = []
        refused: set[int] = set()
        for index, (meeting, appended, _) in enumerate(batch):
            if meeting not in last:
                held = self._last.get(meeting)
                if held is None:
                    held = self._conn().execute("SELECT MAX(seq) FROM events WHERE meeting = ?",
                                                (meeting,)).fetchone()[0] or 0
                last[meeting] = held
            if not appended or appended[0][1] != last[meeting] + 1:
                refused.add(index)
                continue
            last[meeting] = appended[-1][1]
            rows += appended
        if rows:
            self._journal(rows)
        self._last.update(last)
        return refused

    def _journal(self, rows: list[Row]) -> None:
        """One record of ``rows`` to the journal file, with one ``write()``."""
        body = _encode(rows)
        record = _HEADER.pack(len(body), zlib.crc32(body)) + body
        if self._fd is None:
            self._file_no += 1
            self._file = self._path.with_name(f"{self._path.name}-journal-{self._file_no:08d}")
            self._fd = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                               | os.O_CLOEXEC, 0o600)
            self._file_since = time.monotonic()
            self._file_used = False
        try:
            written = os.write(self._fd, record)
        except OSError:
            self._abandon()
            raise
        if written != len(record):  # the disk filled up part of the way
            self._abandon()
            raise OSError(errno.ENOSPC, "the journal record was cut short")
        self._file_used = True
        self._written += rows
        if self._tick_at is None:
            self._tick_at = asyncio.get_running_loop().call_later(self._ingest_after,
                                                                  self._tick)

    def _abandon(self) -> None:
        """After a failed write: the file may end in a cut record, so nothing more goes
        to it. It ends: handed over if it holds whole records, removed if it holds none."""
        self._hand_over()

    def _tick(self) -> None:
        """An ingest interval after a write: hand the rows written since over; the file
        ends if nothing was written in the interval or it has taken records long enough."""
        self._tick_at = None
        self._hand_over(end_file=not self._written
                        or time.monotonic() - self._file_since >= self._rotate_after)

    def _hand_over(self, end_file: bool = True) -> None:
        """Hand the rows written since the last hand-over to the thread to move into
        SQLite. With ``end_file`` the journal file ends with them: the next record goes
        to a new file, and the thread removes this one once its rows are in (at once if
        it holds none). Otherwise the next hand-over is an ingest interval away."""
        if self._tick_at is not None:
            self._tick_at.cancel()
            self._tick_at = None
        rows, self._written = self._written, []
        ended: Path | None = None
        if self._fd is not None:
            if end_file:
                fd, ended, self._fd, self._file = self._fd, self._file, None, None
                with contextlib.suppress(OSError):  # a close reports nothing we wrote
                    os.close(fd)
                if not self._file_used:
                    with contextlib.suppress(OSError):
                        if ended is not None:
                            ended.unlink()
                    ended = None
            else:
                self._tick_at = asyncio.get_running_loop().call_later(self._ingest_after,
                                                                      self._tick)
        if rows or ended is not None:
            self._handed.append(rows)
            self._submit((rows, ended))

    def _retry(self) -> None:
        self._retry_at = None
        if self._failing:
            self._submit(None)

    def _submit(self, batch: "tuple[list[Row], Path | None] | None") -> None:
        """Have the thread take ``batch`` (if any) and move everything it holds."""
        try:
            moving = asyncio.wrap_future(self._thread.submit(self._move, batch))
        except RuntimeError:  # the thread is shut down (closing): the file stays
            return
        self._moving.add(moving)
        moving.add_done_callback(self._moved_back)

    def _moved_back(self, moving: "asyncio.Future[int]") -> None:
        self._moving.discard(moving)
        if moving.cancelled():
            return
        exc = moving.exception()
        if exc is not None:
            if not self._failing:
                log.warning("moving the journal into SQLite failed, trying again: %s", exc)
            self._failing = True
            if self._retry_at is None and self._db is not None:
                self._retry_at = asyncio.get_running_loop().call_later(RETRY_S, self._retry)
            return
        if self._failing:
            log.warning("the journal is in SQLite again")
        self._failing = False
        moved = moving.result()
        while self._handed_moved < moved and self._handed:
            self._handed.popleft()
            self._handed_moved += 1

    def _unmoved(self, meeting: str) -> list[Row]:
        """This meeting's rows that SQLite may not hold yet, oldest first."""
        return [r for batch in (*self._handed, self._written) for r in batch
                if r[0] == meeting]

    async def _thread_write(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a write on the thread; no append is written until it is done."""
        self._thread_writes += 1
        try:
            self._hand_over()
            return await self._run(fn, *args)
        finally:
            self._thread_writes -= 1
            if not self._thread_writes and self._pending and self._flush_at is None:
                self._flush_at = asyncio.get_running_loop().call_soon(self._flush)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except (sqlite3.Error, OSError, ValueError, TypeError, OverflowError) as exc:
            raise StoreError(f"The event store failed: {exc}.") from exc

    # The methods below run on the store's own thread, but for ``_conn`` (the loop).

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self._path.with_name(self._path.name + "-lock"),
                       os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(lock)
            raise sqlite3.OperationalError(
                f"{self._path} is in use by another process") from exc
        self._lock_fd = lock
        side = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_S)
        side.execute("PRAGMA journal_mode=WAL")
        _configure(side)
        side.executescript(_SCHEMA)
        self._side = side
        self._file_no = self._recover()
        # The loop's connection, used only on the loop from now on, and only to read.
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_S)
        _configure(self._db)

    def _recover(self) -> int:
        """Move the journal files a stopped process left into SQLite (rows already there
        are skipped) and remove them; the highest file number seen."""
        highest = 0
        for number, file in sorted(_numbered(self._path.parent.glob(
                self._path.name + "-journal-*"))):
            highest = max(highest, number)
            rows, whole = read_journal(file.read_bytes())
            if not whole:
                log.warning("%s ends in a cut record; its whole records are kept", file)
            with _transaction(self._side_conn()) as db:
                db.executemany(_INSERT, rows)
            file.unlink()
        return highest

    def _move(self, batch: tuple[list[Row], Path | None] | None) -> int:
        if batch is not None:
            self._backlog.append(batch)
        self._drain()
        return self._moved

    def _drain(self) -> None:
        """Move every handed batch into SQLite, oldest first, one transaction each, and
        remove the file a batch ends (every row of it is in then); on a failure the rest
        stay for the next try."""
        while self._backlog:
            rows, ended = self._backlog[0]
            if rows:
                with _transaction(self._side_conn()) as db:
                    db.executemany(_INSERT, rows)
            if ended is not None:
                ended.unlink(missing_ok=True)
            self._backlog.popleft()
            self._moved += 1

    def _close(self) -> None:
        if self._db is not None:  # only when opening failed: the loop closes its own
            self._db.close()
            self._db = None
        if self._side is not None:
            self._side.close()  # the last connection: SQLite checkpoints the WAL away
            self._side = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.OperationalError("the store is closed")
        return self._db

    def _side_conn(self) -> sqlite3.Connection:
        if self._side is None:
            raise sqlite3.OperationalError("the store is closed")
        return self._side

    def _probe(self) -> None:
        probe = self._path.with_name(self._path.name + "-probe")
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                if os.write(fd, bytes(4096)) != 4096:
                    raise OSError(errno.ENOSPC, "the probe was cut short")
            finally:
                os.close(fd)
        finally:
            probe.unlink(missing_ok=True)
        self._drain()
        with _transaction(self._side_conn()) as db:
            db.execute("INSERT OR REPLACE INTO health VALUES (1, ?)", (time.time(),))

    def _select(self, meeting: str, after: int) -> list[tuple[Any, ...]]:
        return self._side_conn().execute(
            "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? AND seq > ? "
            "ORDER BY seq", (meeting, after)).fetchall()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._side_conn().execute(sql, args).fetchall()

    def _exec(self, sql: str, args: tuple[Any, ...]) -> None:
        self._side_conn().execute(sql, args)


def _batch_thread() -> None:
    """The store's thread as ``SCHED_BATCH``: the kernel does not let it preempt the loop
    when it wakes (a move every 20 ms, 0.1-0.5 ms of CPU each), so where both share a
    core it runs when the loop waits for its sockets, not in the middle of a chat's turn;
    under a saturated core it keeps its fair share (a nice value would starve it)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: the default policy
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def read_journal(data: bytes) -> tuple[list[Row], bool]:
    """The rows of a journal file's records, and whether it ends after a whole one."""
    rows: list[Row] = []
    at = 0
    while at + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, at)
        body = data[at + _HEADER.size:at + _HEADER.size + length]
        if len(body) != length or zlib.crc32(body) != crc:
            return rows, False
        try:
            rows += _decode_rows(body)
        except msgspec.DecodeError:
            return rows, False
        at += _HEADER.size + length
    return rows, at == len(data)


def _numbered(files: Iterator[Path]) -> Iterator[tuple[int, Path]]:
    for file in files:
        number = file.name.rpartition("-")[2]
        if number.isdigit():
            yield int(number), file


def _merged(rows: list[tuple[Any, ...]], unmoved: list[Row],
            wanted: Callable[[int], bool]) -> list[tuple[Any, ...]]:
    """SQLite's rows, then the rows it did not hold yet that follow them."""
    floor = rows[-1][0] if rows else -1
    return rows + [r[1:] for r in unmoved if r[1] > floor and wanted(r[1])]


def _events(rows: list[tuple[Any, ...]]) -> list[Event]:
    return [Event(seq, ts, actor, typ, _decode(data)) for seq, ts, actor, typ, data in rows]


def _configure(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed (erasure)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN … COMMIT; on any failure, the commit's too (a full disk), nothing stays open."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
