"""The embedded default: the log in SQLite, committed on the event loop's own thread.

Appends are group-committed at the end of the loop turn: every append made while the
loop runs one round of ready callbacks joins one transaction, committed by a callback
scheduled with ``call_soon`` by the first of them. With WAL and ``synchronous=NORMAL`` a
commit is a ``write()`` of the new pages to the WAL file, without ``fsync``: tens of
µs, less than handing the batch to another thread and back. An append returns only
after its commit returned, so nothing is delivered that a killed process could lose.

Why not a writer thread (what this was until issue 17): the thread and the loop share
the GIL. A commit on the thread takes and drops the GIL several times (every
statement releases it around SQLite's work); each time it wants it back while the loop
runs Python, it waits until the loop blocks in ``select`` or the interpreter's switch
interval (5 ms) forces a switch. Under steady load that put a tail of several ms on
the appends (p99 3.5–5.6 ms in bench/bench_store.py, far more on a busy core) and on
every chat behind them (docs/benchmarks.md, "Issue 17, item 3").

What could take long stays off the loop, on the store's thread with a connection of its
own: reads (the WAL lets them run beside the loop's commits), snapshots, rewrites, the
health probe, and checkpoints. One read is on the loop: a meeting's last seq, the first
time it is appended to after start-up or a rewrite (an index lookup). The loop's
connection never checkpoints (``wal_autocheckpoint=0``); every ``checkpoint_every``
commits the thread runs a PASSIVE checkpoint, which copies the WAL into the database and
fsyncs while the loop goes on committing. Writes on the thread take SQLite's write lock,
so while one runs the loop commits nothing: appends made meanwhile wait and are
committed as soon as it is done (so the loop never blocks on the lock). Under steady
load a passive checkpoint never finds the WAL wholly copied (the loop commits while it
runs), so SQLite never starts the WAL over and it grows; past ``wal_limit_pages`` one
RESTART checkpoint runs as such a write: it copies the few pages the passive one left
and has the next commit write the WAL from its start again (3–7 ms in
``broadcast_under_load``, during which chats wait). It does not shrink the file, which
stays at about that size until the store closes: a TRUNCATE did, and freeing ~32 MB
took 13–19 ms more, every ~5 s under that load.
"""

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from rooms import Event
from server.store.base import StoreError

log = logging.getLogger("ledarstig.store")

#: Commits between two checkpoints; a commit of a few events adds 1–3 pages to the WAL,
#: so ~1–3 MB of WAL, as SQLite's own default (1,000 pages).
CHECKPOINT_EVERY = 300
#: Past this many pages in the WAL after a checkpoint, one that starts it over (~32 MB).
WAL_LIMIT_PAGES = 8000
#: How long the loop's connection waits for SQLite's write lock (only another process
#: writing the file could hold it: the store's own writes never overlap its commits).
WRITER_BUSY_S = 0.1

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


class _Durable(asyncio.Future):  # type: ignore[type-arg]
    """An append's future, which no waiter's cancellation cancels (``begin_append``)."""

    on_answer: Callable[[], None] | None = None

    def cancel(self, msg: Any = None) -> bool:
        return False


class SQLiteStore:
    def __init__(self, path: Path, on_commit: Callable[[float, int], None] | None = None,
                 checkpoint_every: int = CHECKPOINT_EVERY,
                 wal_limit_pages: int = WAL_LIMIT_PAGES) -> None:
        self._path = path
        self._on_commit = on_commit or (lambda seconds, count: None)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None  # the loop's: appends
        self._side: sqlite3.Connection | None = None  # the thread's: everything else
        self._pending: Batch = []
        self._flush_at: asyncio.Handle | None = None  # the commit scheduled for the turn's end
        self._thread_writes = 0  # writes under way on the thread: no commit meanwhile
        self._last: dict[str, int] = {}  # meeting -> last durable seq
        self._checkpoint_every = checkpoint_every
        self._wal_limit = wal_limit_pages
        self._commits = 0  # since the last checkpoint
        self._checkpoint: asyncio.Task[None] | None = None
        #: The last few checkpoints: (kind, the thread that ran it, seconds).
        self.checkpoints: list[tuple[str, str, float]] = []

    async def __aenter__(self) -> "SQLiteStore":
        await self._run(self._open)
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)
        while self._pending or self._thread_writes:  # every append is answered
            if self._flush_at is None and not self._thread_writes:
                self._flush()
            await asyncio.sleep(0.005 if self._thread_writes else 0)
        db, self._db = self._db, None
        if db is not None:
            db.close()
        await self._run(self._close)
        self._thread.shutdown(wait=True)

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        await asyncio.shield(self.begin_append(meeting, events))  # a caller may give up

    def begin_append(self, meeting: str, events: Sequence[Event],
                     on_answer: Callable[[], None] | None = None) -> "asyncio.Future[None]":
        """``append`` begun: its future is done once the batch is durable (or refused),
        at the commit that ends this turn of the loop; whoever holds it may wait on it
        or, like ``LiveMeeting.publish``, look whether it is done. It cannot be
        cancelled: a waiter that is cancelled gets its ``CancelledError`` when the
        commit answers (at the end of the turn), and the future keeps what the store
        answered, as ``asyncio.shield`` would have it but without the turn of the loop
        its relay costs before the waiter resumes. ``on_answer`` is called in the
        commit's own callback, once every append of the commit is answered (before any
        waiter resumes)."""
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
        rows = await self._run(self._select, meeting, after)
        return [Event(seq, ts, actor, typ, _decode(data)) for seq, ts, actor, typ, data in rows]

    async def read_range(self, meeting: str, after: int, upto: int,
                         limit: int = 5000) -> list[Event]:
        """Events with ``after < seq <= upto``, at most ``limit`` (review, exports)."""
        rows = await self._run(self._query,
                               "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? "
                               "AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                               (meeting, after, upto, limit))
        return [Event(seq, ts, actor, typ, _decode(data)) for seq, ts, actor, typ, data in rows]

    async def read_seqs(self, meeting: str, seqs: Sequence[int]) -> list[Event]:
        """The events with these ``seq`` (at most a few hundred), in order."""
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        rows = await self._run(self._query,
                               "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? "
                               f"AND seq IN ({marks}) ORDER BY seq", (meeting, *seqs))
        return [Event(seq, ts, actor, typ, _decode(data)) for seq, ts, actor, typ, data in rows]

    async def meetings(self) -> list[str]:
        rows = await self._run(self._query, "SELECT DISTINCT meeting FROM events ORDER BY meeting")
        return [r[0] for r in rows]

    async def save_snapshot(self, meeting: str, seq: int, blob: bytes) -> None:
        await self._thread_write(self._exec,
                                 "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                                 (meeting, seq, blob))

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None:
        rows = await self._run(self._query, "SELECT seq, blob FROM snapshots WHERE meeting = ?",
                               (meeting,))
        return (rows[0][0], rows[0][1]) if rows else None

    async def rewrite(self, meeting: str, events: Sequence[Event]) -> None:
        """Replace a meeting's whole log (erasure, a deleted recording) and drop its
        snapshots; then no old byte stays in the WAL or in free pages."""
        rows = [(meeting, e.seq, e.ts, e.actor, e.type, _encode(e.data)) for e in events]
        try:
            await self._thread_write(self._rewrite, meeting, rows)
        finally:
            self._last.pop(meeting, None)  # the next append reads where the log ends

    def _rewrite(self, meeting: str, rows: list[Row]) -> None:
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
        """A real write, through the thread and the file the appends use."""
        await self._thread_write(self._probe)

    # -- on the loop -----------------------------------------------------------------

    def _flush(self) -> None:
        """Commit every pending append as one transaction and answer them (on the loop,
        at the end of the turn in which the first of them was made)."""
        self._flush_at = None
        if self._thread_writes or not self._pending:
            return  # a write on the thread holds the lock: it flushes when done
        batch, self._pending = self._pending, []
        started = time.perf_counter()
        refused: set[int] = set()
        failure: StoreError | None = None
        try:
            refused = self._insert(batch)
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            failure = StoreError(f"The event store failed: {exc}.")
        except Exception as exc:  # noqa: BLE001 - the appends must hear of anything
            failure = StoreError(f"The event store failed: {exc!r}.")
        seconds = time.perf_counter() - started
        if failure is None:
            self._on_commit(seconds, len(batch))
            self._commits += 1
            if self._commits >= self._checkpoint_every and self._checkpoint is None:
                self._commits = 0
                self._checkpoint = asyncio.get_running_loop().create_task(
                    self._checkpoint_wal())
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

    async def _thread_write(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a write on the thread; the loop commits nothing until it is done."""
        self._thread_writes += 1
        try:
            return await self._run(fn, *args)
        finally:
            self._thread_writes -= 1
            if not self._thread_writes and self._pending and self._flush_at is None:
                self._flush_at = asyncio.get_running_loop().call_soon(self._flush)

    async def _checkpoint_wal(self) -> None:
        try:
            pages = await self._run(self._checkpoint_passive)
            if pages > self._wal_limit:
                await self._thread_write(self._checkpoint_restart)
        except StoreError as exc:  # the next commits try again
            log.warning("WAL checkpoint failed: %s", exc)
        finally:
            self._checkpoint = None

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            raise StoreError(f"The event store failed: {exc}.") from exc

    # The methods below run on the store's own thread, but for ``_insert`` (the loop).

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        side = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        side.execute("PRAGMA journal_mode=WAL")
        _configure(side)
        side.executescript(_SCHEMA)
        self._side = side
        # The loop's connection, used only on the loop from now on.
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                             timeout=WRITER_BUSY_S)
        _configure(db)
        self._db = db

    def _close(self) -> None:
        if self._side is not None:
            self._side.close()  # the last connection: SQLite checkpoints the WAL away
            self._side = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.OperationalError("the store is closed")
        return self._db

    def _side_conn(self) -> sqlite3.Connection:
        if self._side is None:
            raise sqlite3.OperationalError("the store is closed")
        return self._side

    def _checkpoint_passive(self) -> int:
        """Copy what the WAL holds into the database without waiting for anyone; the
        size of the WAL in pages. (Once a checkpoint copied every page, the next commit
        starts the WAL over from its beginning; a WAL that keeps growing never had
        such a moment.)"""
        started = time.perf_counter()
        _, pages, _ = self._side_conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._checkpointed("passive", started)
        return max(0, int(pages))

    def _checkpoint_restart(self) -> None:
        started = time.perf_counter()
        self._side_conn().execute("PRAGMA wal_checkpoint(RESTART)")
        self._checkpointed("restart", started)

    def _checkpointed(self, kind: str, started: float) -> None:
        self.checkpoints = [*self.checkpoints[-9:], (kind, threading.current_thread().name,
                                                     time.perf_counter() - started)]

    def _insert(self, batch: Batch) -> set[int]:
        """Write every append that continues its meeting's log; return the indices of
        those refused. A log never gets a gap: after a failed write, the appends
        behind it no longer continue the log, and are refused too."""
        db = self._conn()
        last: dict[str, int] = {}  # this batch's meetings (not a copy of every one known)
        rows: list[Row] = []
        refused: set[int] = set()
        for index, (meeting, appended, _) in enumerate(batch):
            if meeting not in last:
                held = self._last.get(meeting)
                if held is None:
                    held = db.execute("SELECT MAX(seq) FROM events WHERE meeting = ?",
                                      (meeting,)).fetchone()[0] or 0
                last[meeting] = held
            if not appended or appended[0][1] != last[meeting] + 1:
                refused.add(index)
                continue
            last[meeting] = appended[-1][1]
            rows += appended
        if len(rows) == 1:  # one event (a chat): its own transaction, two statements fewer
            db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows[0])
        elif rows:
            with _transaction(db):
                db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
        self._last.update(last)
        return refused

    def _probe(self) -> None:
        db = self._side_conn()
        with _transaction(db):
            db.execute("INSERT OR REPLACE INTO health VALUES (1, ?)", (time.time(),))

    def _select(self, meeting: str, after: int) -> list[tuple[Any, ...]]:
        return self._side_conn().execute(
            "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? AND seq > ? "
            "ORDER BY seq", (meeting, after)).fetchall()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._side_conn().execute(sql, args).fetchall()

    def _exec(self, sql: str, args: tuple[Any, ...]) -> None:
        self._side_conn().execute(sql, args)


def _configure(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed (erasure)
    db.execute("PRAGMA wal_autocheckpoint=0")  # the thread checkpoints, never a commit


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN … COMMIT; on any failure, the commit's too (a full disk), nothing stays open."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
