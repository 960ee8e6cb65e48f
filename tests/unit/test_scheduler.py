"""The scheduler fires jobs at their time, replaces and cancels them."""

import asyncio
import contextlib

from server.clock import SystemClock
from server.scheduler import Scheduler


async def test_jobs_fire_in_order_and_can_be_replaced_or_cancelled() -> None:
    sched = Scheduler(SystemClock())
    fired: list[str] = []
    done = asyncio.Event()

    def job(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            fired.append(name)
            if name == "last":
                done.set()
        return run

    task = asyncio.create_task(sched.run())
    try:
        sched.after("b", 0.06, job("b"))
        sched.after("a", 0.03, job("a"))
        sched.after("gone", 0.02, job("gone"))
        sched.cancel("gone")
        sched.after("x", 0.01, job("x-old"))
        sched.after("x", 0.04, job("x"))
        sched.at_wall("last", SystemClock().now_ms() + 80, job("last"))
        await asyncio.wait_for(done.wait(), 2)
        assert fired == ["a", "x", "b", "last"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_failing_job_does_not_stop_the_scheduler() -> None:
    sched = Scheduler(SystemClock())
    done = asyncio.Event()

    async def boom() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.set()

    task = asyncio.create_task(sched.run())
    try:
        sched.after("boom", 0, boom)
        sched.after("ok", 0.01, ok)
        await asyncio.wait_for(done.wait(), 2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_cancelled_jobs_do_not_pile_up() -> None:
    sched = Scheduler(SystemClock())

    async def never() -> None:
        raise AssertionError("cancelled jobs must not run")

    for i in range(1000):
        sched.after(f"ice:{i}", 3600, never)
        sched.cancel(f"ice:{i}")
    sched.after("kept", 3600, never)
    assert sched.pending("kept") and len(sched._heap) < 100
