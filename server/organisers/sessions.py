"""Organisers' browser sessions: a random id in an HttpOnly, SameSite=Strict cookie
(Secure over TLS), and a per-session CSRF token every unsafe request must carry."""

import hmac
import secrets
from dataclasses import dataclass

COOKIE = "ledarstig_organiser"
TTL_MS = 12 * 3600 * 1000


@dataclass
class OrganiserSession:
    id: str
    account: str
    csrf: str
    expires_at: int  # wall-clock ms


class Sessions:
    def __init__(self, ttl_ms: int = TTL_MS) -> None:
        self._ttl = ttl_ms
        self._by_id: dict[str, OrganiserSession] = {}

    def open(self, account: str, now_ms: int) -> OrganiserSession:
        self._prune(now_ms)
        session = OrganiserSession(secrets.token_urlsafe(32), account,
                                   secrets.token_urlsafe(24), now_ms + self._ttl)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None, now_ms: int) -> OrganiserSession | None:
        session = self._by_id.get(session_id or "")
        if session is None:
            return None
        if session.expires_at <= now_ms:
            del self._by_id[session.id]
            return None
        return session

    def close(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def all(self) -> list[OrganiserSession]:
        return list(self._by_id.values())

    def _prune(self, now_ms: int) -> None:
        if len(self._by_id) > 1000:
            self._by_id = {k: s for k, s in self._by_id.items() if s.expires_at > now_ms}


def csrf_ok(session: OrganiserSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())


class SignInThrottle:
    """Slows password guessing: after ``limit`` failures for one username within
    ``window_ms``, that username is refused until the window has passed. Asynchronous:
    with several processes the counts live in Redis (``server.cluster.sessions``)."""

    def __init__(self, limit: int = 5, window_ms: int = 15 * 60 * 1000) -> None:
        self._limit, self._window = limit, window_ms
        self._failures: dict[str, list[int]] = {}

    async def blocked(self, username: str, now_ms: int) -> bool:
        recent = [t for t in self._failures.get(username, []) if now_ms - t < self._window]
        self._failures[username] = recent
        return len(recent) >= self._limit

    async def failed(self, username: str, now_ms: int) -> None:
        if len(self._failures) > 10_000:
            self._failures.clear()
        self._failures.setdefault(username, []).append(now_ms)

    async def succeeded(self, username: str) -> None:
        self._failures.pop(username, None)
