"""Round deadlines in Redis: fired once, by whichever process is alive.

Every process keeps the sorted set ``timers`` (meeting -> next due, wall ms) in
step with the meetings it folds: after each ``round.*`` event it writes the
meeting's ``breakouts.next_due``, guarded by the log position it computed it at,
so a process that is behind never moves a deadline back or drops a newer one.
Each process polls every ``POLL_S``; a Lua script hands each due meeting to one
poller only, by pushing its score ``LEASE_MS`` ahead (a lease). The winner asks
the domain what is due (``breakouts.tick``) and writes the next deadline; if it
dies first, the lease runs out and another process takes it. A tick on a state
that is behind loses the append race, catches up and decides again, so a round
closes exactly once, within POLL_S + LEASE_MS of its deadline at worst.
"""

import asyncio
import logging

from facilitation import breakouts
from rooms import SYSTEM
from server.clock import Clock
from server.hub import Hub, MeetingNotFound
from server.live import LiveMeeting
from server.store.redis_store import RedisStore

log = logging.getLogger("ledarstig.cluster.timers")
POLL_S = 0.2
LEASE_MS = 1000

# KEYS: zset, seq hash. ARGV: meeting, seq, due ('' = nothing due).
_SET = """
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if cur > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1])
else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
"""

# KEYS: zset. ARGV: now, lease until. Due meetings, each leased to this caller.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 50)
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], m) end
return due
"""


class ClusterRoundTimer:
    """The same face as ``server.round_timer.RoundTimer`` (sync, sync_all): the
    dispatcher's ``SyncTimer`` effect (a ``round.*`` event committed here or absorbed
    from another process, a reload) calls ``sync``."""

    def __init__(self, hub: Hub, store: RedisStore, clock: Clock) -> None:
        self._hub, self._store, self._clock = hub, store, clock
        self._set = store.redis.register_script(_SET)
        self._claim = store.redis.register_script(_CLAIM)
        self._zset, self._seqs = f"{store.prefix}timers", f"{store.prefix}timer-seq"
        self._queue: asyncio.Queue[tuple[str, int, int | None]] = asyncio.Queue()

    def sync(self, live: LiveMeeting) -> None:
        self._queue.put_nowait((live.id, live.state.seq, breakouts.next_due(live.state)))

    def sync_all(self) -> None:
        for live in self._hub.all():
            self.sync(live)

    async def run(self) -> None:
        """The writer and the poller; if either fails, both stop and ``run`` raises
        (``Node`` starts it again: a dead writer must not go unnoticed). The ticks the
        poller starts are the group's too: stopped with it, never left running."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._write(), name="cluster-timer-writer")
            group.create_task(self._poll(group), name="cluster-timer-poll")

    async def _write(self) -> None:
        while True:
            meeting, seq, due = await self._queue.get()
            for _ in range(20):
                try:
                    await self._store.call(self._set(
                        keys=[self._zset, self._seqs],
                        args=[meeting, seq, "" if due is None else due]))
                    break
                except Exception:
                    log.warning("deadline of %s not written; retrying", meeting)
                    await asyncio.sleep(0.5)

    async def _poll(self, group: asyncio.TaskGroup) -> None:
        while True:  # on the clock port, like every timer (server/clock.py)
            await self._clock.wait(asyncio.Event(), self._clock.monotonic() + POLL_S)
            now = self._clock.now_ms()
            try:
                due = await self._store.call(self._claim(keys=[self._zset],
                                                          args=[now, now + LEASE_MS]))
            except Exception:
                continue  # Redis down: the deadlines wait there
            for raw in due:  # a tick catches its own failures: the group stays up
                group.create_task(self._fire(raw.decode()))

    async def _fire(self, meeting: str) -> None:
        try:
            await self._hub.execute(
                meeting, SYSTEM, lambda s: breakouts.tick(s, self._clock.now_ms()))
        except MeetingNotFound:
            return
        except Exception:
            log.warning("the timed step of %s failed; its lease will run out and it is "
                        "tried again", meeting, exc_info=True)
            return
        self.sync(self._hub.get(meeting))
