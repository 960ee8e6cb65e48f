"""The aiohttp application: wiring of store, hub, scheduler and gateway.

Everything with a lifetime is set up and torn down in ``cleanup_ctx``
generators, in order: store, then the live side (hub, scheduler, gateway).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from rooms import Event
from rooms.board import BoardLimits
from server import api, authz, edge, review_pages
from server import pages as organiser_pages
from server import web as pages
from server.boards import Boards
from server.broadcast import SocketBroadcaster
from server.clock import Clock, SystemClock
from server.config import Settings
from server.connections import Connections
from server.credentials import load_or_create
from server.gateway import Gateway
from server.gc_policy import GcPolicy
from server.handlers import register_all
from server.hub import Hub
from server.keys import (
    BOARDS,
    CREDENTIALS,
    GATEWAY,
    HUB,
    METRICS,
    SETTINGS,
    STORE,
    TOKENS,
    VIDEO,
)
from server.live import LiveMeeting
from server.logs import redact_unparsable_requests
from server.metrics import Metrics
from server.organisers import workspace_ctx
from server.presence_log import PresenceLog
from server.retention import retention_ctx
from server.round_timer import RoundTimer
from server.scheduler import Scheduler
from server.shutdown import on_shutdown
from server.sio import SocketServer
from server.store import LogStore, SQLiteStore
from server.tokens import Tokens

log = logging.getLogger("ledarstig.app")
STORE_FILE = "ledarstig.sqlite3"


def create_app(settings: Settings, store: LogStore | None = None,
               clock: Clock | None = None) -> web.Application:
    app = web.Application(middlewares=[edge.cors, api.admin_only],
                          client_max_size=settings.limits.max_message_bytes)
    app[SETTINGS] = settings
    redact_unparsable_requests()
    app[METRICS] = Metrics()
    if settings.redis_url:  # cluster: one secret key and admin token for every process
        from server.cluster import adopt_meetings, shared_credentials
        from server.cluster.sessions import sessions_ctx, sessions_middleware
        creds = shared_credentials(settings)
        app.middlewares.extend([adopt_meetings, sessions_middleware])
        app.on_startup.append(_serving)  # after every context above has started
    else:
        creds = load_or_create(settings.data_dir, settings.admin_token, settings.secret_key)
    app[CREDENTIALS] = creds
    app[TOKENS] = Tokens(creds.secret_key, settings.invite_ttl_s, settings.resume_ttl_s)
    clock = clock or SystemClock()
    scheduler = Scheduler(clock, on_lateness=app[METRICS].timer_lateness.observe)
    sio = SocketServer(settings, scheduler)
    app[edge.EDGE] = sio.edge
    sio.attach(app)
    app.cleanup_ctx.append(_store_ctx(store))
    app.cleanup_ctx.append(_live_ctx(clock, scheduler, sio))
    if settings.node_name:  # behind nginx: long-polling pinned to this process
        from server.cluster.pinning import pin_cookie
        app.on_response_prepare.append(pin_cookie)
    app.on_shutdown.append(on_shutdown)  # SIGTERM: tell every client, close, in < 2 s
    app.cleanup_ctx.append(workspace_ctx)
    if settings.redis_url:  # cluster: organiser sessions in Redis (server/cluster/sessions.py)
        app.cleanup_ctx.append(sessions_ctx)
    app.cleanup_ctx.append(retention_ctx)  # after the workspace: it reads cohorts
    app.add_routes(organiser_pages.routes())
    app.add_routes(api.routes())
    app.add_routes(review_pages.routes())
    app.add_routes(pages.routes())
    authz.require_routes(app.router)
    return app


async def _serving(app: web.Application) -> None:
    """Cluster: start-up done; Redis commands now fail fast (server/store/redis_store.py)."""
    serving = getattr(app[STORE], "serving", None)
    if serving is not None:
        serving()


def _store_ctx(given: LogStore | None):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if given is not None:
            app[STORE] = given
            yield
            return
        metrics = app[METRICS]
        if app[SETTINGS].redis_url:  # cluster (server/cluster): every log in Redis
            from server.store.redis_store import RedisStore
            async with RedisStore(app[SETTINGS].redis_url, startup_timeout_s=5.0) as shared:
                app[STORE] = shared
                yield
            return
        path = app[SETTINGS].data_dir / STORE_FILE
        async with SQLiteStore(path, on_commit=lambda s, n: metrics.store_commit.observe(s)) as st:
            app[STORE] = st
            yield
    return ctx


def _live_ctx(clock: Clock, scheduler: Scheduler, sio: SocketServer):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings, metrics = app[SETTINGS], app[METRICS]
        cluster = settings.redis_url is not None  # server/cluster: several processes
        if cluster:
            from server.cluster import ClusterConnections, ClusterRoundTimer, Node
        conns = ClusterConnections() if cluster else Connections()
        broadcaster = SocketBroadcaster(sio, conns)
        async def on_events(live: LiveMeeting, events: Sequence[Event]) -> None:
            for event in events:
                metrics.events.labels(event.type).inc()
            if any(e.type.startswith("round.") for e in events):
                timer.sync(live)

        hub = Hub(app[STORE], broadcaster, clock, settings.snapshot_every, [on_events])
        timer = (ClusterRoundTimer(hub, app[STORE], clock) if cluster  # type: ignore[arg-type]
                 else RoundTimer(hub, scheduler, clock))
        seconds = await hub.recover()
        metrics.recovery.set(seconds)
        log.info("recovered %d meetings in %.3f s", len(hub.all()), seconds)
        gateway = Gateway(sio, hub, conns, broadcaster, app[TOKENS], scheduler, clock,
                          settings, metrics)
        board_store = Boards(app[STORE], BoardLimits(
            max_update_bytes=settings.board_max_update_bytes,
            max_elements=settings.board_max_elements))
        app[BOARDS] = board_store
        video = register_all(gateway, board_store)
        app[VIDEO] = video
        node = (Node(app, app[STORE], hub, gateway, sio, conns, timer,  # type: ignore[arg-type]
                     board_store.forget_room, board_store.forget_meeting) if cluster else None)
        if node is not None:
            await node.start()  # knows who is online elsewhere before any grace is armed
        gateway.start_grace_after_restart()
        presence = PresenceLog(hub, conns, scheduler, clock, settings.presence_debounce_s)
        presence.attach(gateway)
        presence.after_restart()
        app[review_pages.REVIEW] = review_pages.Review(app[STORE])
        timer.sync_all()
        app[HUB], app[GATEWAY] = hub, gateway
        tasks = [asyncio.create_task(scheduler.run(), name="scheduler")]
        if settings.gc_freeze:
            tasks.append(asyncio.create_task(GcPolicy(released=lambda: sio.released).run(),
                                             name="gc"))
        try:
            async with video:
                yield
        finally:
            if node is not None:
                await node.stop()
            for close in gateway.closers:
                close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return ctx
