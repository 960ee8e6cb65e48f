"""Per-connection flood control: a token bucket."""


class TokenBucket:
    """Allows ``rate`` events a second on average, bursts up to ``burst``."""

    __slots__ = ("_rate", "_burst", "_tokens", "_last", "strikes")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now
        self.strikes = 0

    def allow(self, now: float, cost: float = 1.0) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            self.strikes = 0
            return True
        self.strikes += 1
        return False
