"""LedarstigTarget: our server, driven as docs/protocol.md describes.

A benchmark "room" is one meeting (everyone in a meeting shares its plenary room). The
runner creates the meetings with the REST API and hands each client the meeting's
participant invitation; a client connects with auth {token, meeting}, emits `join`
{name, municipality} and is addressed by the participant id the ack returns.

- relay = `signal` {to, candidate}: one trickled ICE candidate to a peer of the same room,
  relayed as `signal` {from, candidate} (docs/protocol.md, "Media: signalling between
  peers"). The payload (sender's clock, padding) travels as JSON in candidate.candidate,
  about the size of a real candidate line.
- broadcast = `chat` {text}; the room receives the log event `event` {type: "chat.sent"}
  (validated, appended to the meeting log, stored). The payload travels as JSON in the
  text. The sender's own copy is not counted (the bare server does not send one).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from .client import SioClient
from .processes import ServerProcess, free_port
from .targets import (
    REPO,
    ClientProtocol,
    Member,
    ServedTarget,
    TargetUnavailable,
    server_env,
)

HOST = "127.0.0.1"
STARTS_AT = "2026-12-01T09:00:00+01:00"
_compact = json.JSONEncoder(separators=(",", ":")).encode


class JoinRefused(RuntimeError):
    """Our server answered `join` with {"ok": false}."""


class OursProtocol(ClientProtocol):
    supports = frozenset({"relay", "broadcast"})

    def auth(self, member: Member) -> dict[str, Any] | None:
        return member.auth

    async def join(self, client: SioClient, member: Member) -> str:
        profile = {"name": member.extra["name"], "municipality": "Benchby"}
        (ack,) = await client.call("join", profile)
        if not ack.get("ok"):
            raise JoinRefused(f"join was refused: {ack.get('error')}")
        return ack["data"]["participant"]

    def broadcast_event(self, payload: dict[str, Any]) -> tuple[str, list[Any]]:
        return "chat", [{"text": _compact(payload)}]

    def relay_event(self, to: str, payload: dict[str, Any]) -> tuple[str, list[Any]]:
        candidate = {"candidate": _compact(payload), "sdpMid": "0", "sdpMLineIndex": 0}
        return "signal", [{"to": to, "candidate": candidate}]

    def ack_ok(self, ack: list[Any]) -> bool:
        return bool(ack) and isinstance(ack[0], dict) and ack[0].get("ok") is True

    def delivery(self, event: str, args: list[Any]) -> tuple[str, dict[str, Any]] | None:
        if event == "signal":
            return "relay", _payload(args[0]["candidate"]["candidate"])
        if event == "event" and args and args[0].get("type") == "chat.sent":
            return "broadcast", _payload(args[0]["data"]["text"])
        return None

    def sender(self, event: str, args: list[Any]) -> str | None:
        if event == "signal":
            return args[0].get("from")
        return args[0].get("actor") if event == "event" and args else None


def _payload(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def ledarstig_command() -> list[str] | None:
    venv_bin = Path(sys.executable).parent / "ledarstig"
    if venv_bin.exists():
        return [str(venv_bin)]
    found = shutil.which("ledarstig")
    return [found] if found else None


class LedarstigTarget(ServedTarget):
    """`ledarstig serve` in a fresh data dir, pinned to one core."""

    name = "ours"
    stop_timeout_s = 8.0
    client = OursProtocol()
    serializers = ("json", "msgpack")
    loops = ("asyncio", "uvloop")

    def __init__(self, cpu: int | None = 0) -> None:
        self.cpu = cpu
        self._server: ServerProcess | None = None
        self._port = 0
        self._admin = secrets.token_urlsafe(24)
        self._members = 0

    @property
    def admin_token(self) -> str:
        return self._admin

    @property
    def port(self) -> int:
        return self._port

    @staticmethod
    def unavailable() -> str | None:
        if ledarstig_command() is None:
            return "the `ledarstig` command is not installed in the venv"
        return None

    def command(self) -> list[str] | None:
        return ledarstig_command()

    def start(self, serializer: str, loop: str, log_dir: Path) -> str:
        command = self.command()
        if command is None:
            raise TargetUnavailable(self.unavailable() or "")
        self._port = free_port(HOST)
        argv = [*command, "serve", "--host", HOST, "--port", str(self._port),
                "--data-dir", str(log_dir / "data"), "--serializer", serializer, "--loop", loop]
        env = server_env(LEDARSTIG_ADMIN_TOKEN=self._admin)
        self._server = ServerProcess(argv, log_dir, cpu=self.cpu, cwd=REPO, env=env)
        self._server.wait_port(HOST, self._port)
        return f"ws://{HOST}:{self._port}"

    def plan(self, room_sizes: list[int]) -> list[list[Member]]:
        """One meeting per room, every member with the meeting's participant invitation."""
        conn = http.client.HTTPConnection(HOST, self._port, timeout=10)
        try:
            return [self._meeting_members(conn, i, size) for i, size in enumerate(room_sizes)]
        finally:
            conn.close()

    def _meeting_members(self, conn: http.client.HTTPConnection, i: int,
                         size: int) -> list[Member]:
        meeting = self._post(conn, "/api/meetings",
                             {"title": f"Bench room {i}", "starts_at": STARTS_AT})["id"]
        token = self._post(conn, f"/api/meetings/{meeting}/invites", None)["participant"]["token"]
        members = []
        for _ in range(size):
            self._members += 1
            members.append(Member(room=meeting, auth={"token": token, "meeting": meeting},
                                  extra={"name": f"Bench {self._members}"}))
        return members

    def _post(self, conn: http.client.HTTPConnection, path: str,
              body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._admin}", "Content-Type": "application/json"}
        conn.request("POST", path, body=json.dumps(body or {}), headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status not in (200, 201):
            raise TargetUnavailable(f"POST {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data)


BEFORE_ENV = "LEDARSTIG_BENCH_BEFORE"


class BeforeTarget(LedarstigTarget):
    """Another version of our server in the same run (before/after a change): the
    `ledarstig` command of another checkout's venv, named by $LEDARSTIG_BENCH_BEFORE,
    e.g. `git worktree add ../before REV`, a venv there, then
    `LEDARSTIG_BENCH_BEFORE=../before/.venv/bin/ledarstig python -m bench.run
    --targets bare,before,ours`."""

    name = "before"

    def command(self) -> list[str] | None:
        given = os.environ.get(BEFORE_ENV)
        return [given] if given and Path(given).exists() else None

    @staticmethod
    def unavailable() -> str | None:
        given = os.environ.get(BEFORE_ENV)
        if not given or not Path(given).exists():
            return f"${BEFORE_ENV} names no `ledarstig` command of another checkout"
        return None
