"""The scheduler survives failing jobs and drops cancelled ones (order and timing
with a fake clock: tests/unit/test_clock.py)."""

import asyncio
import contextlib

from server.clock import FakeClock
from server.scheduler import Scheduler


async def test_a_failing_job_does_not_stop_the_scheduler() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    done = asyncio.Event()

    async def boom() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.set()

    task = asyncio.create_task(sched.run())
    try:
        sched.after("boom", 0, boom)
        sched.after("ok", 10, ok)
        clock.advance(10)
        await asyncio.wait_for(done.wait(), 2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_cancelled_jobs_do_not_pile_up() -> None:
    sched = Scheduler(FakeClock())

    async def never() -> None:
        raise AssertionError("cancelled jobs must not run")

    for i in range(1000):
        sched.after(f"ice:{i}", 3600, never)
        sched.cancel(f"ice:{i}")
    sched.after("kept", 3600, never)
    assert sched.pending("kept") and len(sched._heap) < 100
