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
