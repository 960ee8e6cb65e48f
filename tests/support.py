"""Test helpers: a real server on an ephemeral port, real Socket.IO clients."""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from server.app import create_app
from server.clock import Clock, FakeClock
from server.config import Settings
from server.http import Runner
from server.keys import GATEWAY

ADMIN_TOKEN = "test-admin-token"
SECRET = "test-secret-key"


class Inbox:
    """Everything one client received, awaitable by predicate."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()

    async def put(self, name: str, data: Any) -> None:
        async with self._changed:
            self.items.append((name, data))
            self._changed.notify_all()

    async def wait(self, name: str, pred: Callable[[Any], bool] = lambda d: True,
                   timeout: float = 5.0) -> Any:
        async def found() -> Any:
            async with self._changed:
                while True:
                    for n, d in self.items:
                        if n == name and pred(d):
                            return d
                    await self._changed.wait()
        return await asyncio.wait_for(found(), timeout)

    def named(self, name: str) -> list[Any]:
        return [d for n, d in self.items if n == name]

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        return [d for d in self.named("event") if type_ is None or d["type"] == type_]


class Client:
    """A real python-socketio client that records what it receives."""

    def __init__(self, server: "RunningServer", token: str,
                 transports: tuple[str, ...] | None = None, **auth: Any) -> None:
        self.server = server
        self.transports = list(transports or server.transports)
        self.sio = socketio.AsyncClient(reconnection=False,
                                        serializer="msgpack" if server.serializer == "msgpack"
                                        else "default")
        self.inbox = Inbox()
        self._also: dict[str, list[Callable[[Any], None]]] = {}
        self.auth: dict[str, Any] = {"token": token, **auth}
        self.participant: str | None = None
        self.resume_token: str | None = None
        self.connect_error: Any = None
        for name in ("event", "welcome", "presence", "session.replaced", "signal",
                     "peers", "board.state", "board.update", "media", "closing",
                     "meeting"):
            self.sio.on(name, self._recorder(name))
        self.sio.on("connect_error", self._on_connect_error)
        self._gone = asyncio.Event()
        self.sio.on("disconnect", self._on_disconnect)

    def also(self, name: str, listener: Callable[[Any], None]) -> None:
        """Call ``listener`` with every ``name`` message as it arrives, in the server's
        order (before the handler's first await), besides recording it."""
        self._also.setdefault(name, []).append(listener)

    def _recorder(self, name: str) -> Callable[[Any], Any]:
        async def record(data: Any = None) -> None:
            received = [(name, data)]
            if name == "welcome" and isinstance(data, dict) and "peers" in data:
                # A join's welcome carries the first peer plan; a client applies it as
                # a `peers` message (the browser does), and so it is recorded here.
                received.append(("peers", data["peers"]))
            for kind, payload in received:
                for listener in self._also.get(kind, ()):
                    listener(payload)
            for kind, payload in received:
                await self.inbox.put(kind, payload)
        return record

    async def _on_connect_error(self, data: Any) -> None:
        self.connect_error = data

    async def _on_disconnect(self, reason: Any = None) -> None:
        self._gone.set()

    async def disconnected(self, timeout: float = 3.0) -> bool:
        """Whether the server closed this connection within ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                await self._gone.wait()
        except TimeoutError:
            return False
        return not self.sio.connected

    async def connect(self) -> None:
        await self.sio.connect(self.server.url, auth=self.auth, transports=self.transports,
                               wait_timeout=5)

    async def call(self, event: str, data: Any = None, timeout: float = 5.0) -> Any:
        return await self.sio.call(event, data if data is not None else {}, timeout=timeout)

    async def ok(self, event: str, data: Any = None) -> dict[str, Any]:
        """Call ``event`` and insist on a successful acknowledgement; its data."""
        answer = await self.call(event, data)
        assert answer["ok"], answer
        return dict(answer["data"])

    async def join(self, name: str = "Anna", municipality: str = "Raseborg",
                   **extra: Any) -> dict[str, Any]:
        answer = await self.call("join", {"name": name, "municipality": municipality, **extra})
        assert answer["ok"], answer
        self.participant = answer["data"]["participant"]
        self.resume_token = answer["data"]["resume_token"]
        return answer

    def last_seq(self) -> int:
        seqs = [e["seq"] for e in self.inbox.events()]
        seqs += [w["seq"] for w in self.inbox.named("welcome")]
        return max(seqs, default=0)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


@dataclass
class RunningServer:
    settings: Settings
    runner: web.AppRunner
    port: int
    #: The server's clock: a ``FakeClock`` unless the test gave another. Tests advance
    #: it through grace periods, countdowns and timers instead of sleeping.
    clock: Clock = field(default_factory=FakeClock)
    clients: list[Client] = field(default_factory=list)
    #: How new clients connect: ("websocket",), ("polling",) or both (upgrade).
    transports: tuple[str, ...] = ("websocket",)

    @property
    def serializer(self) -> str:
        return self.settings.serializer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> web.Application:
        return self.runner.app

    async def advance(self, seconds: float) -> None:
        """Move the server's fake time on by ``seconds``, then give the event loop a few
        turns: a timer that fell due has run its decision (its event is in memory;
        await what it sends as usual)."""
        assert isinstance(self.clock, FakeClock), "this server runs on real time"
        self.clock.advance(seconds)
        for _ in range(20):
            await asyncio.sleep(0)

    async def armed(self, key: str, timeout: float = 5.0) -> None:
        """Until the server's scheduler holds the timer ``key`` (``grace:<meeting>:<pid>``,
        ``presence:<meeting>:<pid>``, ``round:<meeting>``, ``join:<sid>``...), for a test
        that advances past it after something the server does on its own time."""
        await asyncio.wait_for(self.app[GATEWAY].scheduler.armed(key), timeout)

    async def api(self, method: str, path: str, json: Any = None,
                  token: str | None = ADMIN_TOKEN) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as http, http.request(
                method, self.url + path, json=json, headers=headers) as resp:
            body = await resp.json(content_type=None) if resp.content_type.endswith("json") \
                else await resp.text()
            return resp.status, body

    async def create_meeting(self, title: str = "Ledarstig 1", cohort: str = "2026-A") -> str:
        status, body = await self.api("POST", "/api/meetings", {
            "title": title, "starts_at": "2026-12-01T09:00:00+02:00", "cohort": cohort})
        assert status == 201, body
        return str(body["id"])

    async def invites(self, meeting: str) -> dict[str, str]:
        status, body = await self.api("POST", f"/api/meetings/{meeting}/invites")
        assert status == 200, body
        return {role: link["token"] for role, link in body.items()}

    async def new_meeting(self, title: str = "Ledarstig 1",
                          cohort: str = "2026-A") -> "Meeting":
        """A meeting created through the REST API, with its invitation tokens."""
        meeting_id = await self.create_meeting(title, cohort)
        return Meeting(self, meeting_id, await self.invites(meeting_id))

    def client(self, token: str, transports: tuple[str, ...] | None = None,
               **auth: Any) -> Client:
        c = Client(self, token, transports, **auth)
        self.clients.append(c)
        return c

    async def stop(self) -> None:
        for c in self.clients:
            await c.close()
        self.clients.clear()
        await self.runner.cleanup()


async def start_server(data_dir: Path, serializer: str = "json", port: int = 0,
                       store: Any = None, clock: Clock | None = None,
                       **overrides: Any) -> RunningServer:
    """A server in this event loop. Its time stands still (a new ``FakeClock``) unless
    ``clock`` is given: pass the same ``FakeClock`` to a restarted server to keep its
    time, or ``SystemClock()`` for real time."""
    settings = replace(Settings(data_dir=data_dir, serializer=serializer,
                                admin_token=ADMIN_TOKEN, secret_key=SECRET,
                                log_json=False, gc_freeze=False), **overrides)
    clock = clock if clock is not None else FakeClock()
    runner = Runner(create_app(settings, store=store, clock=clock), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    return RunningServer(settings, runner, bound, clock=clock)


@dataclass
class Meeting:
    """A meeting on a running server, with its invitation tokens."""

    server: RunningServer
    id: str
    tokens: dict[str, str]

    async def participant(self, name: str = "Anna", municipality: str = "Raseborg",
                          **extra: Any) -> Client:
        c = self.server.client(self.tokens["participant"], meeting=self.id)
        await c.connect()
        await c.join(name, municipality, **extra)
        return c

    async def facilitator(self, name: str = "Fia", municipality: str = "Helsingfors") -> Client:
        c = self.server.client(self.tokens["facilitator"], meeting=self.id)
        await c.connect()
        await c.join(name, municipality)
        return c
