"""The embedded default: the log in SQLite, written by one thread.

Appends are group-committed: every append that arrives while a commit is
under way joins the next one, so a burst costs one transaction, and the
event loop never waits on the disk. No interval, no size cap: a commit starts
as soon as the one before it is done (or at once when none runs), which is
the floor for latency; the batch grows by itself with the load.

The hand-off is as short as it gets: ``append`` submits the batch to the
store's thread itself when no commit runs, and the thread, once the commit is
done, schedules one callback on the loop that answers every append of the
batch and starts the next commit. So an append waits for one commit plus two
crossings between threads (no flusher task to wake, no executor future to
copy into an asyncio one).
"""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from rooms import Event
from server.store.base import StoreError

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

Batch = list[tuple[str, list["Row"], "asyncio.Future[None]"]]
Row = tuple[str, int, int, str, str, bytes]
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(dict[str, Any]).decode


class SQLiteStore:
    def __init__(self, path: Path, on_commit: Callable[[float, int], None] | None = None) -> None:
        self._path = path
        self._on_commit = on_commit or (lambda seconds, count: None)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._pending: Batch = []
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Resolved when the commit in flight (if any) has been answered.
        self._inflight: asyncio.Future[None] | None = None
        self._last: dict[str, int] = {}  # meeting -> last durable seq (store thread only)

    async def __aenter__(self) -> "SQLiteStore":
        self._loop = asyncio.get_running_loop()
        await self._run(self._open)
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._inflight is not None:  # every commit started or pending is answered
            await asyncio.shield(self._inflight)
        await self._run(self._close)
        self._thread.shutdown(wait=True)

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if not events:
            return
        try:
            rows = [(meeting, e.seq, e.ts, e.actor, e.type, _encode(e.data)) for e in events]
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreError(f"An event could not be encoded: {exc}.") from exc
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((meeting, rows, done))
        if self._inflight is None:
            self._start(loop)
        await done

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
        await self._run(self._exec, "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                        (meeting, seq, blob))

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None:
        rows = await self._run(self._query, "SELECT seq, blob FROM snapshots WHERE meeting = ?",
                               (meeting,))
        return (rows[0][0], rows[0][1]) if rows else None

    async def rewrite(self, meeting: str, events: Sequence[Event]) -> None:
        """Replace a meeting's whole log (erasure, a deleted recording) and drop its
        snapshots; then no old byte stays in the WAL or in free pages."""
        rows = [(meeting, e.seq, e.ts, e.actor, e.type, _encode(e.data)) for e in events]
        await self._run(self._rewrite, meeting, rows)

    def _rewrite(self, meeting: str, rows: list[Row]) -> None:
        db = self._conn()
        with _transaction(db):
            db.execute("DELETE FROM events WHERE meeting = ?", (meeting,))
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("DELETE FROM snapshots WHERE meeting = ? OR substr(meeting, 1, ?) = ?",
                       (meeting, len(meeting) + 1, meeting + "#"))
        self._last[meeting] = rows[-1][1] if rows else 0
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def ping(self) -> None:
        """A real write, through the thread and the file the appends use."""
        await self._run(self._probe)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand what is pending to the store's thread as one commit (on the loop)."""
        batch, self._pending = self._pending, []
        self._inflight = loop.create_future()
        try:
            self._thread.submit(self._commit_on_thread, loop, batch)
        except RuntimeError as exc:  # the executor is shut down
            self._answer(batch, set(), StoreError(f"The event store failed: {exc}."), 0.0)

    def _commit_on_thread(self, loop: asyncio.AbstractEventLoop, batch: Batch) -> None:
        started = time.perf_counter()
        refused: set[int] = set()
        failure: StoreError | None = None
        try:
            refused = self._insert(batch)
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            failure = StoreError(f"The event store failed: {exc}.")
        except Exception as exc:  # noqa: BLE001 - the appends must hear of anything
            failure = StoreError(f"The event store failed: {exc!r}.")
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(self._answer, batch, refused, failure,
                                      time.perf_counter() - started)

    def _answer(self, batch: Batch, refused: set[int], failure: StoreError | None,
                seconds: float) -> None:
        """On the loop: answer every append of a finished commit, start the next one."""
        if failure is None:
            self._on_commit(seconds, len(batch))
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
        inflight, self._inflight = self._inflight, None
        if self._pending and self._loop is not None:
            self._start(self._loop)
        if inflight is not None and not inflight.done():
            inflight.set_result(None)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            raise StoreError(f"The event store failed: {exc}.") from exc

    # The methods below run on the store's own thread.

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed (erasure)
        db.executescript(_SCHEMA)
        self._db = db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.OperationalError("the store is closed")
        return self._db

    def _insert(self, batch: Batch) -> set[int]:
        """Write every append that continues its meeting's log; return the indices of
        those refused. A log never gets a gap: after a failed write, the appends
        behind it no longer continue the log, and are refused too."""
        db = self._conn()
        last = dict(self._last)
        rows: list[Row] = []
        refused: set[int] = set()
        for index, (meeting, appended, _) in enumerate(batch):
            if meeting not in last:
                found = db.execute("SELECT MAX(seq) FROM events WHERE meeting = ?",
                                   (meeting,)).fetchone()[0]
                last[meeting] = found or 0
            if not appended or appended[0][1] != last[meeting] + 1:
                refused.add(index)
                continue
            last[meeting] = appended[-1][1]
            rows += appended
        with _transaction(db):
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
        self._last = last
        return refused

    def _probe(self) -> None:
        db = self._conn()
        with _transaction(db):
            db.execute("INSERT OR REPLACE INTO health VALUES (1, ?)", (time.time(),))

    def _select(self, meeting: str, after: int) -> list[tuple[Any, ...]]:
        return self._conn().execute(
            "SELECT seq, ts, actor, type, data FROM events WHERE meeting = ? AND seq > ? "
            "ORDER BY seq", (meeting, after)).fetchall()

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, args).fetchall()

    def _exec(self, sql: str, args: tuple[Any, ...]) -> None:
        self._conn().execute(sql, args)


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
