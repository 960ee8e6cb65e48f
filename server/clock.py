"""The clock port: wall time for the log, monotonic time for timers.

Everything in ``server/`` that depends on time asks a ``Clock``: the log's
timestamps, the scheduler's waits (grace periods, round deadlines, debounces,
join and handshake timeouts), rate limits and token expiry. ``SystemClock``
is the real one; ``FakeClock`` moves only when a test advances it, and wakes
whatever waits on it then, so tests never sleep through a timer.
"""

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock milliseconds since the epoch, as written in the log."""

    def monotonic(self) -> float: ...

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        """Until ``wake`` is set or ``monotonic()`` reaches ``until`` (``None``: no
        deadline). May return early: callers look at the time again."""


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel.
        try:
            async with asyncio.timeout(None if until is None else until - time.monotonic()):
                await wake.wait()
        except TimeoutError:
            pass


class FakeClock:
    """A clock that stands still until ``advance`` moves it (wall and monotonic
    time together); advancing wakes every ``wait`` whose moment has come.

    With ``flowing=True`` it runs at the real pace as well and ``advance`` jumps
    ahead (as Playwright's page clock does after ``install``): for browser tests,
    whose pages keep talking and whose rate limits must refill.

    Starts at the real wall time unless told otherwise, so what a browser
    computes from the server's time stays plausible."""

    def __init__(self, now_ms: int | None = None, monotonic: float = 1000.0,
                 flowing: bool = False) -> None:
        self._wall0 = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        self._mono0 = monotonic
        self._real0 = time.monotonic() if flowing else None
        self._skipped = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    @property
    def _elapsed(self) -> float:
        flowed = 0.0 if self._real0 is None else time.monotonic() - self._real0
        return self._skipped + flowed

    def now_ms(self) -> int:
        return self._wall0 + round(self._elapsed * 1000)

    def monotonic(self) -> float:
        return self._mono0 + self._elapsed

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds`` and wake whoever waits for a moment now passed.
        The woken run at the event loop's next turn: await what they do, not this."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._skipped += seconds
        now, waiting = self.monotonic(), []
        for until, ring in self._sleepers:
            if until <= now:
                if not ring.done():
                    ring.set_result(None)
            else:
                waiting.append((until, ring))
        self._sleepers = waiting

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        if wake.is_set() or (until is not None and until <= self.monotonic()):
            return
        woken: asyncio.Future[object] = asyncio.ensure_future(wake.wait())
        waits = {woken}
        if until is not None:
            ring: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._sleepers.append((until, ring))
            waits.add(ring)  # type: ignore[arg-type]
        # Flowing, the moment also comes by itself.
        timeout = None if until is None or self._real0 is None else until - self.monotonic()
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            self._sleepers = [(u, r) for u, r in self._sleepers if r not in waits]


async def sleep(clock: Clock, seconds: float) -> None:
    """Sleep ``seconds`` of ``clock``'s time."""
    end, never = clock.monotonic() + seconds, asyncio.Event()
    while clock.monotonic() < end:
        await clock.wait(never, end)
