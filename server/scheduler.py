"""Timers as data: jobs keyed by name, fired by one owned task.

The domain records *when* something is due (a round's deadline, the end of
a grace period); this scheduler only makes it happen at that moment. Jobs
that fall due together run concurrently (so one waiting on the store does
not delay the next), as tasks the scheduler owns and cancels when it stops;
a failing job is logged and does not stop the others. It waits on its
clock, never on the event loop's own timers, so a test's ``FakeClock`` drives it.
"""

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable

from server.clock import Clock

log = logging.getLogger("ledarstig.scheduler")

Job = Callable[[], Awaitable[None]]


class Scheduler:
    def __init__(self, clock: Clock, on_lateness: Callable[[float], None] | None = None) -> None:
        self._clock = clock
        self._on_lateness = on_lateness or (lambda seconds: None)
        self._heap: list[tuple[float, int, str]] = []
        self._jobs: dict[str, tuple[float, int, Job]] = {}
        self._counter = itertools.count()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._watched: dict[str, asyncio.Event] = {}

    def at_wall(self, key: str, at_ms: int, job: Job) -> None:
        """Run ``job`` at wall-clock ``at_ms`` (at once if that has passed)."""
        self.after(key, max(0.0, (at_ms - self._clock.now_ms()) / 1000), job)

    def after(self, key: str, delay_s: float, job: Job) -> None:
        """Run ``job`` after ``delay_s`` seconds, replacing any job of that key."""
        due = self._clock.monotonic() + delay_s
        tick = next(self._counter)
        self._jobs[key] = (due, tick, job)
        # The loop waits for the heap's first moment: only an earlier one must wake it
        # (a join storm arms two timeouts per connection, all later than the first).
        if not self._heap or due < self._heap[0][0]:
            self._wake.set()
        heapq.heappush(self._heap, (due, tick, key))
        if self._watched and key in self._watched:
            self._watched.pop(key).set()

    def cancel(self, key: str) -> None:
        self._jobs.pop(key, None)
        if len(self._heap) > 2 * len(self._jobs) + 64:  # drop cancelled entries now and then
            self._heap = [(due, tick, k) for k, (due, tick, _) in self._jobs.items()]
            heapq.heapify(self._heap)

    def pending(self, key: str) -> bool:
        return key in self._jobs

    async def armed(self, key: str) -> None:
        """Until a job ``key`` is pending: a test that drives a fake clock advances past
        a timer the server arms on its own only once it is armed."""
        if key not in self._jobs:
            await self._watched.setdefault(key, asyncio.Event()).wait()

    async def run(self) -> None:
        """Fire jobs as they fall due, until cancelled (then cancel what runs)."""
        try:
            await self._loop()
        finally:
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            for key, due, job in self._due():
                self._on_lateness(self._clock.monotonic() - due)
                task = asyncio.create_task(self._guarded(key, job), name=f"job:{key}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            # The clock decides when the next job is due: a fake one when a test advances it.
            await self._clock.wait(self._wake, self._heap[0][0] if self._heap else None)

    @staticmethod
    async def _guarded(key: str, job: Job) -> None:
        try:
            await job()
        except Exception:
            log.exception("scheduled job %s failed", key)

    def _due(self) -> list[tuple[str, float, Job]]:
        now = self._clock.monotonic()
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, tick, key = heapq.heappop(self._heap)
            current = self._jobs.get(key)
            if current is not None and current[1] == tick:
                del self._jobs[key]
                due.append((key, at, current[2]))
        return due
