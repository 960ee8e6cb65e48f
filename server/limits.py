"""Flood control, per connection and per client address, and bounded logging.

Per connection: a token bucket decides which events are handled (``rate``
a second on average, bursts up to ``burst``); every refused event is
answered ``rate_limited`` and remembered. More than ``max_refusals``
refusals within ``window_s`` seconds is a flood: the connection is closed.
This does not depend on how the refusals are spread (a tight burst and a
client paced just above the rate are both caught), and it never resets
because a token refilled.

Per address: connection attempts in a sliding minute, and connections open
at once. Both bounds are far above what an office behind one NAT does.
"""

from collections import deque


class TokenBucket:
    """Allows ``rate`` events a second on average, bursts up to ``burst``."""

    __slots__ = ("_rate", "_burst", "_tokens", "_last", "_refusals", "_max_refusals",
                 "_window")

    def __init__(self, rate: float, burst: int, now: float, max_refusals: int = 100,
                 window_s: float = 10.0) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now
        # made at the first refusal: a deque costs ~0.7 KiB, and most connections
        # are never refused anything
        self._refusals: deque[float] | None = None
        self._max_refusals = max_refusals
        self._window = window_s

    def allow(self, now: float, cost: float = 1.0) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        self.refuse(now)
        return False

    def refuse(self, now: float) -> None:
        """Count a refusal (rate limit, or an event refused before it is handled)."""
        refusals = self._refusals
        if refusals is None:
            refusals = self._refusals = deque()
        refusals.append(now)
        while refusals and refusals[0] <= now - self._window:
            refusals.popleft()
        if len(refusals) > self._max_refusals + 1:  # bounded memory
            refusals.popleft()

    @property
    def flooding(self) -> bool:
        """More than ``max_refusals`` refusals within the last ``window_s`` seconds."""
        return self._refusals is not None and len(self._refusals) > self._max_refusals

    @property
    def strikes(self) -> int:
        """Refusals within the window (kept for metrics and tests)."""
        return 0 if self._refusals is None else len(self._refusals)


class AddressLimiter:
    """Connection attempts per address in a sliding window, and open connections."""

    def __init__(self, attempts: int, window_s: float, max_open: int) -> None:
        self._attempts = attempts
        self._window = window_s
        self._max_open = max_open
        self._seen: dict[str, deque[float]] = {}
        self._open: dict[str, int] = {}

    def admit(self, address: str, now: float) -> str | None:
        """Count an attempt; None if admitted, else why not."""
        times = self._seen.get(address)
        if times is None:
            times = self._seen[address] = deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._attempts:
            return "too many connection attempts"
        times.append(now)
        if self._open.get(address, 0) >= self._max_open:
            return "too many open connections"
        self._open[address] = self._open.get(address, 0) + 1
        if len(self._seen) > 4 * max(1, len(self._open)) + 1024:
            self._prune(now)
        return None

    def release(self, address: str) -> None:
        left = self._open.get(address, 0) - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)

    def open_count(self, address: str) -> int:
        return self._open.get(address, 0)

    def _prune(self, now: float) -> None:
        for address in [a for a, t in self._seen.items() if not t or t[-1] <= now - self._window]:
            del self._seen[address]


class LogThrottle:
    """At most one log line per kind every ``every_s`` seconds; counts the rest."""

    def __init__(self, every_s: float = 10.0) -> None:
        self._every = every_s
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def allow(self, kind: str, now: float) -> int | None:
        """None: stay quiet. Else: log now; the number suppressed since the last line."""
        last = self._last.get(kind)
        if last is not None and now - last < self._every:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return None
        self._last[kind] = now
        return self._suppressed.pop(kind, 0)
