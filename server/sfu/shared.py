"""The plenary's VideoRooms shared by the processes of a deployment (``--redis-url``).

All processes talk to one Janus. For each meeting, in Redis:

- ``sfu:room:<meeting>``: the VideoRoom id, claimed once (``SET NX``) by whichever
  process needs it first; every process then creates the room in Janus with that
  id, taking Janus's "room already exists" (427) for success.
- ``sfu:feeds:<meeting>``: participant -> the live feed a process publishes for
  them (process, room, feed id, streams). Each change is also published on the
  ``sfu`` channel, so every process re-plans its own subscribers at once; a
  process that starts serving the meeting reads the hash. A stop removes the
  entry only if it still names that feed (a newer one may have replaced it).
- When the meeting ends, ``GETDEL`` of the room id answers one process only,
  which destroys the room; the others forget it.

Feeds of a process whose heartbeat (``server.cluster.presence``) expired are
dropped by every process (``dead``); Janus drops their handles when the dead
process's session times out.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable

import msgspec

from server.cluster.presence import alive_key
from server.sfu.registry import Apply, Json, RemoteFeed
from server.store.redis_store import RedisStore

log = logging.getLogger("ledarstig.sfu.shared")
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder().decode

# KEYS: feeds hash, channel. ARGV: participant, feed id, message.
# Removes the participant's entry only if it is still that feed; always announces.
_UNPUBLISH = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cmsgpack.unpack(cur)[3] == tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
"""


class SharedRooms:
    shared = True

    def __init__(self, store: RedisStore, proc: str) -> None:
        self.store, self.redis, self.proc = store, store.redis, proc
        self._p = store.prefix
        self._unpublish = self.redis.register_script(_UNPUBLISH)

    @property
    def channel(self) -> str:
        return f"{self._p}sfu"

    def _room_key(self, meeting: str) -> str:
        return f"{self._p}sfu:room:{meeting}"

    def _feeds_key(self, meeting: str) -> str:
        return f"{self._p}sfu:feeds:{meeting}"

    async def room_id(self, meeting: str) -> int:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._room_key(meeting), secrets.randbelow(2**52) + 1, nx=True)
        pipe.get(self._room_key(meeting))
        _, claimed = await self.store.call(pipe.execute())
        return int(claimed)

    async def release(self, meeting: str, known: int | None) -> int | None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.getdel(self._room_key(meeting))
        pipe.delete(self._feeds_key(meeting))
        claimed, _ = await self.store.call(pipe.execute())
        return int(claimed) if claimed is not None else None

    async def published(self, meeting: str, room: int, participant: str, feed: int,
                        streams: list[Json]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self._feeds_key(meeting), participant,
                  _pack([self.proc, room, feed, streams]))
        pipe.publish(self.channel, _pack([self.proc, meeting, room, participant, feed, streams]))
        await self.store.call(pipe.execute())

    async def unpublished(self, meeting: str, participant: str, feed: int) -> None:
        await self.store.call(self._unpublish(
            keys=[self._feeds_key(meeting), self.channel],
            args=[participant, feed, _pack([self.proc, meeting, 0, participant, feed, None])]))

    async def feeds(self, meeting: str) -> list[RemoteFeed]:
        entries = await self.store.call(self.redis.hgetall(self._feeds_key(meeting)))
        out = []
        for pid, raw in entries.items():
            proc, room, feed, streams = _unpack(raw)
            if proc != self.proc:
                out.append(RemoteFeed(proc, meeting, room, pid.decode(), feed, streams))
        dead = await self.dead({f.proc for f in out})
        return [f for f in out if f.proc not in dead]

    async def dead(self, procs: set[str]) -> set[str]:
        """Which of these processes stopped beating."""
        if not procs:
            return set()
        ordered = sorted(procs)
        pipe = self.redis.pipeline(transaction=False)
        for proc in ordered:
            pipe.exists(alive_key(self._p, proc))
        alive = await self.store.call(pipe.execute())
        return {proc for proc, up in zip(ordered, alive, strict=True) if not up}

    async def run(self, apply: Apply, resubscribed: Callable[[], Awaitable[None]]) -> None:
        """Other processes' feeds as they come and go; after each (re)subscription,
        ``resubscribed`` reads what was published meanwhile."""
        async def feed(raw: bytes) -> None:
            proc, meeting, room, pid, feed_id, streams = _unpack(raw)
            if proc != self.proc:
                await apply(RemoteFeed(proc, meeting, room, pid, feed_id, streams))
        await self.store.listen({self.channel: feed}, resubscribed)


__all__ = ["SharedRooms"]
