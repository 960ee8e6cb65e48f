"""Organisers' browser sessions shared by every process (``--redis-url``).

The pages ask ``Sessions.get`` synchronously, so the request's own session is made
current before the handler runs (``sessions_middleware`` reads it from Redis, or drops
a local copy Redis no longer has: signed out elsewhere), and whatever the handler
opened or closed is written to Redis before its response leaves (a redirect to another
process must find the session there).
"""

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from aiohttp import web

from server.organisers.sessions import COOKIE, OrganiserSession, Sessions
from server.store import StoreError
from server.store.redis_store import RedisStore

_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder(tuple[str, str, int]).decode


class RedisSessions(Sessions):
    def __init__(self, store: RedisStore) -> None:
        super().__init__()
        self.store = store
        self.key = f"{store.prefix}organiser-sessions"
        self.pending: list[tuple[bool, OrganiserSession]] = []

    def open(self, account: str, now_ms: int) -> OrganiserSession:
        session = super().open(account, now_ms)
        self.pending.append((True, session))
        return session

    def close(self, session_id: str) -> None:
        session = self._by_id.get(session_id)
        super().close(session_id)
        if session is not None:
            self.pending.append((False, session))

    async def load(self, session_id: str) -> None:
        raw = await self.store.call(self.store.redis.hget(self.key, session_id))
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
        for opened, s in pending:
            if opened:
                pipe.hset(self.key, s.id, _pack((s.account, s.csrf, s.expires_at)))
            else:
                pipe.hdel(self.key, s.id)
        await self.store.call(pipe.execute())


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
            sessions._by_id.pop(session_id, None)  # cannot check it: not signed in
    try:
        return await handler(request)  # type: ignore[no-any-return]
    finally:
        await sessions.flush()


async def sessions_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the workspace is up: its sessions live in Redis."""
    from server.keys import STORE
    from server.organisers import WORKSPACE
    store = app[STORE]
    if isinstance(store, RedisStore):
        app[WORKSPACE].sessions = RedisSessions(store)
    yield
