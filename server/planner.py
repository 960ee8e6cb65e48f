"""Session plans, computed off the event loop.

A plan (``facilitation.schedule``) can take a second of pure Python; it runs
in a worker process this object owns, so deliveries, acks and timers never
wait for it. After joins, leaves and presence changes, the next round of a
running plan is re-planned (debounced) and cached; a preview that asks for
exactly that plan gets it at once. The decision stays pure: the plan is
passed into ``breakouts.preview`` as data and logged in the round's event.
"""

import asyncio
import logging
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from facilitation.breakouts import assignable
from facilitation.encounters import Encounters
from facilitation.plans import PlanRequest, plan_request
from facilitation.rounds import Strategy
from facilitation.schedule import Plan
from facilitation.session import Session
from server.connections import Connections
from server.hub import Hub, MeetingNotFound
from server.scheduler import Scheduler

log = logging.getLogger("ledarstig.planner")

DEBOUNCE_S = 0.5


def continuing_seed(s: Session) -> int | None:
    """The seed of the next round of a running plan (the last round's, plus one)."""
    last = s.last_opened()
    if last is None or not last.plan or not last.plan.get("next"):
        return None
    return (last.seed + 1) % 2**31


class Planner:
    def __init__(self, executor: Executor | None = None,
                 scheduler: Scheduler | None = None) -> None:
        self._executor = executor
        self._owned = executor is None
        self._scheduler = scheduler  # debounced re-plans wait on it (and so on its clock)
        self._cache: dict[str, tuple[PlanRequest, Plan]] = {}
        self._running: dict[PlanRequest, asyncio.Future[Plan]] = {}
        self._pending: set[str] = set()
        self._jobs: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.computed = 0  # plans actually computed (not served from the cache)

    def later(self, meeting: str, delay_s: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` once ``delay_s`` passed without another call for ``meeting``."""
        if self._scheduler is None:
            raise RuntimeError("a planner without a scheduler cannot debounce")
        self._idle.clear()
        self._pending.add(meeting)

        async def start() -> None:
            self._pending.discard(meeting)
            task = asyncio.ensure_future(job())
            self._jobs.add(task)
            task.add_done_callback(self._finished)

        self._scheduler.after(_key(meeting), delay_s, start)

    def _finished(self, task: "asyncio.Future[Any]") -> None:
        if isinstance(task, asyncio.Task):
            self._jobs.discard(task)
        if not self._pending and not self._jobs and not self._running:
            self._idle.set()

    async def idle(self) -> None:
        """Until no re-plan is due, queued or running."""
        await self._idle.wait()

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    async def plan(self, meeting: str, request: PlanRequest) -> Plan:
        """The plan for ``request``: cached, being computed, or computed now."""
        cached = self._cache.get(meeting)
        if cached is not None and cached[0] == request:
            return cached[1]
        try:
            plan = await self._computed(request)
        except BrokenProcessPool:  # the worker died (killed, out of memory): a new one
            log.warning("planning worker lost; starting a new one")
            if self._owned:
                self._executor = None
            plan = await self._computed(request)
        self._cache[meeting] = (request, plan)
        return plan

    async def _computed(self, request: PlanRequest) -> Plan:
        future = self._running.get(request)
        if future is None:
            loop = asyncio.get_running_loop()
            future = asyncio.ensure_future(loop.run_in_executor(self._pool(), request.run))
            self._running[request] = future
            self._idle.clear()

            def finished(done: "asyncio.Future[Plan]") -> None:
                self._running.pop(request, None)
                self._finished(done)

            future.add_done_callback(finished)
            self.computed += 1
        return await asyncio.shield(future)

    def next_request(self, s: Session, online: set[str],
                     encounters_of: Callable[[], Encounters]) -> PlanRequest | None:
        """What the next preview of a running plan will ask for, as things are now."""
        seed = continuing_seed(s)
        last = s.last_opened()
        if seed is None or last is None or last.plan is None:
            return None
        people = assignable(s, online, include_away=False)
        if not people:
            return None
        try:
            return plan_request(s, strategy=Strategy.MIX,
                                group_count=last.plan.get("group_count"),
                                group_size=last.plan.get("group_size"), rounds=None,
                                people=people, seed=seed, encounters=encounters_of())
        except Exception:  # e.g. too few people left for the groups: plan at preview
            return None

    def forget(self, meeting: str) -> None:
        self._cache.pop(meeting, None)

    def close(self) -> None:
        if self._scheduler is not None:
            for meeting in self._pending:
                self._scheduler.cancel(_key(meeting))
        self._pending.clear()
        for task in self._jobs:
            task.cancel()
        if self._owned and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


class NextRound:
    """After joins, leaves, presence changes and rounds, re-plan the next round of a
    running plan (debounced), so that the facilitator's preview finds it cached."""

    def __init__(self, planner: Planner, hub: Hub, conns: Connections) -> None:
        self._planner, self._hub, self._conns = planner, hub, conns

    def changed(self, meeting: str) -> None:
        try:
            state = self._hub.get(meeting).state
        except MeetingNotFound:
            return
        if continuing_seed(state) is not None:
            self._planner.later(meeting, DEBOUNCE_S, lambda: self.replan(meeting))

    async def replan(self, meeting: str) -> None:
        try:
            live = self._hub.get(meeting)
        except MeetingNotFound:
            return
        request = self._planner.next_request(live.state, set(self._conns.online_set(meeting)),
                                             lambda: self._hub.encounters(meeting))
        if request is not None:
            try:
                await self._planner.plan(meeting, request)
            except Exception as exc:  # shown to the facilitator at the preview
                log.info("re-planning %s failed: %s", meeting, exc)
def _key(meeting: str) -> str:
    return f"replan:{meeting}"
