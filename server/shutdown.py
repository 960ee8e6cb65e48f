"""Stopping for a restart (SIGTERM) in well under 2 s, without losing a word.

aiohttp first stops accepting connections, then runs this (``on_shutdown``):
events already committed are let through the store, so their acks go out; every
connection is told ``server.restarting`` and then closed at the Engine.IO level
(each socket's queue, the notice included, is flushed first). A closed transport
is what a client reconnects from by itself, with its resume token and last seq.
A browser's engine.io-client ignores that close packet on a websocket; aiohttp's
short ``shutdown_timeout`` (``server/cli.py``) then cancels the websocket handlers,
and the dropped transport is what the client reconnects from. The store's own
teardown then writes whatever is still pending, and closes.
"""

import asyncio
import contextlib
import logging

from aiohttp import web

from server.fanout import ToConnections
from server.keys import GATEWAY, HUB

log = logging.getLogger("ledarstig.shutdown")
DRAIN_S = 0.5  # for committed events to become durable and be acknowledged
CLOSE_S = 0.7  # for every connection to get the notice and its close
RESTARTING = {"message": "The server is restarting; you will be reconnected."}


async def on_shutdown(app: web.Application) -> None:
    gateway, hub = app.get(GATEWAY), app.get(HUB)
    if gateway is None or hub is None:
        return  # start-up failed before the live side existed
    started = asyncio.get_running_loop().time()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            await asyncio.gather(*(live.drained() for live in hub.all()))
    gateway.stopping = True
    sids = list(gateway.conns.by_sid)
    if sids:
        await gateway.fanout.send("server.restarting", RESTARTING, ToConnections(tuple(sids)))
    try:
        async with asyncio.timeout(CLOSE_S):
            await gateway.sio.close_all()  # every socket: flush its queue, then close
    except TimeoutError:
        log.warning("some connections did not close in time")
    log.info("told %d connections of the restart and closed them in %.2f s", len(sids),
             asyncio.get_running_loop().time() - started)
