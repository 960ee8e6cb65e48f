"""The log in Redis, shared by every process of a deployment (``--redis-url``).

Each log (a meeting, a programme, the organisers) is a Redis stream whose entry
ids are the events' ``seq`` (``<seq>-0``), so reading after a seq, a range and
tailing (``XREAD BLOCK``) are all stream commands. An append is one Lua script:
it checks that the batch continues the log (the expected ``seq``) and adds it,
atomically, so appends from many processes get one order per log and none can
overwrite another's; the loser gets ``SeqConflict`` with the log's last seq,
reads what it missed and decides again (``server.hub``).

Snapshots live in one hash per meeting (its board snapshots too, ``m#board#r``),
each guarded so an older snapshot never replaces a newer one.

redis-py 8's default pool raises ``MaxConnectionsError`` once 100 commands are in
flight instead of waiting; we use a ``BlockingConnectionPool`` of an explicit size
whose wait is bounded, one immediate retry, and a deadline on every command: with
Redis down a command fails with ``store_unavailable`` within ``op_timeout_s``.

A Redis that comes back **without the deployment's data** (restarted without
persistence, flushed, or another server at the same address) must not be written
to as if it were the same log: every log would restart at seq 1 under meetings
the processes still hold. The first process claims a random ``epoch`` key; each
remembers it and checks it before the first command after any failure and at
every store check (``check``). Missing or changed: every command fails with
``store_unavailable`` (``StoreLost``, logged once), ``/healthz`` answers 503,
until Redis holds the data again (restored from its AOF) or the processes restart.
"""

import asyncio
import contextlib
import inspect
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from rooms import Event
from server.store.base import SeqConflict, StoreError

log = logging.getLogger("ledarstig.store")
_encode = msgspec.msgpack.Encoder().encode
_decode_entry = msgspec.msgpack.Decoder(tuple[int, str, str, dict[str, Any]]).decode
PAGE = 5000

# KEYS: stream, set of logs, stream of created logs. ARGV: log key, first seq, payloads.
_APPEND = """
local last = 0
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 then last = tonumber(string.match(top[1][1], '^(%d+)')) end
local first = tonumber(ARGV[2])
if first ~= last + 1 then return {0, last} end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], tostring(first + i - 3) .. '-0', 'e', ARGV[i])
end
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'k', ARGV[1])
end
return {1, first + #ARGV - 3}
"""

# KEYS: snapshot hash. ARGV: key, seq, blob. Never replaces a newer snapshot.
_SNAPSHOT = """
local cur = tonumber(redis.call('HGET', KEYS[1], 's:' .. ARGV[1]) or '-1')
if cur > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[2], 'b:' .. ARGV[1], ARGV[3])
return 1
"""


def make_pool(url: str, max_connections: int, op_timeout_s: float,
              socket_timeout: float | None = None) -> aioredis.BlockingConnectionPool:
    """A pool sized on purpose: waits (bounded) for a free connection, retries once at
    most, and gives up on a dead server within ``op_timeout_s``."""
    return aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=op_timeout_s,
        socket_timeout=socket_timeout if socket_timeout is not None else op_timeout_s,
        # One immediate retry, on a new connection: after Redis restarts, every pooled
        # connection is dead and fails once. A retried append is safe (the script
        # refuses a batch already in the log), and the deadline still holds.
        socket_connect_timeout=op_timeout_s, retry=Retry(NoBackoff(), 1),
        health_check_interval=0)


class StoreLost(StoreError):
    """Redis answers but no longer holds this deployment's data (``epoch``)."""


class RedisStore:
    def __init__(self, url: str, prefix: str = "ls:", max_connections: int = 64,
                 op_timeout_s: float = 0.8, startup_timeout_s: float | None = None) -> None:
        self.url, self.prefix = url, prefix
        # A longer deadline while the process starts (recovery reads whole logs, and a
        # loaded machine must not make start-up fail), the short one once it serves.
        self.op_timeout_s = startup_timeout_s or op_timeout_s
        self._serving_timeout_s = op_timeout_s
        self.max_connections = max_connections
        self._pool = make_pool(url, max_connections, self.op_timeout_s, socket_timeout=5.0)
        self.redis = aioredis.Redis(connection_pool=self._pool)
        self._append = self.redis.register_script(_APPEND)
        self._snapshot = self.redis.register_script(_SNAPSHOT)
        self._queued: dict[str, list[tuple[int, list[bytes], asyncio.Future[None]]]] = {}
        self._writing: set[str] = set()
        self._writers: set[asyncio.Task[None]] = set()
        # Tailing and subscriptions hold connections (the log tail, the relay and the
        # video server's feeds): their own pool, with a longer socket timeout.
        self._tail_pool = make_pool(url, 8, op_timeout_s, socket_timeout=5.0)
        self._tail_redis = aioredis.Redis(connection_pool=self._tail_pool)
        self.epoch: bytes | None = None  # the deployment's data, as first found (``_verify``)
        self._verify_first = True  # before the next command: at start and after a failure
        self._verifying: asyncio.Task[None] | None = None  # the one check commands wait on
        self.lost = False
        self.failed_at = float("-inf")  # time.monotonic() of a failure not verified away since

    def serving(self) -> None:
        """Start-up is over: commands fail with store_unavailable within the deadline."""
        self.op_timeout_s = self._serving_timeout_s

    async def __aenter__(self) -> "RedisStore":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._verifying is not None:
            self._verifying.cancel()
        for close in (self.redis.aclose, self._pool.disconnect, self._tail_redis.aclose,
                      self._tail_pool.disconnect):
            with contextlib.suppress(Exception):  # one failing must not keep the rest open
                await close()

    # -- keys -----------------------------------------------------------------

    def log_key(self, key: str) -> str:
        return f"{self.prefix}log:{key}"

    @property
    def logs_key(self) -> str:
        return f"{self.prefix}logs"

    @property
    def created_key(self) -> str:
        return f"{self.prefix}created"

    def _snap_key(self, key: str) -> str:
        return f"{self.prefix}snap:{key.split('#', 1)[0]}"

    # -- the LogStore port ----------------------------------------------------

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        """Appends to one log go to Redis one script call at a time, in call order
        (separate pool connections could reorder them), and those that queue up while
        one is under way go together in the next call: group commit, per log."""
        if not events:
            return
        try:
            payloads = [_encode((e.ts, e.actor, e.type, e.data)) for e in events]
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreError(f"An event could not be encoded: {exc}.") from exc
        for before, after in zip(events, events[1:], strict=False):
            if after.seq != before.seq + 1:
                raise StoreError(f"An append to {meeting} has a gap; refused.")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(meeting, []).append((events[0].seq, payloads, done))
        if meeting not in self._writing:
            self._writing.add(meeting)
            task = asyncio.create_task(self._write(meeting), name=f"redis-append:{meeting}")
            self._writers.add(task)
            task.add_done_callback(self._writers.discard)
        await done

    async def _write(self, meeting: str) -> None:
        try:
            while queued := self._queued.pop(meeting, None):
                down: StoreError | None = None  # Redis failed: what waits fails with it
                for run in _runs(queued):
                    if down is not None:
                        _fail(run, down)
                        continue
                    first = run[0][0]
                    payloads = [p for _, batch, _ in run for p in batch]
                    try:
                        ok, last = await self.call(self._append(
                            keys=[self.log_key(meeting), self.logs_key, self.created_key],
                            args=[meeting, first, *payloads]))
                        if not ok and int(last) < first - 1:
                            self._verify_first = True  # a log went back: is it the same data?
                        failure: StoreError | None = None if ok else SeqConflict(
                            int(last), f"An append to {meeting} does not continue its log "
                                       f"(it is at {last}); refused.")
                    except StoreError as exc:
                        failure = exc
                    except Exception as exc:  # the writer must answer every caller
                        failure = StoreError(f"The event store failed: {exc!r}.")
                    for _, _, done in run:
                        if done.done():
                            continue
                        if failure is None:
                            done.set_result(None)
                        else:
                            done.set_exception(failure)
                    if failure is not None and not isinstance(failure, SeqConflict):
                        down = failure
                if down is not None:
                    # Queued during the failed call, they continue a batch that did not
                    # land: fail them now rather than each after another deadline.
                    _fail(self._queued.pop(meeting, []), down)
        finally:
            self._writing.discard(meeting)

    async def read(self, meeting: str, after: int = 0) -> list[Event]:
        return await self.read_range(meeting, after, 2**53, limit=2**53)

    async def read_range(self, meeting: str, after: int, upto: int,
                         limit: int = 5000) -> list[Event]:
        out: list[Event] = []
        key = self.log_key(meeting)
        start = after + 1
        while start <= upto and len(out) < limit:
            count = min(PAGE, limit - len(out))
            rows = await self.call(self.redis.xrange(key, f"{start}-0", f"{upto}-0",
                                                      count=count))
            out += [_event(entry_id, fields) for entry_id, fields in rows]
            if len(rows) < count:
                break
            start = out[-1].seq + 1
        return out

    async def read_seqs(self, meeting: str, seqs: Sequence[int]) -> list[Event]:
        if not seqs:
            return []
        key = self.log_key(meeting)
        pipe = self.redis.pipeline(transaction=False)
        for s in sorted(set(seqs)):
            pipe.xrange(key, f"{s}-0", f"{s}-0")
        found = await self.call(pipe.execute())
        return [_event(*rows[0]) for rows in found if rows]

    async def meetings(self) -> list[str]:
        members = await self.call(self.redis.smembers(self.logs_key))
        return sorted(m.decode() for m in members)

    async def save_snapshot(self, meeting: str, seq: int, blob: bytes) -> None:
        await self.call(self._snapshot(keys=[self._snap_key(meeting)],
                                        args=[meeting, seq, blob]))

    async def latest_snapshot(self, meeting: str) -> tuple[int, bytes] | None:
        seq, blob = await self.call(self.redis.hmget(self._snap_key(meeting),
                                                      [f"s:{meeting}", f"b:{meeting}"]))
        if seq is None or blob is None:
            return None
        return int(seq), bytes(blob)

    async def rewrite(self, meeting: str, events: Sequence[Event]) -> None:
        """Replace a meeting's whole log (erasure) and drop its snapshots. Redis keeps
        the old bytes in its append-only file until ``BGREWRITEAOF`` (docs/deploy.md),
        which we ask for here. Every process is told through the stream of new logs (an
        entry ``r``, in the same transaction), which each reads from its own position: a
        notice cannot be lost as a pub/sub message can, so none keeps erased events in
        memory."""
        payloads = [_encode((e.ts, e.actor, e.type, e.data)) for e in events]
        key = self.log_key(meeting)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(key, self._snap_key(meeting))
        for event, payload in zip(events, payloads, strict=True):
            pipe.xadd(key, {"e": payload}, id=f"{event.seq}-0")
        if events:
            pipe.sadd(self.logs_key, meeting)
        else:
            pipe.srem(self.logs_key, meeting)
        pipe.xadd(self.created_key, {"r": meeting}, maxlen=10000, approximate=True)
        await self.call(pipe.execute())
        with contextlib.suppress(StoreError):
            await self.call(self.redis.bgrewriteaof())

    async def announce(self, meeting: str) -> None:
        """A notice in the stream of new logs, as after a rewrite, without rewriting:
        every process re-reads the meeting if it holds it, or learns its cohort."""
        await self.call(self.redis.xadd(self.created_key, {"r": meeting}, maxlen=10000,
                                        approximate=True))

    async def wake(self, key: str, meeting: str) -> None:
        """A notice in ``key`` (a stream a tail reads with a string position), so that
        the tail blocked on it returns at once."""
        await self.call(self.redis.xadd(key, {"r": meeting}, maxlen=100, approximate=True))

    async def ping(self) -> None:
        await self.call(self.redis.set(f"{self.prefix}health", str(time.time())))

    # -- added for the cluster ------------------------------------------------

    async def tail(self, positions: dict[str, Any], block_ms: int,
                   count: int = 1000) -> list[tuple[str, list[Event]]]:
        """Events after each log's position, waiting up to ``block_ms`` for any.
        ``positions`` maps a log key to the last seq held; ``created_key`` (the stream
        of new logs, ``created``, and of rewritten ones, ``rewritten``) may be given with
        its last stream id as a string position, and so may any other stream of notices
        (a string position: the key as it is; the cluster's wake-up stream)."""
        streams: dict[str, str] = {}
        for key, pos in positions.items():
            streams[key if isinstance(pos, str) else self.log_key(key)] = (
                pos if isinstance(pos, str) else f"{pos}-0")
        try:
            async with asyncio.timeout(block_ms / 1000 + self.op_timeout_s + 1):
                found = await self._tail_redis.xread(streams, count=count, block=block_ms)
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreError(f"The event store is unavailable: {exc!r}.") from exc
        out: list[tuple[str, list[Event]]] = []
        plen = len(self.prefix) + 4  # "log:"
        for stream, rows in found or []:
            name = stream.decode()
            if isinstance(positions.get(name), str):  # a notice stream (created, wake)
                out.append((name, [_notice(rid, fields) for rid, fields in rows]))
            else:
                out.append((name[plen:], [_event(rid, fields) for rid, fields in rows]))
        return out

    def connections_opened(self) -> int:
        """How many connections the command pool has opened: the peak of commands in
        flight at once, bounded by ``max_connections`` (a pool never closes one)."""
        pool = self._pool
        return len(pool._available_connections) + len(pool._in_use_connections)

    async def lease(self, name: str, seconds: float) -> bool:
        """Take the lease ``name`` for ``seconds`` unless another process holds it: a
        task the deployment runs once per period (the retention sweep)."""
        return bool(await self.call(self.redis.set(
            f"{self.prefix}lease:{name}", 1, nx=True, px=max(1, int(seconds * 1000)))))

    async def listen(self, handlers: Mapping[str, Callable[[bytes], Awaitable[None]]],
                     subscribed: Callable[[], Awaitable[None]] | None = None) -> None:
        """Subscribe to the channels of ``handlers`` and give each message's data to its
        channel's handler, for good. A handler that fails is logged, and the
        subscription kept (every channel's messages would be lost while it is made
        again). A lost subscription (Redis down) is made again after 0.5 s, then
        ``subscribed`` runs (to read what was published meanwhile: pub/sub is at most
        once)."""
        while True:
            pubsub = self._tail_redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*handlers)
                if subscribed is not None:
                    await subscribed()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    channel = message["channel"].decode()
                    try:
                        await handlers[channel](message["data"])
                    except Exception:
                        log.exception("a message on %s could not be handled", channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.debug("subscription to %s lost; subscribing again", ", ".join(handlers),
                          exc_info=True)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def created_position(self) -> str:
        top = await self.call(self.redis.xrevrange(self.created_key, count=1))
        return top[0][0].decode() if top else "0-0"

    async def call(self, awaitable: Any) -> Any:
        try:
            async with asyncio.timeout(self.op_timeout_s):
                if self._verify_first:
                    try:
                        await self._verified()
                    except BaseException:
                        if inspect.iscoroutine(awaitable):
                            awaitable.close()  # never sent: Redis is down or lost its data
                        raise
                return await awaitable
        except (RedisError, OSError, TimeoutError) as exc:
            self._verify_first, self.failed_at = True, time.monotonic()
            raise StoreError(f"The event store is unavailable: {exc!r}.") from exc

    async def check(self) -> None:
        """Raise ``StoreError`` unless Redis answers and still holds the deployment's
        data (the store check, every ``STORE_CHECK_S``)."""
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self._verified()
        except (RedisError, OSError, TimeoutError) as exc:
            self._verify_first, self.failed_at = True, time.monotonic()
            raise StoreError(f"The event store is unavailable: {exc!r}.") from exc

    async def _verified(self) -> None:
        """One check at a time, however many commands wait for it: a burst of commands at
        start or after a failure (a join storm: hundreds) would otherwise each send their
        own two, ahead of their work, and hold the pool's connections for it."""
        task = self._verifying
        if task is None or task.done():
            task = self._verifying = asyncio.ensure_future(self._verify())
            task.add_done_callback(_retrieved)
        # A caller's deadline ends its wait, not the check: one that outlives a hang
        # (bounded by the sockets' timeouts) answers the commands waiting once it ends.
        await asyncio.shield(task)

    async def _verify(self) -> None:
        key = f"{self.prefix}epoch"
        if self.epoch is None:  # the first command: claim the epoch, or learn it
            await self.redis.set(key, secrets.token_hex(8), nx=True)
        found = await self.redis.get(key)
        if self.epoch is None:
            self.epoch = found
        if found is None or found != self.epoch:
            if not self.lost:
                log.error("Redis no longer holds this deployment's data (its key %s is %s): "
                          "it restarted without persistence, was flushed, or is another "
                          "server. Every command is refused; restore Redis from its "
                          "append-only file, or restart every process to begin anew "
                          "(docs/deploy.md).", key, "gone" if found is None else "changed")
            self.lost = self._verify_first = True  # every command checks again
            raise StoreLost("Redis no longer holds this deployment's data; commands are "
                            "refused until it is restored or the processes restart.")
        if self.lost:
            log.warning("Redis holds this deployment's data again")
        self.lost = False
        self._verify_first, self.failed_at = False, float("-inf")


def _retrieved(task: "asyncio.Task[None]") -> None:
    """A shared check's failure is each waiter's to raise, and none may be left."""
    if not task.cancelled():
        task.exception()


def _runs(queued: list[tuple[int, list[bytes], "asyncio.Future[None]"]]
          ) -> list[list[tuple[int, list[bytes], "asyncio.Future[None]"]]]:
    """Queued appends split where one does not continue the one before it."""
    runs: list[list[tuple[int, list[bytes], asyncio.Future[None]]]] = []
    for item in queued:
        if runs and runs[-1][-1][0] + len(runs[-1][-1][1]) == item[0]:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _fail(queued: list[tuple[int, list[bytes], "asyncio.Future[None]"]],
          failure: StoreError) -> None:
    for _, _, done in queued:
        if not done.done():
            done.set_exception(failure)


def _seq(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0])


def _event(entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    ts, actor, typ, data = _decode_entry(fields[b"e"])
    return Event(_seq(entry_id), ts, actor, typ, data)


def _notice(rid: bytes, fields: dict[bytes, bytes]) -> Event:
    """An entry of the stream of new and rewritten logs (its id is the position)."""
    if b"r" in fields:
        return Event(0, 0, rid.decode(), "rewritten", {"key": fields[b"r"].decode()})
    return Event(0, 0, rid.decode(), "created", {"key": fields[b"k"].decode()})
