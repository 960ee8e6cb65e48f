"""A second tab on another process replaces the first, as it does on one process.

On one process the gateway replaces a participant's older connections when a new one
joins (``session.replaced``, then closed). Across processes each (meeting,
participant) has an owner in Redis: the process that last took its first local
connection. Taking it is one script that sets the owner and, if another process
owned it, publishes a ``replace`` notice; every process that hears it reads the
owner and, unless it is the owner itself, replaces its own connections of that
participant exactly as the gateway does for a second tab here. The owner is read,
not carried in the notice, so of two tabs joining at once on two processes the later
claim wins on both.

Notices are pub/sub (at most once): one lost leaves two tabs open until one of them
reconnects, never a participant without a connection.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec

from server.connections import Connections
from server.store import StoreError
from server.store.redis_store import RedisStore

log = logging.getLogger("ledarstig.cluster.tabs")
OWNER_TTL_MS = 24 * 3600 * 1000
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[str, str]).decode

# KEYS: owner key, replace channel. ARGV: this process, ttl ms, notice.
_CLAIM = """
local old = redis.call('SET', KEYS[1], ARGV[1], 'GET', 'PX', ARGV[2])
if old and old ~= ARGV[1] then redis.call('PUBLISH', KEYS[2], ARGV[3]) end
return old
"""


class Tabs:
    def __init__(self, store: RedisStore, conns: Connections, proc: str,
                 replace: Callable[[str], Awaitable[None]]) -> None:
        self.store, self.conns, self.proc = store, conns, proc
        self._replace = replace
        self._claim = store.redis.register_script(_CLAIM)
        self.channel = f"{store.prefix}replace"
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._pending: dict[tuple[str, str], int] = {}

    def _owner(self, meeting: str, pid: str) -> str:
        return f"{self.store.prefix}owner:{meeting}:{pid}"

    def claim(self, meeting: str, pid: str) -> None:
        """This process took its first connection of ``pid`` (``ClusterConnections``)."""
        key = (meeting, pid)
        self._pending[key] = self._pending.get(key, 0) + 1
        self._queue.put_nowait(key)

    async def run(self) -> None:
        while True:
            meeting, pid = await self._queue.get()
            try:
                await self.store.call(self._claim(
                    keys=[self._owner(meeting, pid), self.channel],
                    args=[self.proc, OWNER_TTL_MS, _pack((meeting, pid))]))
            except StoreError:
                log.warning("could not claim %s in %s; a tab elsewhere stays open", pid,
                            meeting)
            finally:
                left = self._pending.get((meeting, pid), 1) - 1
                if left > 0:
                    self._pending[(meeting, pid)] = left
                else:
                    self._pending.pop((meeting, pid), None)

    async def on_message(self, raw: bytes) -> None:
        """Another process took ``pid``: our connections of it are replaced, unless we
        are the owner after all (our claim came later, or is on its way)."""
        meeting, pid = _unpack(raw)
        sids = self.conns.by_meeting.get(meeting, {}).get(pid)
        if not sids or (meeting, pid) in self._pending:
            return
        try:
            owner = await self.store.call(self.store.redis.get(self._owner(meeting, pid)))
        except StoreError:
            return  # both tabs stay open until one reconnects
        if owner is None or owner.decode() == self.proc or (meeting, pid) in self._pending:
            return
        for sid in list(self.conns.by_meeting.get(meeting, {}).get(pid, ())):
            await self._replace(sid)
