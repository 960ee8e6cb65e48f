"""What a scenario runs against: a server (Target) and how clients speak to it (ClientProtocol).

A Target lives in the runner process: it starts and stops its server, and hands out one
Member per client (the room it belongs to, its auth). Its ClientProtocol is pickled into
each load-generator process and says how a client connects and joins its room, relays to
one peer, broadcasts to its room, and which incoming events are deliveries.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from .client import EventHandler, SioClient, websocket_url
from .framing import Codec
from .processes import ServerProcess

REPO = Path(__file__).resolve().parent.parent
GC_PROBE = Path(__file__).resolve().parent / "gcprobe"
SERIALIZERS = ("json", "msgpack")
LOOPS = ("asyncio", "uvloop")


@dataclass(frozen=True)
class Member:
    """One client's place in the plan; everything in it must pickle."""

    room: str
    auth: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ClientProtocol:
    """How a client of one target joins, relays and broadcasts. The default is the bare one."""

    socketio_path = "/socket.io/"
    supports: frozenset[str] = frozenset({"relay", "broadcast"})
    relay_acked = True
    broadcast_acked = True

    async def connect(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        codec: Codec,
        member: Member,
        on_event: EventHandler,
        compress: int = 0,
    ) -> tuple[SioClient, str]:
        """Connect, join the member's room; returns the client and the address peers relay to.

        Deliveries that echo the client's own messages back to it are not passed on, so
        every target counts deliveries to the others only."""
        me: list[str] = []

        def others_only(event: str, args: list[Any]) -> Any:
            if me and self.sender(event, args) == me[0]:
                return None
            return on_event(event, args)

        client = SioClient(codec, others_only)
        url = websocket_url(base_url, self.socketio_path)
        await client.connect(session, url, self.auth(member), compress=compress)
        me.append(await self.join(client, member))
        return client, me[0]

    def auth(self, member: Member) -> dict[str, Any] | None:
        return member.auth

    async def join(self, client: SioClient, member: Member) -> str:
        await client.call("join", {"room": member.room})
        assert client.sid is not None
        return client.sid

    def relay_event(self, to: str, payload: dict[str, Any]) -> tuple[str, list[Any]]:
        """The event name and arguments that relay payload to the peer addressed as `to`."""
        return "relay", [{"to": to, "payload": payload}]

    def broadcast_event(self, payload: dict[str, Any]) -> tuple[str, list[Any]]:
        """The event name and arguments that send payload to the rest of the sender's room."""
        return "broadcast", [{"payload": payload}]

    def ack_ok(self, ack: list[Any]) -> bool:
        """Whether an ack says the server did it (False: refused, e.g. rate limited)."""
        return bool(ack) and ack[0] is True

    def delivery(self, event: str, args: list[Any]) -> tuple[str, dict[str, Any]] | None:
        """("relay" | "broadcast", the sender's payload) for a delivery, else None."""
        if event in ("relay", "broadcast"):
            return event, args[0]["payload"]
        return None

    def sender(self, event: str, args: list[Any]) -> str | None:
        """The address of whoever sent a delivery (to drop a client's own echoes)."""
        return args[0].get("from") if event in ("relay", "broadcast") else None


class Target(Protocol):
    name: str
    client: ClientProtocol
    serializers: tuple[str, ...]
    loops: tuple[str, ...]

    def __init__(self, cpu: int | None = 0) -> None:
        """cpu: the core the server is pinned to (None: not pinned)."""

    @staticmethod
    def unavailable() -> str | None:
        """Why this target cannot run here, or None when it can."""

    def start(self, serializer: str, loop: str, log_dir: Path) -> str:
        """Start the server; returns its base URL, e.g. ws://127.0.0.1:PORT."""

    def plan(self, room_sizes: list[int]) -> list[list[Member]]:
        """One Member per client, grouped by room, for a started server."""

    @property
    def pid(self) -> int: ...

    def server_events(self) -> list[dict[str, Any]]:
        """JSON lines the server wrote to stderr (among them the GC probe's)."""

    def stop(self) -> None: ...


def server_env(**extra: str) -> dict[str, str]:
    """The environment for a benchmarked server: ours, plus the GC pause probe."""
    env = dict(os.environ, BENCH_GC_LOG="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(GC_PROBE), env.get("PYTHONPATH")) if p)
    return env


def gc_pauses(events: list[dict[str, Any]], begin: float, end: float) -> list[float]:
    """Milliseconds of each GC pause the probe logged between begin and end."""
    return [e["ms"] for e in events if e.get("event") == "bench.gc" and begin <= e["t"] <= end]


class TargetUnavailable(RuntimeError):
    """The target cannot run here (not built yet, or missing a dependency)."""


class ServedTarget:
    """What every target that runs a server subprocess shares."""

    _server: ServerProcess | None = None
    stop_timeout_s = 5.0

    @property
    def pid(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.pid

    def server_events(self) -> list[dict[str, Any]]:
        return self._server.stderr_json() if self._server else []

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=self.stop_timeout_s)
            self._server = None


class BareTarget(ServedTarget):
    """The bare python-socketio server in bench/bare_server.py, pinned to one core."""

    name = "bare"
    client = ClientProtocol()
    serializers = SERIALIZERS
    loops = LOOPS

    def __init__(self, cpu: int | None = 0, extra_args: tuple[str, ...] = ()) -> None:
        self.cpu = cpu
        self.extra_args = extra_args  # e.g. ("--gc-freeze",) to measure a remedy
        self._server: ServerProcess | None = None

    @staticmethod
    def unavailable() -> str | None:
        return None

    def start(self, serializer: str, loop: str, log_dir: Path) -> str:
        argv = [sys.executable, "-m", "bench.bare_server", "--port", "0",
                "--serializer", serializer, "--loop", loop, *self.extra_args]
        self._server = ServerProcess(argv, log_dir, cpu=self.cpu, cwd=REPO, env=server_env())
        port = self._server.wait_json_line("listening")["port"]
        return f"ws://127.0.0.1:{port}"

    def plan(self, room_sizes: list[int]) -> list[list[Member]]:
        return [[Member(room=f"room-{i}")] * size for i, size in enumerate(room_sizes)]
