"""Several processes, one deployment: what ``--redis-url`` turns on.

- The store is ``RedisStore``: every log (meetings, programmes, the organisers),
  snapshots and board snapshots are shared; appends are ordered per log across
  processes (``SeqConflict`` → catch up → decide again, in ``Hub.apply``).
- **Delivery from the log.** One task per process (``Node._follow``) tails, with
  ``XREAD BLOCK``, the stream of every meeting it holds and of every programme, and
  the stream of newly created logs. Events another process appended are folded into
  the live meeting and delivered to this process's clients in log order
  (``Hub.absorb`` → ``LiveMeeting.absorb`` → ``Dispatcher.deliver``, then the
  effects of ``server.effects`` as after a local commit: a round opened elsewhere
  arms/syncs the timer and re-plans media here too); nothing goes through pub/sub, so
  nothing logged can be lost or reordered on the way, and the encode-once fan-out
  stays the delivery path.
- **Only the meetings it serves.** A process holds (folds and tails) a meeting while
  it has a reason to: local connections, a command, REST call or timer for it in the
  last ``Settings.cluster_idle_s`` (60 s), a grace period it gives, or a cohort (the
  cohort's decisions read every meeting of it, so those are held everywhere, as
  before). Any other meeting is loaded from its log when something needs it
  (``Hub.adopt``: the handshake, the REST middleware, ``Hub.execute``, a claimed
  timer), so nothing depends on which process holds what; an idle one is released
  (``Node._release_idle``). With nginx hashing by meeting, each event is folded by
  the process that serves the meeting, not by every process.
- **Ephemeral messages** (presence, signal, speaking: never logged) go through
  ``ClusterFanout``, the fan-out port (``server.fanout``) that also relays them over
  Redis pub/sub (at most once, as they are on one process if a socket drops); each
  process resolves the same audience against its own connections.
- **Rewritten logs** (erasure, retention): ``RedisStore.rewrite`` announces them in the
  stream of new logs, which every process tails from its own position (a pub/sub
  notice could be lost); every process re-reads them (``Hub.reread``).
- **Presence** across processes and the reaping of dead ones: ``presence.py``.
- **Deadlines** in a Redis sorted set, fired once: ``timers.py``.
- **A second tab** on another process replaces the first: ``tabs.py``.
- **Redis down:** the clients are told (``server.store``) when it stops answering and
  when it is back (``Node._watch_store``).
- Every loop here is supervised (``Node._forever``): one that fails is logged and
  started again.
- The secret key and the admin token are shared through Redis (``shared_credentials``).
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
import redis
from aiohttp import web

from programmes import Programme
from rooms import Event
from rooms.events import MeetingEnded
from server.clock import Clock
from server.config import Settings
from server.credentials import Credentials
from server.dispatcher import Dispatcher
from server.effects import PresenceChanged, ReplanMedia
from server.fanout import (
    Audience,
    SocketFanout,
    ToConnection,
    ToConnections,
    ToFacilitators,
    ToMeeting,
    ToParticipant,
    ToRoom,
)
from server.gateway import Gateway
from server.hub import Hub
from server.keys import CLOCK
from server.organisers.ledger import Ledger
from server.store import StoreError
from server.store.namespaces import ORGANISERS, PROGRAMME_PREFIX, is_meeting_log, programme_log
from server.store.redis_store import RedisStore

from .presence import ClusterConnections, Presence
from .tabs import Tabs
from .timers import ClusterRoundTimer
from .unplanned import Unplanned

log = logging.getLogger("ledarstig.cluster")
#: Client-bound messages that are not in any log and must reach the other processes.
RELAYED = frozenset({"presence", "signal", "speaking"})
TAIL_BLOCK_MS = 1000
#: How often held meetings are checked for idleness (clock port; at most half of
#: ``Settings.cluster_idle_s``, after which an unused one is released).
RELEASE_CHECK_S = 5.0
STORE_CHECK_S = 0.5  # how often the store is asked whether it answers
RESTART_S = 0.5  # before a failed cluster loop starts again
#: Ephemeral messages waiting for Redis; beyond this they are dropped, like lost packets
#: (during an outage the queue would otherwise grow without bound).
RELAY_BACKLOG = 1000
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder().decode

_AUDIENCES: dict[str, type[Any]] = {k.__name__: k for k in (
    ToConnection, ToParticipant, ToRoom, ToFacilitators, ToMeeting, ToConnections)}

__all__ = ["ClusterConnections", "ClusterFanout", "ClusterRoundTimer", "Node", "decode_audience",
           "adopt_meetings", "shared_credentials"]


def shared_credentials(settings: Settings, prefix: str = "ls:") -> Credentials:
    """The secret key and admin token of the whole deployment: from settings, or made
    once by whichever process starts first and kept in Redis."""
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5,
                                  socket_connect_timeout=5)
    try:
        def value(name: str, given: str | None) -> tuple[str, bool]:
            if given:
                return given, False
            created = bool(client.set(prefix + name, secrets.token_urlsafe(32), nx=True))
            return client.get(prefix + name).decode(), created  # type: ignore[union-attr]
        token, created = value("admin_token", settings.admin_token)
        secret, _ = value("secret_key", settings.secret_key)
    finally:
        client.close()
    return Credentials(token, secret, created)


class ClusterFanout(SocketFanout):
    """The fan-out port of a process in a deployment: sends to this process's
    connections, and queues what is never logged (``RELAYED``) for the other
    processes, which resolve the same audience against their own (``Node``)."""

    def __init__(self, sio: Any) -> None:
        super().__init__(sio)
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.proc = ""  # set by the Node
        self.dropped = 0  # relayed messages dropped because Redis did not answer

    async def send(self, name: str, data: Any, to: Audience) -> None:
        await super().send(name, data, to)
        if name in RELAYED and self.outbox.qsize() < RELAY_BACKLOG:
            self.outbox.put_nowait(_pack([self.proc, name, data, type(to).__name__,
                                          msgspec.to_builtins(to)]))

    def send_now(self, packets: Sequence[tuple[str, Any, Audience]]) -> bool:
        return not any(name in RELAYED for name, _, _ in packets) and super().send_now(packets)

    async def send_here(self, name: str, data: Any, to: Audience) -> None:
        """Relayed from another process: to this process's connections only."""
        await super().send(name, data, to)


def decode_audience(kind: str, fields: Any) -> Audience:
    cls = _AUDIENCES[kind]
    if cls is ToConnections:
        return ToConnections(tuple(fields["sids"]))
    return cls(**fields)  # type: ignore[no-any-return]


class Node:
    """This process's part in the deployment; started and stopped by ``server.app``."""

    def __init__(self, app: Any, store: RedisStore, hub: Hub, gateway: Gateway,
                 fanout: ClusterFanout, dispatcher: Dispatcher, conns: ClusterConnections,
                 timer: ClusterRoundTimer) -> None:
        self.app, self.store, self.hub, self.gateway = app, store, hub, gateway
        self.fanout, self.dispatcher = fanout, dispatcher
        self.conns, self.timer = conns, timer
        self.presence = Presence(store, conns, self._presence_changed, self._dead)
        fanout.proc = self.presence.proc
        self.tabs = Tabs(store, conns, self.presence.proc, gateway.replace)
        shared = conns.changed  # set by Presence: first/last local connection of someone

        def changed(meeting: str, pid: str, online: bool) -> None:
            shared(meeting, pid, online)
            if online:
                self.tabs.claim(meeting, pid)
        conns.changed = changed
        self._relay_channel = f"{store.prefix}relay"
        # A link to a meeting another process created a moment ago is accepted here
        # too: the handshake loads it first.
        gateway.adopt = hub.adopt
        hub.partial = True  # holds only the meetings it serves (``_release_idle``)
        self.clock: Clock = app[CLOCK]
        self._graced: dict[str, float] = {}  # meeting -> end of a grace period given here
        self._unplanned = Unplanned()  # online here before their join was
        self._checked_at = self.clock.monotonic()
        # A meeting held from now on is in the tail's next read: wake the read blocked
        # without it (else its events would wait up to TAIL_BLOCK_MS).
        self._wake_key = f"{store.prefix}wake:{self.presence.proc}"
        self._waking: set[asyncio.Task[None]] = set()
        self._woken = "0-0"  # its position (a new process id, so a new stream, each start)
        hub.on_hold = self._wake
        self._tasks: list[asyncio.Task[None]] = []
        self.store_available = True

    @property
    def proc(self) -> str:
        return self.presence.proc

    async def start(self) -> None:
        await self.presence.start()
        for name, loop in (("cluster-follow", self._follow),
                           ("cluster-relay-in", self._relay_in),
                           ("cluster-relay-out", self._relay_out),
                           ("cluster-presence", self.presence.run),
                           ("cluster-tabs", self.tabs.run),
                           ("cluster-timers", self.timer.run),
                           ("cluster-store", self._watch_store)):
            self._tasks.append(asyncio.create_task(self._forever(name, loop), name=name))

    async def stop(self) -> None:
        await self.presence.stop()
        # A cancellation that lands inside a Redis call can come back as a connection
        # error, which the loops take for an outage and retry: cancel until they stop
        # (an ``await task`` once hung a shutdown for good).
        pending = set(self._tasks) | self._waking
        for _ in range(20):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.25)
        for task in pending:
            log.warning("cluster task %s did not stop", task.get_name())
        with contextlib.suppress(StoreError):
            await self.store.call(self.store.redis.delete(self._wake_key))

    @staticmethod
    async def _forever(name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop`` while the process lives. Outages are handled inside each loop;
        one that fails anyway (a defect), its inner tasks with it, is logged and
        started again: a process must not silently stop beating or firing timers."""
        while True:
            try:
                await loop()
                log.error("cluster task %s ended; starting it again", name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster task %s failed; starting it again", name)
            await asyncio.sleep(RESTART_S)

    # -- the store's availability, told to the clients --------------------------

    async def _watch_store(self) -> None:
        """Tell this process's clients when Redis stops answering and when it is back
        (``server.store``): they show that they wait, and catch up afterwards. Commands
        meanwhile fail with ``store_unavailable`` within the store's deadline. Who
        connects during an outage is told at the next check."""
        told: set[str] = set()  # connections told of the current outage
        while True:
            await asyncio.sleep(STORE_CHECK_S)  # real time, like the heartbeat
            try:
                await self.store.check()  # answers, and still holds our data
                available = True
            except StoreError:
                _unless_cancelled()
                available = False
            if available != self.store_available:
                self.store_available = available
                log.warning("the store answers again" if available else
                            "the store is unavailable; clients are told")
                if available:
                    told.clear()
                    await self._tell_store(tuple(self.conns.by_sid), True)
            if not available:
                told &= self.conns.by_sid.keys()
                fresh = tuple(sid for sid in self.conns.by_sid if sid not in told)
                told.update(fresh)
                await self._tell_store(fresh, False)

    async def _tell_store(self, sids: tuple[str, ...], available: bool) -> None:
        if sids:
            await self.fanout.send("server.store", {"available": available},
                                   ToConnections(sids))

    # -- delivery from the log --------------------------------------------------

    def _wake(self, meeting: str) -> None:
        task = asyncio.create_task(self._wake_tail(meeting))
        self._waking.add(task)
        task.add_done_callback(self._waking.discard)

    async def _wake_tail(self, meeting: str) -> None:
        with contextlib.suppress(StoreError):
            await self.store.wake(self._wake_key, meeting)

    async def _follow(self) -> None:
        created: str | None = None
        while True:
            try:
                if created is None:
                    created = await self.store.created_position()
                await self._announce_moves()
                await self._release_idle()
                found = await self.store.tail(self._positions(created), TAIL_BLOCK_MS)
            except StoreError:
                _unless_cancelled()
                await asyncio.sleep(0.5)  # Redis down: try again, from the same positions
                continue
            for key, events in found:
                try:
                    if key == self._wake_key:
                        self._woken = events[-1].actor  # read again, with the new meeting
                    elif key == self.store.created_key:
                        created = events[-1].actor
                        for event in events:
                            if event.type == "rewritten":
                                await self._rewritten(event.data["key"])
                            else:
                                await self._adopt(event.data["key"])
                    elif is_meeting_log(key):
                        fresh = await self.hub.absorb(key, events)
                        await self._plan_joined(key, fresh)
                        if any(e.type == MeetingEnded.TYPE for e in fresh):
                            await self.gateway.close_meeting(key)  # ended elsewhere
                    else:
                        ledger = self._ledger(key)
                        if ledger is not None:
                            await ledger.catch_up()
                except StoreError:
                    log.warning("could not take in what %s appended; will retry", key)
                except Exception:
                    log.exception("taking in events of %s failed", key)

    async def _announce_moves(self) -> None:
        """Send the notices of cohort moves that could not go out after their commit
        (``Hub.unannounced``; the move itself is in the log and its command succeeded).
        Raises ``StoreError`` while Redis is down: tried again on the next round."""
        for meeting in list(self.hub.unannounced):
            await self.store.announce(meeting)
            self.hub.unannounced.discard(meeting)

    async def _release_idle(self) -> None:
        """Stop following the meetings this process has no reason to hold (run between
        two tails, so never while the tail is folding one of them)."""
        now = self.clock.monotonic()
        idle_s = self.gateway.settings.cluster_idle_s
        if now - self._checked_at < min(RELEASE_CHECK_S, idle_s / 2):
            return
        self._checked_at = now
        self._graced = {m: end for m, end in self._graced.items() if end > now}
        served = {conn.meeting for conn in self.conns.by_sid.values()} | self._graced.keys()
        idle = [(m, self.hub.uses(m)) for m in self.hub.idle(served.__contains__, idle_s)]
        for meeting, uses in idle:  # each kept if used meanwhile (a client connecting)
            await self.hub.release(meeting, uses)
            if self.hub.held(meeting) is None:
                self._unplanned.forget(meeting)
            log.debug("released meeting %s (idle here)", meeting)

    def _positions(self, created: str) -> dict[str, Any]:
        positions: dict[str, Any] = {live.id: live.durable for live in self.hub.all()}
        workspace = self._workspace()
        if workspace is not None:
            positions[ORGANISERS] = workspace.accounts.state.seq
            for pid, ledger in workspace.programmes.items():
                positions[programme_log(pid)] = ledger.state.seq
        positions[self.store.created_key] = created
        positions[self._wake_key] = self._woken
        return positions

    def _workspace(self) -> Any:
        from server.organisers import WORKSPACE
        return self.app.get(WORKSPACE)

    def _ledger(self, key: str) -> Ledger[Any] | None:
        workspace = self._workspace()
        if workspace is None:
            return None
        if key == ORGANISERS:
            return workspace.accounts  # type: ignore[no-any-return]
        return workspace.programmes.get(key[len(PROGRAMME_PREFIX):])  # type: ignore[no-any-return]

    async def _adopt(self, key: str) -> None:
        if is_meeting_log(key):
            # Held here only if a meeting of its cohort is (``Hub.idle``); any other is
            # loaded when something here needs it. Its first event names the cohort.
            if self.hub.held(key) is not None:
                return
            first = await self.store.read_range(key, 0, 1, limit=1)
            cohort = first[0].data.get("cohort", "") if first else ""
            if self.hub.created_elsewhere(key, cohort):
                live = await self.hub.adopt(key)
                if live is not None:
                    self.timer.sync(live)  # as at recovery (``sync_all``)
            return
        workspace = self._workspace()
        if workspace is not None and key.startswith(PROGRAMME_PREFIX):
            pid = key[len(PROGRAMME_PREFIX):]
            if pid not in workspace.programmes:
                ledger = await Ledger.load(self.store, key, Programme(), workspace.clock)
                workspace.programmes.setdefault(pid, ledger)

    # -- rewritten logs (erasure, deleted recordings, removed meetings) ----------

    async def _rewritten(self, key: str) -> None:
        """``RedisStore.rewrite`` on any process (this one too: then it is already
        reloaded, and reading again costs little): erased data must not live on here."""
        if is_meeting_log(key):
            await self.hub.reread(key)

    # -- ephemeral messages ----------------------------------------------------

    async def _relay_out(self) -> None:
        while True:
            raw = await self.fanout.outbox.get()
            try:
                await self.store.call(self.store.redis.publish(self._relay_channel, raw))
            except StoreError:
                _unless_cancelled()
                # What queued meanwhile is stale too (a signal seconds late is worse than
                # none): dropped, not delivered in a burst when Redis is back.
                dropped = 1
                while not self.fanout.outbox.empty():
                    self.fanout.outbox.get_nowait()
                    dropped += 1
                self.fanout.dropped += dropped
                log.debug("%d ephemeral messages not relayed (Redis unavailable)", dropped)

    async def _relay_in(self) -> None:
        await self.store.listen({self._relay_channel: self._relayed,
                                 self.presence.channel: self.presence.on_message,
                                 self.tabs.channel: self.tabs.on_message})

    async def _relayed(self, raw: bytes) -> None:
        proc, event, data, kind, fields = _unpack(raw)
        if proc != self.proc:
            await self.fanout.send_here(event, data, decode_audience(kind, fields))

    # -- presence --------------------------------------------------------------

    async def _presence_changed(self, meeting: str, pid: str, online: bool) -> None:
        """Someone came or went on another process: a fact like a local one, carried
        out through the effects (re-plan our clients' peers, place a returner, the
        presence log: each decision is logged once, whoever commits it first). A
        meeting not held here has no client here: nothing to do (the process that has
        the connection logs it)."""
        live = self.hub.held(meeting)
        if live is None:
            return
        self._unplanned.heard(meeting, live.state.meeting, pid, online)
        await self.dispatcher.happened(meeting, PresenceChanged(pid, online))

    async def _plan_joined(self, meeting: str, fresh: Sequence[Event]) -> None:
        """Re-plan the rooms of those who came online here before their join did
        (``Unplanned``): the presence's own re-plan could not place them."""
        live = self.hub.held(meeting)
        if live is None or not fresh:
            return
        rooms = self._unplanned.joined(meeting, live.state.meeting, fresh)
        if rooms:
            await self.dispatcher.run(meeting, [ReplanMedia(rooms)])

    async def _dead(self, proc: str, pairs: list[tuple[str, str]]) -> None:
        """A process died holding these participants: they get the grace period (as
        after a restart), and everyone is told they are offline."""
        for meeting, pid in pairs:
            if self.conns.online(meeting, pid):
                continue  # already back, here or elsewhere
            # held while the grace runs (its expiry loads it anyway: ``Hub.execute``)
            self._graced[meeting] = (self.clock.monotonic() + self.gateway.settings.grace_s
                                     + RELEASE_CHECK_S)
            self.gateway.give_grace(meeting, pid)
            await self.fanout.send("presence", {"participant": pid, "online": False},
                                   ToMeeting(meeting))


@web.middleware
async def adopt_meetings(request: web.Request, handler: Any) -> web.StreamResponse:
    """A REST call or page about a meeting this process does not hold (another process
    created it a moment ago, or serves it): load it first; for a cohort, its meetings."""
    from server.keys import HUB
    meeting = request.match_info.get("id") or request.match_info.get("meeting")
    hub = request.app.get(HUB)
    if meeting and hub is not None:
        with contextlib.suppress(StoreError):
            await hub.adopt(meeting)
    cohort = request.match_info.get("cohort")
    if cohort and hub is not None:
        with contextlib.suppress(StoreError):
            await hub.adopt_cohort(cohort)
    return await handler(request)  # type: ignore[no-any-return]


def _unless_cancelled() -> None:
    """Re-raise a cancellation that a Redis call turned into a connection error."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
