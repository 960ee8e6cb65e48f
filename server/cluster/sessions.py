"""Organisers' browser sessions shared by every process (``--redis-url``).

The pages ask ``Sessions.get`` synchronously, so the request's own session is made
current before the handler runs (``sessions_middleware`` reads it from Redis, or drops
a local copy Redis no longer has: signed out elsewhere), and whatever the handler
opened or closed is written to Redis before its response leaves (a redirect to another
process must find the session there). Each session is its own key, expiring when the
session does, so Redis holds no session past its end.

The sign-in throttle counts failures in Redis too (``RedisSignInThrottle``): guesses
spread over the processes count together.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from aiohttp import web

from server.i18n import negotiate, translate
from server.organisers.sessions import (
    COOKIE,
    TTL_MS,
    OrganiserSession,
    Sessions,
    SignInThrottle,
)
from server.store import StoreError
from server.store.redis_store import RedisStore

_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[str, str, int]).decode


class RedisSessions(Sessions):
    def __init__(self, store: RedisStore, ttl_ms: int = TTL_MS) -> None:
        super().__init__(ttl_ms)
        self.store = store
        self.pending: list[tuple[OrganiserSession, int | None]] = []  # None: closed

    def key(self, session_id: str) -> str:
        return f"{self.store.prefix}organiser-session:{session_id}"

    def open(self, account: str, now_ms: int) -> OrganiserSession:
        session = super().open(account, now_ms)
        self.pending.append((session, max(1, session.expires_at - now_ms)))
        return session

    def close(self, session_id: str) -> None:
        session = self._by_id.get(session_id)
        super().close(session_id)
        if session is not None:
            self.pending.append((session, None))

    async def load(self, session_id: str) -> None:
        raw = await self.store.call(self.store.redis.get(self.key(session_id)))
        if raw is None:
            self._by_id.pop(session_id, None)
            return
        account, csrf, expires_at = _unpack(raw)
        self._by_id[session_id] = OrganiserSession(session_id, account, csrf, expires_at)

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        pipe = self.store.redis.pipeline(transaction=False)
        for s, ttl_ms in pending:
            if ttl_ms is None:
                pipe.delete(self.key(s.id))
            else:
                pipe.set(self.key(s.id), _pack((s.account, s.csrf, s.expires_at)), px=ttl_ms)
        await self.store.call(pipe.execute())


class RedisSignInThrottle(SignInThrottle):
    """Failures per username in one Redis counter for every process; it expires
    ``window_ms`` after the first failure it counts."""

    def __init__(self, store: RedisStore, limit: int = 5, window_ms: int = 15 * 60 * 1000
                 ) -> None:
        super().__init__(limit, window_ms)
        self.store = store

    def key(self, username: str) -> str:
        return f"{self.store.prefix}signin-failures:{username}"

    async def blocked(self, username: str, now_ms: int) -> bool:
        count = await self.store.call(self.store.redis.get(self.key(username)))
        return count is not None and int(count) >= self._limit

    async def failed(self, username: str, now_ms: int) -> None:
        pipe = self.store.redis.pipeline(transaction=True)
        pipe.incr(self.key(username))
        pipe.pexpire(self.key(username), self._window, nx=True)
        await self.store.call(pipe.execute())

    async def succeeded(self, username: str) -> None:
        await self.store.call(self.store.redis.delete(self.key(username)))


@web.middleware
async def sessions_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    from server.organisers import WORKSPACE
    workspace = request.app.get(WORKSPACE)
    sessions = getattr(workspace, "sessions", None)
    if not isinstance(sessions, RedisSessions):
        return await handler(request)  # type: ignore[no-any-return]
    session_id = request.cookies.get(COOKIE)
    if session_id:
        try:
            await sessions.load(session_id)
        except StoreError:
            # Redis down: the session cannot be checked. Not "signed out" (a sign-in
            # page that could not sign anyone in either): unavailable, try again.
            lang = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
            return web.Response(status=503, text=translate(lang, "store.unavailable"),
                                headers={"Retry-After": "5"})
    try:
        return await handler(request)  # type: ignore[no-any-return]
    finally:
        await sessions.flush()


async def sessions_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the workspace is up: its sessions and sign-in throttle live in Redis."""
    from server.keys import STORE
    from server.organisers import WORKSPACE
    store = app[STORE]
    if isinstance(store, RedisStore):
        app[WORKSPACE].sessions = RedisSessions(store)
        app[WORKSPACE].throttle = RedisSignInThrottle(store)
        with contextlib.suppress(StoreError):  # the one hash of earlier versions, never pruned
            await store.call(store.redis.delete(f"{store.prefix}organiser-sessions"))
    yield
