"""All meetings this process holds, and the one path by which they change."""

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from facilitation.session import Session, fold
from rooms import SYSTEM, Draft, Event
from rooms import commands as cmd
from rooms.exceptions import DomainError
from server.clock import Clock
from server.live import Broadcaster, LiveMeeting
from server.state import decode_snapshot, encode_snapshot, new_state
from server.store import LogStore, StoreError
from server.store.base import SeqConflict
from server.store.namespaces import is_meeting_log

log = logging.getLogger("ledarstig.hub")

Decision = Callable[[Session], Sequence[Draft]]
T = TypeVar("T")
Listener = Callable[["LiveMeeting", Sequence[Event]], Awaitable[None]]
#: Cluster (--redis-url): a command that lost the race for its seq to another process
#: is decided again on the caught-up state, at most this many times.
CONFLICT_RETRIES = 8


class MeetingNotFound(DomainError):
    code = "meeting_not_found"


class MeetingNotEnded(DomainError):
    code = "meeting_not_ended"


class Hub:
    def __init__(self, store: LogStore, broadcaster: Broadcaster, clock: Clock,
                 snapshot_every: int = 1000,
                 listeners: Sequence[Listener] = ()) -> None:
        self._store = store
        self._broadcaster = broadcaster
        self._clock = clock
        self._snapshot_every = snapshot_every
        self.listeners: list[Listener] = list(listeners)
        # Called with the meeting id after a reload from the log: caches to drop,
        # timers to re-arm from the reloaded state.
        self.reloaded: list[Callable[[str], None]] = []
        self._reload_lock = asyncio.Lock()
        self._meetings: dict[str, LiveMeeting] = {}
        self.conflicts = 0  # cluster: appends another process won (each one a reload)

    async def recover(self) -> float:
        """Load every meeting from the store; returns the seconds it took."""
        started = time.perf_counter()
        for meeting_id in await self._store.meetings():
            if not is_meeting_log(meeting_id):
                continue  # a programme's or the organisers' log
            self._meetings[meeting_id] = await self._load(meeting_id)
        return time.perf_counter() - started

    def get(self, meeting_id: str) -> LiveMeeting:
        live = self._meetings.get(meeting_id)
        if live is None:
            raise MeetingNotFound("There is no such meeting.")
        return live

    def all(self) -> list[LiveMeeting]:
        return list(self._meetings.values())

    def cohort_of(self, meeting_id: str) -> list[Session]:
        """The other meetings of the same programme cohort."""
        cohort = self.get(meeting_id).state.meeting.cohort
        if not cohort:
            return []
        return sorted((live.state for live in self._meetings.values()
                       if live.id != meeting_id and live.state.meeting.cohort == cohort),
                      key=lambda s: (s.meeting.created_at, s.id))

    async def create(self, title: str, starts_at: str, cohort: str) -> LiveMeeting:
        meeting_id = uuid.uuid4().hex[:12]
        draft = cmd.create_meeting(meeting_id, title, starts_at, cohort)
        live = LiveMeeting(new_state(), self._store, self._broadcaster)
        events = live.commit(SYSTEM, [draft], self._clock.now_ms())
        await live.publish(events)
        # cluster: the tail may have adopted it from the log meanwhile; keep that one
        live = self._meetings.setdefault(meeting_id, live)
        await self._notify(live, events)
        return live

    async def execute(self, meeting_id: str, actor: str, decide: Decision) -> list[Event]:
        """Decide against the current state, append, and deliver in order."""
        for attempt in range(CONFLICT_RETRIES):
            live = await self._healthy(meeting_id)
            events = live.commit(actor, decide(live.state), self._clock.now_ms())
            if not events:
                return events
            try:
                await live.publish(events)
            except SeqConflict:  # cluster: another process appended first; catch up
                self.conflicts += 1
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                if attempt:  # two processes in a burst on one meeting: step aside a little
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                continue
            break
        await self._notify(live, events)
        if live.state.seq - live.snapshot_seq >= self._snapshot_every:
            await self._snapshot(live)
        return events

    async def _notify(self, live: LiveMeeting, events: Sequence[Event]) -> None:
        """Tell each listener (metrics, timers, media plans, boards) what happened."""
        for listener in self.listeners:
            try:
                await listener(live, events)
            except Exception:
                log.exception("listener failed after events %d..%d of %s",
                              events[0].seq, events[-1].seq, live.id)

    async def hand_out(self, meeting_id: str, build: Callable[[LiveMeeting], T],
                       send: Callable[[T], Awaitable[None]]) -> T:
        """Build from the meeting's state and send once all of it is durable (see
        ``LiveMeeting.hand_out``); after a store failure, once more from the reloaded
        meeting. Raises ``StoreError`` while the store refuses the meeting's log."""
        for attempt in range(CONFLICT_RETRIES):  # cluster: other processes' appends race it
            live = await self._healthy(meeting_id)
            try:
                return await live.hand_out(lambda: build(live), send)  # noqa: B023 (at once)
            except StoreError:
                # once after a store failure; more often if other processes won races
                if attempt == CONFLICT_RETRIES - 1 or (attempt and not self.conflicts):
                    raise
        raise AssertionError("unreachable")

    async def _healthy(self, meeting_id: str) -> LiveMeeting:
        """The meeting, reloaded from its log first if a store failure broke it."""
        live = self.get(meeting_id)
        while live.broken:
            await self._reload(meeting_id)
            live = self.get(meeting_id)
        return live

    async def _reload(self, meeting_id: str) -> None:
        async with self._reload_lock:  # one reload at a time; the loser sees it done
            live = self.get(meeting_id)
            if not live.broken:
                return
            await live.drained()  # the log must hold all it will hold before we read it
            log.warning("reloading meeting %s from its log after a store failure", meeting_id)
            fresh = await self._load(meeting_id)
            # Cluster: events other processes appended meanwhile reach our clients
            # before anything newer (with one process the store refused them all).
            missed = [e for e in fresh.recent if e.seq > live.durable]
            if missed:
                await self._broadcaster.deliver(meeting_id, missed)
            self._meetings[meeting_id] = fresh
        if missed:
            await self._notify(fresh, missed)
        for hook in self.reloaded:
            try:
                hook(meeting_id)
            except Exception:
                log.exception("reload hook failed for %s", meeting_id)

    # -- cluster (server/cluster, --redis-url) ----------------------------------

    async def absorb(self, meeting_id: str, events: Sequence[Event]) -> None:
        """Events of ``meeting_id`` another process appended: folded, delivered to our
        clients in log order, and told to the listeners."""
        live = self._meetings.get(meeting_id)
        if live is None:
            return
        fresh = await live.absorb(events)
        if fresh is None:
            live.broken = True
            await self._reload(meeting_id)
        elif fresh:
            await self._notify(live, fresh)

    async def adopt(self, meeting_id: str) -> LiveMeeting | None:
        """A meeting another process created: load it from the store, once."""
        if meeting_id not in self._meetings and is_meeting_log(meeting_id):
            async with self._reload_lock:
                if meeting_id not in self._meetings:
                    loaded = await self._load(meeting_id)
                    if loaded.state.seq:  # unless created here meanwhile (create's own)
                        self._meetings.setdefault(meeting_id, loaded)
        return self._meetings.get(meeting_id)

    async def rewrite(self, meeting_id: str,
                      transform: Callable[[list[Event]], list[Event]]) -> LiveMeeting:
        """Rewrite an ended meeting's log (erasure, deleting its recording) and reload
        the meeting from it; nothing appends to an ended meeting meanwhile."""
        live = self.get(meeting_id)
        if not live.state.meeting.ended:
            raise MeetingNotEnded("End the meeting first.")
        await live.drained()
        events = transform(await self._store.read(meeting_id))
        await self._store.rewrite(meeting_id, events)  # type: ignore[attr-defined]
        self._meetings[meeting_id] = await self._load(meeting_id)
        for hook in self.reloaded:
            try:
                hook(meeting_id)
            except Exception:
                log.exception("reload hook failed for %s", meeting_id)
        return self._meetings[meeting_id]

    async def remove(self, meeting_id: str) -> None:
        """Delete an ended meeting and its whole log (its cohort has ended)."""
        live = self.get(meeting_id)
        if not live.state.meeting.ended:
            raise MeetingNotEnded("End the meeting first.")
        await live.drained()
        await self._store.rewrite(meeting_id, [])  # type: ignore[attr-defined]
        del self._meetings[meeting_id]

    async def _snapshot(self, live: LiveMeeting) -> None:
        seq = live.state.seq
        await self._store.save_snapshot(live.id, seq, encode_snapshot(live.state))
        live.snapshot_seq = seq

    async def _load(self, meeting_id: str) -> LiveMeeting:
        state, after = new_state(), 0
        snap = await self._store.latest_snapshot(meeting_id)
        if snap is not None:
            restored = decode_snapshot(snap[1])
            if restored is not None and restored.seq == snap[0]:
                state, after = restored, snap[0]
        events = await self._store.read(meeting_id, after)
        fold(events, state)
        live = LiveMeeting(state, self._store, self._broadcaster)
        live.recent.extend(events)  # the deque keeps only the newest
        live.snapshot_seq = after
        return live
