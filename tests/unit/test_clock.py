"""The fake clock drives every timer: no server, no real waiting.

Each test here would hang (and fail on its timeout) if a timer still slept on
the event loop's real time; the timeouts are generous, the waits are not real.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from facilitation import breakouts as b
from facilitation.breakouts import RoundSpec
from rooms import SYSTEM, Event, Role
from server.clock import FakeClock, sleep
from server.effects import Effect, SyncTimer
from server.hub import Hub
from server.planner import Planner
from server.round_timer import RoundTimer
from server.scheduler import Scheduler
from server.store import MemoryStore
from server.tokens import TokenExpired, Tokens

T0 = 1_800_000_000_000


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[Scheduler]:
    task = asyncio.create_task(scheduler.run())
    try:
        yield scheduler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def turns(n: int = 5) -> None:
    """Let the event loop run what is ready (no time passes)."""
    for _ in range(n):
        await asyncio.sleep(0)


def test_fake_time_moves_only_when_advanced() -> None:
    clock = FakeClock(now_ms=T0, monotonic=50.0)
    assert (clock.now_ms(), clock.monotonic()) == (T0, 50.0)
    clock.advance(1.5)
    assert (clock.now_ms(), clock.monotonic()) == (T0 + 1500, 51.5)
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_a_wait_ends_when_its_moment_is_advanced_to_or_when_woken() -> None:
    clock = FakeClock()
    wake = asyncio.Event()
    waiter = asyncio.create_task(clock.wait(wake, clock.monotonic() + 10))
    await turns()
    clock.advance(9.9)
    await turns()
    assert not waiter.done()
    clock.advance(0.1)
    await asyncio.wait_for(waiter, 1)
    other = asyncio.create_task(clock.wait(wake, None))  # no deadline: only ``wake``
    await turns()
    clock.advance(3600)
    await turns()
    assert not other.done()
    wake.set()
    await asyncio.wait_for(other, 1)
    slept = asyncio.create_task(sleep(clock, 60))
    await turns()
    assert not slept.done()
    clock.advance(60)
    await asyncio.wait_for(slept, 1)


async def test_scheduler_fires_due_jobs_in_order_when_the_clock_is_advanced() -> None:
    clock = FakeClock(now_ms=T0)
    fired: list[str] = []
    all_done = asyncio.Event()

    def job(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            fired.append(name)
            if name == "wall":
                all_done.set()
        return run

    async with running(Scheduler(clock)) as sched:
        sched.after("b", 60, job("b"))
        sched.after("a", 30, job("a"))
        sched.after("gone", 20, job("gone"))
        sched.cancel("gone")
        sched.after("x", 10, job("x-old"))
        sched.after("x", 40, job("x"))  # replaces x-old
        sched.at_wall("wall", T0 + 3_600_000, job("wall"))
        clock.advance(29.999)
        await turns()
        assert fired == []
        clock.advance(0.001)
        await turns()
        assert fired == ["a"]
        clock.advance(30)  # x at 40, b at 60: both due now, in order
        await turns()
        assert fired == ["a", "x", "b"] and not sched.pending("b")
        assert sched.pending("wall")
        clock.advance(3600)
        await asyncio.wait_for(all_done.wait(), 1)
        assert fired == ["a", "x", "b", "wall"]


async def test_a_job_armed_while_the_scheduler_waits_is_woken_for() -> None:
    clock = FakeClock()
    done = asyncio.Event()

    async def ok() -> None:
        done.set()

    async with running(Scheduler(clock)) as sched:
        sched.after("far", 3600, ok)
        await turns()
        sched.after("near", 5, ok)  # earlier than what the scheduler waits for
        await turns()
        clock.advance(5)
        await asyncio.wait_for(done.wait(), 1)
        assert sched.pending("far") and not sched.pending("near")


async def test_a_wall_clock_moment_already_passed_fires_at_once() -> None:
    clock = FakeClock(now_ms=T0)
    done = asyncio.Event()

    async def ok() -> None:
        done.set()

    async with running(Scheduler(clock)) as sched:
        sched.at_wall("late", T0 - 5_000, ok)
        await asyncio.wait_for(done.wait(), 1)


async def test_lateness_is_measured_on_the_clock() -> None:
    clock = FakeClock()
    late: list[float] = []
    done = asyncio.Event()

    async def ok() -> None:
        done.set()

    async with running(Scheduler(clock, on_lateness=late.append)) as sched:
        sched.after("j", 10, ok)
        await turns()
        clock.advance(12.5)  # a loaded machine: the job runs 2.5 s after its time
        await asyncio.wait_for(done.wait(), 1)
    assert late == [2.5]


# -- the round timer on a hub with an in-memory store ----------------------------------


class Nowhere:
    """A dispatch that delivers nowhere and carries out only the timer's effect."""

    def __init__(self) -> None:
        self.timer: RoundTimer | None = None
        self.hub: Hub | None = None

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        return None

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        return True

    async def run(self, meeting: str, effects: Sequence[Effect]) -> None:
        if self.timer and self.hub and any(isinstance(e, SyncTimer) for e in effects):
            self.timer.sync(self.hub.get(meeting))


async def test_round_timer_warns_counts_down_and_closes_as_the_clock_advances() -> None:
    clock = FakeClock(now_ms=T0)
    sched = Scheduler(clock)
    dispatch = Nowhere()
    hub = dispatch.hub = Hub(MemoryStore(), dispatch, clock)
    dispatch.timer = RoundTimer(hub, sched, clock)
    live = await hub.create("Träff", "2026-12-01", "")
    await hub.execute(live.id, "f", lambda s: b.join(s, "f", Role.FACILITATOR, name="Fia",
                                                     municipality="Esbo"))
    for i, muni in enumerate(["Vasa", "Borgå", "Esbo", "Pargas"]):
        await hub.execute(live.id, f"p{i}", lambda s, i=i, muni=muni: b.join(  # type: ignore[misc]
            s, f"p{i}", Role.PARTICIPANT, name=f"P{i}", municipality=muni))
    spec = RoundSpec(group_count=2, duration_s=120, warning_s=60, closing_s=30)
    await hub.execute(live.id, "f", lambda s: b.preview(s, "f", "r1", spec, seed=3))
    await hub.execute(live.id, "f", lambda s: b.open_round(s, "f", clock.now_ms()))
    r = live.state.current()
    assert r is not None and r.deadline == T0 + 120_000

    async def phase_after(seconds: float) -> str:
        clock.advance(seconds)
        for _ in range(50):  # the job runs in its own task: let it finish
            await asyncio.sleep(0)
        current = live.state.current()
        return "closed" if current is None else str(current.phase)

    async with running(sched):
        await turns()
        assert not r.warned
        assert await phase_after(59.9) == "open" and not r.warned
        assert await phase_after(0.1) == "open" and r.warned  # one minute left
        assert await phase_after(60) == "closing"  # the deadline: 30 s of countdown
        assert r.closes_at == T0 + 150_000
        assert await phase_after(30) == "closed"
    kinds = [e.type for e in await hub._store.read(live.id) if e.actor == SYSTEM]
    assert kinds[-3:] == ["round.warned", "round.closing", "round.closed"]
    assert all(p.room == "plenary" for p in live.state.meeting.present())


# -- token expiry and the planner's debounce read the clock ---------------------------


def test_invitations_and_resume_tokens_expire_on_the_clock() -> None:
    clock = FakeClock(now_ms=T0)
    tokens = Tokens("secret", invite_ttl_s=3600, resume_ttl_s=600, clock=clock)
    invite, resume = tokens.invite("m", Role.PARTICIPANT), tokens.resume("m", "p")
    clock.advance(599)
    assert tokens.read_resume(resume).participant == "p"
    assert tokens.read_invite(invite).meeting == "m"  # now remembered as verified
    clock.advance(2)
    with pytest.raises(TokenExpired):
        tokens.read_resume(resume)
    assert tokens.resume("m", "p") == resume  # reused within the hour (monotonic)
    clock.advance(2998)
    assert tokens.read_invite(invite).meeting == "m"  # 3599 s: still valid, and remembered
    clock.advance(2)  # ... until it expires
    with pytest.raises(TokenExpired):
        tokens.read_invite(invite)
    assert tokens.resume("m", "p") != resume  # older than an hour: signed afresh


def test_a_token_signed_by_a_clock_a_little_ahead_is_not_expired() -> None:
    """Another process (behind the same Redis) may sign with a clock ahead of ours:
    up to a minute of skew is a valid token, not an expired one."""
    ours, theirs = FakeClock(now_ms=T0), FakeClock(now_ms=T0 + 30_000)
    signed = Tokens("secret", invite_ttl_s=3600, resume_ttl_s=600, clock=theirs)
    read = Tokens("secret", invite_ttl_s=3600, resume_ttl_s=600, clock=ours)
    assert read.read_resume(signed.resume("m", "p")).participant == "p"
    far = FakeClock(now_ms=T0 + 120_000)
    with pytest.raises(TokenExpired):
        read.read_resume(Tokens("secret", 3600, 600, clock=far).resume("m", "p"))


async def test_the_planner_debounce_waits_for_the_clock() -> None:
    clock = FakeClock()
    ran: list[str] = []

    async def job(name: str) -> None:
        ran.append(name)

    planner = Planner(scheduler=Scheduler(clock))
    assert planner._scheduler is not None
    async with running(planner._scheduler):
        planner.later("m", 20, lambda: job("first"))
        await turns()
        clock.advance(15)
        await turns()
        planner.later("m", 20, lambda: job("second"))  # restarts the wait
        await turns()
        clock.advance(15)
        await turns()
        assert ran == []
        idle = asyncio.create_task(planner.idle())
        await turns()
        assert not idle.done()
        clock.advance(5)
        await asyncio.wait_for(idle, 1)
        assert ran == ["second"]
    planner.close()


async def test_a_test_can_await_a_timer_being_armed() -> None:
    sched = Scheduler(FakeClock())

    async def never() -> None:
        raise AssertionError("not due")

    watcher = asyncio.create_task(sched.armed("grace:m:p"))
    await turns()
    sched.after("other", 5, never)
    await turns()
    assert not watcher.done()
    sched.after("grace:m:p", 60, never)
    await asyncio.wait_for(watcher, 1)
    await asyncio.wait_for(sched.armed("grace:m:p"), 1)  # already armed: at once


async def test_a_flowing_fake_clock_runs_by_itself_and_jumps_when_advanced() -> None:
    clock = FakeClock(flowing=True)
    start, done = clock.monotonic(), asyncio.Event()

    async def ok() -> None:
        done.set()

    async with running(Scheduler(clock)) as sched:
        sched.after("soon", 0.05, ok)  # comes by itself, in real time
        await asyncio.wait_for(done.wait(), 2)
        assert clock.monotonic() - start >= 0.05
        done.clear()
        sched.after("late", 3600, ok)  # an hour: only a jump gets there
        await turns()
        clock.advance(3600)
        await asyncio.wait_for(done.wait(), 1)
