"""All meetings this process holds, and the one path by which they change."""

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from facilitation.encounters import Encounters
from facilitation.exceptions import FacilitationError
from facilitation.history import cohort_encounters
from facilitation.session import Session, fold
from rooms import SYSTEM, Draft, Event
from rooms import commands as cmd
from rooms.board import BoardLimits
from rooms.events import MeetingUpdated
from rooms.exceptions import DomainError
from server.boards import snapshot_key
from server.clock import Clock
from server.effects import Effect, IndexForReview, Reloaded, effects, follow_up
from server.live import Broadcaster, LiveMeeting, refused_boards
from server.state import decode_snapshot, encode_snapshot, new_state
from server.store import LogStore, StoreError
from server.store.base import CONFLICT_RETRIES, SeqConflict
from server.store.namespaces import is_meeting_log

log = logging.getLogger("ledarstig.hub")

Decision = Callable[[Session], Sequence[Draft]]
T = TypeVar("T")
REFUSALS = (DomainError, FacilitationError)  # a decision's "no"
#: Within this long of a store failure (and no success since: ``failed_at`` of the
#: Redis store), reloads fail at once instead of each waiting out the store's deadline
#: in turn behind the lock: with Redis down, every command of a busy meeting must still
#: fail within about a second.
RELOAD_BACKOFF_S = 1.0
#: Cluster: the state is kept (encoded, in memory) every this many durable events, so
#: a lost race rewinds to it and reads only the missed events (``LiveMeeting.rewind``).
CHECKPOINT_EVERY = 100
#: More missed events than this, and the meeting is reloaded from its log instead.
CATCH_UP_MAX = 1000


class Dispatch(Broadcaster, Protocol):
    """Delivers events in log order (inside ``LiveMeeting.publish``) and carries out
    the effects of a commit once it is delivered: ``server.dispatcher.Dispatcher``."""

    async def run(self, meeting: str, effects: Sequence[Effect]) -> None: ...


class MeetingNotFound(DomainError):
    code = "meeting_not_found"


class MeetingNotEnded(DomainError):
    code = "meeting_not_ended"


class Hub:
    def __init__(self, store: LogStore, dispatch: Dispatch, clock: Clock,
                 snapshot_every: int = 1000, board_limits: BoardLimits | None = None,
                 checkpoint_every: int = 0) -> None:
        self._store = store
        self._board_limits = board_limits or BoardLimits()
        self._dispatch = dispatch
        self._clock = clock
        self._snapshot_every = snapshot_every
        self._reload_lock = asyncio.Lock()
        self._meetings: dict[str, LiveMeeting] = {}
        self.conflicts = 0  # cluster: appends another process won (each one a catch-up)
        self.checkpoint_every = checkpoint_every  # cluster: CHECKPOINT_EVERY
        self.caught_up = 0  # broken meetings brought back by reading only what they missed
        self.reloads = 0  # ... and by a reload from the log
        self.refusals_rechecked = 0  # refusals decided again after catching up
        #: Cluster: this process holds only the meetings it serves (``server.cluster``);
        #: a command, a call or a timer for any other loads it first (``_healthy``).
        self.partial = False
        self._used: dict[str, float] = {}  # cluster: last command, call or load (monotonic)
        self._uses: dict[str, int] = {}  # cluster: how often each was used (``release``)
        #: Cluster: meetings moved to another cohort whose notice to the other processes
        #: failed after the move was durable (Redis down); the follower sends it.
        self.unannounced: set[str] = set()
        self._cohorts: dict[str, str] = {}  # cluster: each meeting's cohort, held or not
        self.released = 0  # cluster: meetings released after being idle
        #: Cluster: called when a meeting starts being held here (the tail follows it)
        self.on_hold: Callable[[str], None] = lambda meeting_id: None
        #: Cluster: called when a meeting stops being held here (``release``)
        self.on_release: Callable[[str], None] = lambda meeting_id: None

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
        """The meetings this process holds: all of them, except in a cluster
        (``partial``), where ``adopt_all`` loads the others first."""
        return list(self._meetings.values())

    def held(self, meeting_id: str) -> LiveMeeting | None:
        return self._meetings.get(meeting_id)

    def cohort_of(self, meeting_id: str) -> list[Session]:
        """The other meetings of the same programme cohort."""
        cohort = self.get(meeting_id).state.meeting.cohort
        if not cohort:
            return []
        return sorted((live.state for live in self._meetings.values()
                       if live.id != meeting_id and live.state.meeting.cohort == cohort),
                      key=lambda s: (s.meeting.created_at, s.id))

    def encounters(self, meeting_id: str) -> Encounters:
        """Who already met whom, across this meeting's cohort."""
        return cohort_encounters(self.get(meeting_id).state, self.cohort_of(meeting_id))

    async def create(self, title: str, starts_at: str, cohort: str) -> LiveMeeting:
        meeting_id = uuid.uuid4().hex[:12]
        draft = cmd.create_meeting(meeting_id, title, starts_at, cohort)
        live = self._live(new_state())
        events, todo = live.commit_effects(SYSTEM, [draft], self._clock.now_ms())
        await live.publish(events)
        # cluster: the tail may have adopted it from the log meanwhile; keep that one
        live = self._meetings.setdefault(meeting_id, live)
        self._cohorts[meeting_id] = cohort
        await self.adopt_cohort(cohort)  # cluster: its cohort's meetings, for ``cohort_of``
        await self._dispatch.run(meeting_id, todo)
        return live

    async def execute(self, meeting_id: str, actor: str, decide: Decision) -> list[Event]:
        """Decide against the current state, append, deliver in order, then carry out
        the effects (``server.effects``) through the dispatcher."""
        events, todo = await self.apply(meeting_id, actor, decide)
        if events:
            await self._dispatch.run(meeting_id, todo)
        return events

    async def apply(self, meeting_id: str, actor: str,
                    decide: Decision) -> tuple[list[Event], list[Effect]]:
        """``execute`` without running the effects: they are returned to the caller (the
        dispatcher, running a follow-up decision, queues them behind its own)."""
        checked = False
        for attempt in range(CONFLICT_RETRIES):
            live = await self._healthy(meeting_id)
            try:
                drafts = decide(live.state)
            except REFUSALS:
                # Cluster: a refusal may rest on state another process changed and the
                # tail has not brought yet (no round, a round already open...): refuse
                # only on the log's latest state. One read, empty when up to date.
                if checked or not self.checkpoint_every or not await self._caught_up(live):
                    raise
                checked = True
                continue
            events, todo = live.commit_effects(actor, drafts, self._clock.now_ms())
            if not events:
                return events, todo
            try:
                await live.publish(events)
            except SeqConflict:  # cluster: another process appended first; catch up
                self.conflicts += 1
                checked = True  # the catch-up reads the log: a refusal after it stands
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                if attempt:  # two processes in a burst on one meeting: step aside a little
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                continue
            break
        if self.partial and any(e.type == MeetingUpdated.TYPE and "cohort" in e.data
                                for e in events):
            # a move: the processes that do not hold it learn its cohort (``reread``)
            try:
                await self._store.announce(meeting_id)  # type: ignore[attr-defined]
            except StoreError:  # the move is in the log: its notice goes out later
                self.unannounced.add(meeting_id)
                log.warning("the move of %s to another cohort is not announced yet; the "
                            "cluster's follower retries", meeting_id)
        await self._snapshot_due(live)
        return events, todo

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
        """The meeting, reloaded from its log first if a store failure broke it
        (cluster: loaded from its log first if this process does not hold it)."""
        if self.partial:
            await self.adopt(meeting_id)
        live = self.get(meeting_id)
        while live.broken:
            await self._reload(meeting_id)
            live = self.get(meeting_id)
        return live

    def _live(self, state: Session) -> LiveMeeting:
        live = LiveMeeting(state, self._store, self._dispatch, self._board_limits)
        live.checkpoint_every = self.checkpoint_every
        return live

    async def _caught_up(self, live: LiveMeeting) -> bool:
        """Take in what the log has after ``live``'s durable seq (as the tail will), if
        anything; True if something was missed. Once nothing of ours is in flight,
        memory is the durable state (if an append failed, ``absorb`` reloads)."""
        await live.drained()
        try:
            missed = await self._store.read(live.id, live.durable)
        except StoreError:
            return False  # cannot tell: the refusal stands (an append would fail too)
        if not missed:
            return False
        self.refusals_rechecked += 1
        await self.absorb(live.id, missed)
        return True

    async def _catch_up(self, live: LiveMeeting) -> list[Effect] | None:
        """A meeting broken by a refused append, brought back without a reload: its
        state at ``durable`` from memory, then only the events the log has after it,
        absorbed as the tail absorbs them (folded, delivered once and in order, their
        effects returned). None if that cannot be done (no checkpoint yet, too far
        behind, a rewritten log): then it is reloaded."""
        if live.behind - live.durable > CATCH_UP_MAX:
            return None
        state = live.durable_state()
        if state is None:
            return None
        missed = await self._store.read(live.id, live.durable)
        if len(missed) > CATCH_UP_MAX:
            return None
        boards = refused_boards([e for e in live.recent if e.seq > live.durable])
        result = await live.rewind(state, missed)
        if result is None:
            return None
        for room in boards:  # the retried update folds into the board as the log has it
            await live.boards.of(room)
        log.debug("meeting %s caught up on %d missed events", live.id, len(result[0]))
        return result[1]

    async def _reload(self, meeting_id: str) -> None:
        async with self._reload_lock:  # one reload at a time; the loser sees it done
            live = self.get(meeting_id)
            if not live.broken:
                return
            failed_at = getattr(self._store, "failed_at", None)  # cluster: Redis
            if failed_at is not None and time.monotonic() - failed_at < RELOAD_BACKOFF_S:
                raise StoreError("The event store is unavailable; try again.")
            await live.drained()  # the log must hold all it will hold before we read it
            caught = await self._catch_up(live)
            if caught is not None:
                self.caught_up += 1
        if caught is not None:
            local = self._local(caught)  # as for events the tail absorbs
            if local:
                await self._dispatch.run(meeting_id, local)
            return
        async with self._reload_lock:
            live = self.get(meeting_id)
            if not live.broken:
                return
            await live.drained()
            self.reloads += 1
            log.warning("reloading meeting %s from its log after a store failure", meeting_id)
            judged: list[Effect] = []
            fresh = await self._load(meeting_id, judge_after=live.durable, judged=judged)
            # Cluster: events other processes appended meanwhile reach our clients
            # before anything newer (with one process the store refused them all).
            missed = [e for e in fresh.recent if e.seq > live.durable]
            if missed:
                await self._dispatch.deliver(meeting_id, missed)
            self._meetings[meeting_id] = fresh
        if judged:  # their effects here as for absorbed events (``absorb``)
            await self._dispatch.run(meeting_id, self._local(judged))
        await self._reloaded(meeting_id)

    async def _reloaded(self, meeting_id: str) -> None:
        live = self._meetings[meeting_id]
        await self._dispatch.run(meeting_id, effects(live.state, Reloaded()))

    # -- cluster (server/cluster, --redis-url) ----------------------------------

    async def absorb(self, meeting_id: str, events: Sequence[Event]) -> list[Event]:
        """Events of ``meeting_id`` another process appended: folded (state and boards),
        delivered to our clients in log order (``Dispatch.deliver``), and their effects
        carried out here as after a local commit: timers synced, media re-planned, boards
        sent, connections moved. Follow-up decisions and the review index are the
        appending process's (it runs them itself). Returns the events new here."""
        live = self._meetings.get(meeting_id)
        if live is None:
            return []
        result = await live.absorb(events)
        if result is None:
            live.broken = True
            await self._reload(meeting_id)
            return []
        fresh, todo = result
        local = self._local(todo)
        if local:
            await self._dispatch.run(meeting_id, local)
        return fresh

    @staticmethod
    def _local(todo: Sequence[Effect]) -> list[Effect]:
        """Of the effects of events another process committed, those this process
        carries out: not the follow-up decisions or the review index (that process's)."""
        return [e for e in todo if not follow_up(e) and not isinstance(e, IndexForReview)]

    async def adopt(self, meeting_id: str) -> LiveMeeting | None:
        """A meeting this process does not hold (another process created it, or it was
        released here): load it from the store, once. Cluster: marks it used, and
        holds the other meetings of its cohort too (``cohort_of`` reads them)."""
        fresh = meeting_id not in self._meetings
        live = await self._hold(meeting_id)
        if live is not None and self.partial:
            self._use(meeting_id)
            if fresh and live.state.meeting.cohort:
                await self.adopt_cohort(live.state.meeting.cohort)
        return live

    async def _hold(self, meeting_id: str) -> LiveMeeting | None:
        if meeting_id not in self._meetings and is_meeting_log(meeting_id):
            async with self._reload_lock:
                if meeting_id not in self._meetings:
                    loaded = await self._load(meeting_id)
                    if loaded.state.seq:  # unless created here meanwhile (create's own)
                        self._meetings.setdefault(meeting_id, loaded)
                        self._use(meeting_id)
                        self.on_hold(meeting_id)
        return self._meetings.get(meeting_id)

    def _use(self, meeting_id: str) -> None:
        self._used[meeting_id] = self._clock.monotonic()
        self._uses[meeting_id] = self._uses.get(meeting_id, 0) + 1

    def uses(self, meeting_id: str) -> int:
        """Cluster: how many times the meeting was used here (a client's link, a
        command, a call, a load); ``release`` is given it as the idle check saw it."""
        return self._uses.get(meeting_id, 0)

    async def adopt_cohort(self, cohort: str) -> None:
        """Cluster: hold every meeting of ``cohort`` (a cohort's page, its links)."""
        if self.partial and cohort:
            for meeting_id in [m for m, c in self._cohorts.items() if c == cohort]:
                await self._hold(meeting_id)

    async def adopt_all(self) -> None:
        """Cluster: load every meeting of the deployment (a listing, the retention
        sweep); those with no reason to stay are released again when idle."""
        if self.partial:
            for meeting_id in await self._store.meetings():
                await self._hold(meeting_id)

    def served_cohorts(self) -> set[str]:
        return {live.state.meeting.cohort for live in self._meetings.values()} - {""}

    def created_elsewhere(self, meeting_id: str, cohort: str) -> bool:
        """Cluster: another process created this meeting; True if this process must
        hold it (it holds a meeting of the same cohort)."""
        self._cohorts[meeting_id] = cohort
        return bool(cohort) and cohort in self.served_cohorts()

    def idle(self, keep: Callable[[str], bool], after_s: float) -> list[str]:
        """Cluster: the held meetings with no reason to stay: unused (no command, call,
        timer or load) for ``after_s``, nothing in flight, no reason ``keep`` names
        (local connections, a grace period), and no such meeting of their cohort (a
        cohort's decisions read all its meetings: ``cohort_of``)."""
        now = self._clock.monotonic()
        direct: set[str] = set()
        for m, live in self._meetings.items():
            self._cohorts[m] = live.state.meeting.cohort  # a move is an event of its log
            if (now - self._used.setdefault(m, now) < after_s or keep(m) or live.broken
                    or live.durable != live.state.seq):
                direct.add(m)
        served = {self._cohorts[m] for m in direct} - {""}
        return [m for m in self._meetings
                if m not in direct and self._cohorts[m] not in served]

    async def release(self, meeting_id: str, uses: int | None = None) -> None:
        """Cluster: stop holding (and following) a meeting no one here uses; nothing
        is lost (the log has everything; its timers are in Redis). ``uses``: what
        ``uses`` said when the meeting was found idle; if it was used since (a client
        connecting while this waited for the lock), it is kept: that client's join
        would find no meeting."""
        async with self._reload_lock:
            live = self._meetings.get(meeting_id)
            if (live is None or live.broken or live.durable != live.state.seq
                    or (uses is not None and self.uses(meeting_id) != uses)):
                return
            del self._meetings[meeting_id]
            self._used.pop(meeting_id, None)
            self._uses.pop(meeting_id, None)
            live.boards.forget()
            self.released += 1
            self.on_release(meeting_id)

    async def reread(self, meeting_id: str) -> None:
        """Another process rewrote or removed this meeting's log (erasure, retention):
        what memory holds of it must go. Reloaded from the log, or dropped if empty."""
        live = self._meetings.get(meeting_id)
        if live is None:
            if self.partial:  # not held: what is its cohort now (a move, a removal)?
                loaded = await self._load(meeting_id)
                if loaded.state.seq and loaded.state.meeting.cohort in self.served_cohorts():
                    await self.adopt(meeting_id)
            return
        async with self._reload_lock:
            await live.drained()
            loaded = await self._load(meeting_id)
            live.boards.forget()
            if not loaded.state.seq:
                self._meetings.pop(meeting_id, None)
                return
            self._meetings[meeting_id] = loaded
        await self.adopt_cohort(loaded.state.meeting.cohort)  # cluster: moved to another
        await self._reloaded(meeting_id)

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
        await self._reloaded(meeting_id)
        return self._meetings[meeting_id]

    async def remove(self, meeting_id: str) -> None:
        """Delete an ended meeting and its whole log (its cohort has ended)."""
        live = self.get(meeting_id)
        if not live.state.meeting.ended:
            raise MeetingNotEnded("End the meeting first.")
        await live.drained()
        await self._store.rewrite(meeting_id, [])  # type: ignore[attr-defined]
        # With --redis-url the rewrite is announced to every process, this one too: its
        # ``reread`` may already have dropped the meeting while the rewrite was awaited.
        self._meetings.pop(meeting_id, None)
        self._used.pop(meeting_id, None)
        self._uses.pop(meeting_id, None)

    async def _snapshot_due(self, live: LiveMeeting) -> None:
        """The meeting every ``snapshot_every`` events; a board every ``SNAPSHOT_EVERY``
        updates of it, once all it holds is durable (a refused update is in no snapshot)."""
        if live.state.seq - live.snapshot_seq >= self._snapshot_every:
            seq = live.state.seq
            await self._store.save_snapshot(live.id, seq, encode_snapshot(live.state))
            live.snapshot_seq = seq
        if live.durable == live.state.seq:
            seq = live.state.seq
            for room, state in live.boards.due_snapshots():
                await self._store.save_snapshot(snapshot_key(live.id, room), seq, state)

    async def _load(self, meeting_id: str, judge_after: int | None = None,
                    judged: list[Effect] | None = None) -> LiveMeeting:
        """The meeting from its snapshot and log. With ``judge_after``: the effects of
        each event after that seq, judged against the state just before it, go into
        ``judged`` (a reload after a lost race: what the other processes did)."""
        state, after = new_state(), 0
        snap = await self._store.latest_snapshot(meeting_id)
        if snap is not None and (judge_after is None or snap[0] <= judge_after):
            restored = decode_snapshot(snap[1])
            if restored is not None and restored.seq == snap[0]:
                state, after = restored, snap[0]
        events = await self._store.read(meeting_id, after)
        if judge_after is None or judged is None:
            fold(events, state)
        else:
            known = [e for e in events if e.seq <= judge_after]
            fold(known, state)
            for event in events[len(known):]:
                judged += effects(state, event)
                state.apply(event)
        if state.seq:
            self._cohorts[meeting_id] = state.meeting.cohort
        else:
            self._cohorts.pop(meeting_id, None)
        live = self._live(state)
        live.recent.extend(events)  # the deque keeps only the newest
        live.snapshot_seq = after
        live.keep_checkpoint()
        return live
