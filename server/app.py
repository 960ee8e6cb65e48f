"""The aiohttp application: wiring of store, hub, scheduler and gateway.

Everything with a lifetime is set up and torn down in ``cleanup_ctx``
generators, in order: store, then the live side (hub, scheduler, gateway).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from rooms.board import BoardLimits
from server import api, authz, edge, review_pages
from server import pages as organiser_pages
from server import web as pages
from server.boards import Boards
from server.clock import Clock, SystemClock
from server.config import Settings
from server.connections import Connections
from server.credentials import load_or_create
from server.dispatcher import Dispatcher, Services
from server.fanout import SocketFanout
from server.gateway import Gateway, Tools
from server.gc_policy import GcPolicy
from server.handlers import register_all
from server.handlers.sfu import SfuEvents
from server.hub import CHECKPOINT_EVERY, Hub
from server.keys import (
    BOARDS,
    CLOCK,
    CREDENTIALS,
    DISPATCHER,
    GATEWAY,
    HUB,
    METRICS,
    SETTINGS,
    STORE,
    TOKENS,
    VIDEO,
)
from server.logs import redact_unparsable_requests
from server.media_plans import IceRefresh, MediaPlans
from server.metrics import Metrics
from server.organisers import workspace_ctx
from server.planner import NextRound, Planner
from server.presence_log import PresenceLog
from server.retention import retention_ctx
from server.round_timer import RoundTimer
from server.scheduler import Scheduler
from server.sfu.videorooms import VideoRooms
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
    app[CLOCK] = clock = clock or SystemClock()
    app[TOKENS] = Tokens(creds.secret_key, settings.invite_ttl_s, settings.resume_ttl_s, clock)
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
    app.cleanup_ctx.append(review_pages.review_ctx)  # indexes meetings as they end
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
                metrics.redis_connections.set_function(shared.connections_opened)
                app[STORE] = shared
                yield
            return
        path = app[SETTINGS].data_dir / STORE_FILE
        async with SQLiteStore(path, on_commit=lambda s, n: metrics.store_commit.observe(s)) as st:
            app[STORE] = st
            yield
    return ctx


async def _live_side(app: web.Application, clock: Clock, scheduler: Scheduler,
                     sio: SocketServer) -> tuple[Hub, Gateway, VideoRooms, Any]:
    """The hub (recovered), the dispatcher and what it serves with, the gateway and its
    commands; timers re-armed for what the log says is due. With ``--redis-url`` the
    cluster's variants of the connections, the fan-out port and the round timer, and
    this process's ``Node`` (server/cluster), started; else the node is None."""
    settings, metrics = app[SETTINGS], app[METRICS]
    cluster = settings.redis_url is not None  # server/cluster: several processes
    if cluster:
        from server.cluster import ClusterConnections, ClusterFanout, ClusterRoundTimer, Node
    conns = ClusterConnections() if cluster else Connections()
    fanout = ClusterFanout(sio) if cluster else SocketFanout(sio)
    dispatcher = app[DISPATCHER] = Dispatcher(fanout, conns, metrics)
    board_limits = BoardLimits(max_update_bytes=settings.board_max_update_bytes,
                               max_elements=settings.board_max_elements)
    hub = Hub(app[STORE], dispatcher, clock, settings.snapshot_every, board_limits,
              checkpoint_every=CHECKPOINT_EVERY if cluster else 0)  # a lost race: hub.py
    seconds = await hub.recover()
    metrics.recovery.set(seconds)
    _count(metrics, hub, sio)
    if cluster:
        metrics.count("ledarstig_relays_dropped", "Relayed messages (signals, presence) "
                      "dropped because Redis did not answer.",
                      lambda: fanout.dropped)  # type: ignore[attr-defined]
    log.info("recovered %d meetings in %.3f s", len(hub.all()), seconds)
    gateway = Gateway(sio, hub, conns, fanout, dispatcher,
                      Tools(app[TOKENS], scheduler, clock, settings, metrics))
    app[BOARDS] = Boards(app[STORE], hub)
    video = app[VIDEO] = VideoRooms(settings)
    planner = Planner(scheduler=scheduler)
    gateway.closers.append(planner.close)
    register_all(gateway, video, planner)
    timer = (ClusterRoundTimer(hub, app[STORE], clock) if cluster  # type: ignore[arg-type]
             else RoundTimer(hub, scheduler, clock))
    presence = PresenceLog(hub, conns, scheduler, clock, settings.presence_debounce_s)
    media = MediaPlans(hub, conns, fanout, video, settings.publisher_cap)
    SfuEvents(gateway, video, dispatcher, media)
    dispatcher.serve(Services(
        hub=hub, timer=timer, presence=presence, video=video, media=media,
        ice=IceRefresh(settings, scheduler, clock, conns, fanout),
        next_round=NextRound(planner, hub, conns)))
    node = (Node(app, app[STORE], hub, gateway, fanout, dispatcher, conns,  # type: ignore[arg-type]
                 timer) if cluster else None)
    if node is not None:
        from server.sfu.shared import SharedRooms
        video.share(SharedRooms(app[STORE], node.proc))  # one Janus, rooms shared
        hub.on_release = video.forget  # its VideoRoom stays in Janus for the others
        await node.start()  # knows who is online elsewhere before any grace is armed
    gateway.start_grace_after_restart()
    presence.after_restart()
    timer.sync_all()
    return hub, gateway, video, node


def _live_ctx(clock: Clock, scheduler: Scheduler, sio: SocketServer):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        hub, gateway, video, node = await _live_side(app, clock, scheduler, sio)
        app[review_pages.REVIEW] = review_pages.Review(app[STORE])
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


def _count(metrics: Metrics, hub: Hub, sio: SocketServer) -> None:
    """Counters the hub and the socket server keep, on /metrics."""
    metrics.count("ledarstig_meetings_reloaded", "Broken meetings (a refused append) "
                  "brought back by a reload from the log.", lambda: hub.reloads)
    metrics.count("ledarstig_meetings_caught_up", "Broken meetings brought back by reading "
                  "only the events they missed (several processes).", lambda: hub.caught_up)
    metrics.count("ledarstig_append_conflicts", "Appends another process made first, each "
                  "one a catch-up (several processes).", lambda: hub.conflicts)
    metrics.count("ledarstig_meetings_released", "Meetings released after no one here used "
                  "them for a while (several processes).", lambda: hub.released)
    metrics.count("ledarstig_backlog_cuts", "Connections closed for not reading what they "
                  "were sent (over the backlog limit).", lambda: sio.backlog_cuts)
