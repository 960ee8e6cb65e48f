"""The baseline: a bare python-socketio AsyncServer on aiohttp doing the benchmark's jobs.

    join {room}            -> enter_room, ack {"sid": sid}
    relay {to, payload}    -> emit "relay" {"from": sid, "payload": payload} to that sid, ack
    broadcast {payload}    -> emit "broadcast" {"from": sid, "payload": payload} to the
                              sender's room without the sender, ack

On start it prints one JSON line on stdout: {"event": "listening", "port": P, "pid": N}.
GC pauses are logged by bench/gcprobe (the runner puts it on PYTHONPATH), as for our
server. --gc-freeze measures one remedy: gc.freeze() once start-up is done.

    python -m bench.bare_server --port 0 --serializer json --loop asyncio
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    serializer: str
    loop: str
    gc_freeze: bool


class BareRelay:
    """The three handlers, and which room each sid joined."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.room_of: dict[str, str] = {}
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("join", self.join)
        sio.on("relay", self.relay)
        sio.on("broadcast", self.broadcast)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        return None

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        self.room_of.pop(sid, None)

    async def join(self, sid: str, data: dict[str, Any]) -> dict[str, str]:
        room = data["room"]
        await self.sio.enter_room(sid, room)
        self.room_of[sid] = room
        return {"sid": sid}

    async def relay(self, sid: str, data: dict[str, Any]) -> bool:
        await self.sio.emit("relay", {"from": sid, "payload": data["payload"]}, to=data["to"])
        return True

    async def broadcast(self, sid: str, data: dict[str, Any]) -> bool:
        message = {"from": sid, "payload": data["payload"]}
        await self.sio.emit("broadcast", message, room=self.room_of[sid], skip_sid=sid)
        return True


RELAY = web.AppKey("relay", BareRelay)


def make_app(settings: Settings) -> web.Application:
    serializer = "msgpack" if settings.serializer == "msgpack" else "default"
    sio = socketio.AsyncServer(
        async_mode="aiohttp", serializer=serializer, logger=False, engineio_logger=False
    )
    app = web.Application()
    sio.attach(app)
    app[RELAY] = BareRelay(sio)
    return app


async def serve(settings: Settings) -> None:
    runner = web.AppRunner(make_app(settings), shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    site = web.SockSite(runner, sock, backlog=4096)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.gc_freeze:
        gc.collect()
        gc.freeze()
    port = sock.getsockname()[1]
    print(json.dumps({"event": "listening", "port": port, "pid": os.getpid()}), flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def parse_args(argv: list[str] | None = None) -> Settings:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--serializer", choices=("json", "msgpack"), default="json")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after start-up")
    a = p.parse_args(argv)
    return Settings(a.host, a.port, a.serializer, a.loop, a.gc_freeze)


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    if settings.loop == "uvloop":
        import uvloop

        uvloop.run(serve(settings))
    else:
        asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
