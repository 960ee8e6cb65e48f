"""Who is online on the other processes, and what happens when one dies.

Each process has an id, a heartbeat key in Redis that expires ``HEARTBEAT_TTL_MS``
after its last beat, and a hash of the (meeting, participant) pairs it holds
connections for. Changes are published (pub/sub: at most once) and every process
re-reads the hashes every ``RESYNC_S`` seconds, so a lost message costs seconds,
not correctness. A process whose heartbeat expired is claimed by exactly one
survivor (``SREM`` answers 1 once), which removes its presence and gives each of
its participants the grace period, as a restart does.

``ClusterConnections`` answers "is this participant online" for the whole
deployment: remote participants appear with no local connection ids. The merged
view is kept up to date entry by entry, so one presence message costs the same in
a meeting of 5 or 500, and a resync walks each meeting once.
"""

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import msgspec

from server.connections import Connection, Connections, Phase
from server.store import StoreError
from server.store.redis_store import RedisStore

log = logging.getLogger("ledarstig.cluster.presence")
HEARTBEAT_S = 0.5
HEARTBEAT_TTL_MS = 2000
RESYNC_S = 5.0
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder().decode
_EMPTY: set[str] = set()
_NOBODY: dict[str, set[str]] = {}


def alive_key(prefix: str, proc: str) -> str:
    """The heartbeat key of a process: it exists while the process beats."""
    return f"{prefix}proc:{proc}"


class ClusterConnections(Connections):
    """Local connections, plus the participants other processes hold."""

    def __init__(self) -> None:
        super().__init__()
        self.remote: dict[str, dict[str, set[str]]] = {}  # meeting -> pid -> process ids
        # meeting -> pid -> local connection ids (the very set of ``by_meeting``), or
        # no ids for one held only elsewhere: what ``online_set`` answers, as it is.
        self._merged: dict[str, dict[str, set[str]]] = {}
        self.changed: Callable[[str, str, bool], None] = lambda meeting, pid, online: None

    def bind(self, conn: Connection, participant: str) -> None:
        first = not self.by_meeting.get(conn.meeting, {}).get(participant)
        super().bind(conn, participant)
        self._merged.setdefault(conn.meeting, {})[participant] = (
            self.by_meeting[conn.meeting][participant])
        if first:
            self.changed(conn.meeting, participant, True)

    def unbind(self, conn: Connection, to: Phase = Phase.AUTHENTICATED) -> None:
        pid = conn.participant
        held = pid is not None and conn.sid in self.by_meeting.get(conn.meeting, {}).get(pid, ())
        super().unbind(conn, to)
        if held and pid is not None and not self.by_meeting.get(conn.meeting, {}).get(pid):
            self._refresh(conn.meeting, pid)
            self.changed(conn.meeting, pid, False)

    def _refresh(self, meeting: str, pid: str) -> bool:
        """Bring ``pid``'s merged entry up to date; whether they are online anywhere."""
        local = self.by_meeting.get(meeting, {}).get(pid)
        merged = self._merged.setdefault(meeting, {})
        if local:
            merged[pid] = local
        elif self.remote.get(meeting, {}).get(pid):
            merged[pid] = _EMPTY
        else:
            merged.pop(pid, None)
            if not merged:
                del self._merged[meeting]
            return False
        return True

    def online_set(self, meeting: str) -> dict[str, set[str]]:
        return self._merged.get(meeting) or {}

    def online(self, meeting: str, participant: str) -> bool:
        return participant in self._merged.get(meeting, _NOBODY)

    def set_remote(self, proc: str, meeting: str, pid: str, online: bool) -> bool:
        """Record another process's presence; True if the participant's online state
        for the whole deployment changed."""
        before = pid in self._merged.get(meeting, _NOBODY)
        held = self.remote.setdefault(meeting, {})
        procs = held.setdefault(pid, set())
        (procs.add if online else procs.discard)(proc)
        if not procs:
            del held[pid]
            if not held:
                del self.remote[meeting]
        return before != self._refresh(meeting, pid)

    def replace_remote(self, fresh: dict[str, dict[str, set[str]]]
                       ) -> list[tuple[str, str, bool]]:
        """Every other process's presence, re-read (the resync): the participants
        whose online state for the deployment changed, and to what."""
        old, self.remote = self.remote, fresh
        changes = []
        for meeting in old.keys() | fresh.keys():
            # held elsewhere before and after: no change, whoever holds them
            for pid in old.get(meeting, _NOBODY).keys() ^ fresh.get(meeting, _NOBODY).keys():
                was = pid in self._merged.get(meeting, _NOBODY)
                if was != self._refresh(meeting, pid):
                    changes.append((meeting, pid, not was))
        return changes


class Presence:
    def __init__(self, store: RedisStore, conns: ClusterConnections,
                 on_change: Callable[[str, str, bool], Awaitable[None]],
                 on_dead: Callable[[str, list[tuple[str, str]]], Awaitable[None]]) -> None:
        self.store, self.redis, self.conns = store, store.redis, conns
        self.proc = secrets.token_hex(6)
        self._p = store.prefix
        self._on_change, self._on_dead = on_change, on_dead
        self._outbox: asyncio.Queue[tuple[str, str, bool]] = asyncio.Queue()
        conns.changed = lambda m, pid, online: self._outbox.put_nowait((m, pid, online))

    @property
    def channel(self) -> str:
        return f"{self._p}presence"

    def _alive(self, proc: str) -> str:
        return alive_key(self._p, proc)

    def _held(self, proc: str) -> str:
        return f"{self._p}online:{proc}"

    async def start(self) -> None:
        await self._beat()
        with contextlib.suppress(StoreError):
            await self._resync()

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._beating(), name="cluster-heartbeat"),
                 asyncio.create_task(self._publishing(), name="cluster-presence-out")]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def stop(self) -> None:
        """A clean stop (SIGTERM, a rolling upgrade): stop beating at once, so a survivor
        claims our participants within a beat and gives them the grace period, as if
        we had died; those who reconnect elsewhere in time are simply online there."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(0.5):
                await self.redis.delete(self._alive(self.proc))

    async def on_message(self, raw: bytes) -> None:
        proc, meeting, pid, online = _unpack(raw)
        if proc != self.proc:
            await self._remote(proc, meeting, pid, bool(online))

    async def _remote(self, proc: str, meeting: str, pid: str, online: bool) -> None:
        if self.conns.set_remote(proc, meeting, pid, online):
            await self._on_change(meeting, pid, online)

    async def _beat(self) -> None:
        async with asyncio.timeout(self.store.op_timeout_s):
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(self._alive(self.proc), 1, px=HEARTBEAT_TTL_MS)
            pipe.sadd(f"{self._p}procs", self.proc)
            await pipe.execute()

    async def _beating(self) -> None:
        since_resync = 0.0
        beating_since: float | None = time.monotonic()  # None: our last beat failed
        while True:
            await asyncio.sleep(HEARTBEAT_S)  # real time: heartbeats are between processes
            since_resync += HEARTBEAT_S
            try:
                await self._beat()
                beating_since = beating_since or time.monotonic()
                # After Redis was unreachable, every key may have expired meanwhile: give
                # the others a heartbeat's life to beat again before claiming any as dead.
                if time.monotonic() - beating_since >= HEARTBEAT_TTL_MS / 1000:
                    await self._reap()
                if since_resync >= RESYNC_S:
                    since_resync = 0.0
                    await self._resync()
            except Exception:  # Redis down: beat again later
                beating_since = None
                log.debug("heartbeat failed", exc_info=True)

    async def _publishing(self) -> None:
        while True:
            meeting, pid, online = await self._outbox.get()
            field = f"{meeting}\t{pid}"
            try:
                async with asyncio.timeout(self.store.op_timeout_s):
                    pipe = self.redis.pipeline(transaction=False)
                    if online:
                        pipe.hset(self._held(self.proc), field, 1)
                    else:
                        pipe.hdel(self._held(self.proc), field)
                    pipe.publish(self.channel, _pack([self.proc, meeting, pid, int(online)]))
                    await pipe.execute()
            except Exception:
                log.warning("presence of %s in %s not shared (the resync will)", pid, meeting)

    async def _resync(self) -> None:
        """Re-read every live process's presence (what pub/sub may have dropped), and
        rewrite our own (a survivor may have reaped us while Redis was unreachable)."""
        held = {f"{m}\t{pid}": 1 for m, online in self.conns.by_meeting.items()
                for pid, sids in online.items() if sids}
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self._held(self.proc))
        if held:
            pipe.hset(self._held(self.proc), mapping=held)
        pipe.sadd(f"{self._p}procs", self.proc)
        await self.store.call(pipe.execute())
        procs = [p.decode() for p in await self.store.call(self.redis.smembers(f"{self._p}procs"))]
        fresh: dict[str, dict[str, set[str]]] = {}
        for proc in procs:
            if proc == self.proc:
                continue
            for field in await self.store.call(self.redis.hkeys(self._held(proc))):
                meeting, pid = field.decode().split("\t", 1)
                fresh.setdefault(meeting, {}).setdefault(pid, set()).add(proc)
        for meeting, pid, now in self.conns.replace_remote(fresh):
            await self._on_change(meeting, pid, now)

    async def _reap(self) -> None:
        """Claim each process whose heartbeat expired; exactly one survivor gets it."""
        procs = [p.decode() for p in await self.store.call(self.redis.smembers(f"{self._p}procs"))]
        for proc in procs:
            if proc == self.proc or await self.store.call(self.redis.exists(self._alive(proc))):
                continue
            if not await self.store.call(self.redis.srem(f"{self._p}procs", proc)):
                continue  # another survivor claimed it
            held = await self.store.call(self.redis.hkeys(self._held(proc)))
            await self.store.call(self.redis.delete(self._held(proc)))
            pairs = [tuple(f.decode().split("\t", 1)) for f in held]
            log.warning("process %s stopped beating; %d participants get their grace",
                        proc, len(pairs))
            pipe = self.redis.pipeline(transaction=False)
            for meeting, pid in pairs:
                pipe.publish(self.channel, _pack([proc, meeting, pid, 0]))
            await self.store.call(pipe.execute())
            for meeting, pid in pairs:
                await self._remote(proc, meeting, pid, False)
            await self._on_dead(proc, pairs)  # type: ignore[arg-type]

