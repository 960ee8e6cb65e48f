"""NodeTarget: a Node socket.io 4 server (bench/node/server.js) doing the bare server's jobs.

It speaks the same events as bench/bare_server.py (join, relay, broadcast), so it uses the
bare ClientProtocol. `node` comes from Debian (`apt-get install nodejs npm`); socket.io is
installed into bench/node/node_modules by `npm ci` the first time the target starts, before
any measurement (the server itself needs no network). Node has one event loop: the `uvloop`
variants of a scenario run the same server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .processes import ServerProcess
from .targets import REPO, BareTarget, ClientProtocol, Member, ServedTarget, TargetUnavailable

NODE_DIR = REPO / "bench" / "node"


def node_command() -> str | None:
    return shutil.which("node") or shutil.which("nodejs")


def ensure_installed(folder: Path = NODE_DIR) -> None:
    """`npm ci` once (socket.io and the msgpack parser, pinned by package-lock.json)."""
    if (folder / "node_modules" / "socket.io").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise TargetUnavailable("npm is not installed (apt-get install npm)")
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise TargetUnavailable(f"npm ci in {folder} failed: {proc.stderr[-500:]}")


class NodeTarget(ServedTarget):
    """`node bench/node/server.js`, pinned to one core."""

    name = "node"
    client: ClientProtocol = BareTarget.client
    serializers = ("json", "msgpack")
    loops = ("asyncio", "uvloop")

    def __init__(self, cpu: int | None = 0) -> None:
        self.cpu = cpu
        self._server: ServerProcess | None = None

    @staticmethod
    def unavailable() -> str | None:
        if node_command() is None:
            return "node is not installed (apt-get install nodejs npm)"
        if not (NODE_DIR / "node_modules" / "socket.io").is_dir() and shutil.which("npm") is None:
            return "bench/node has no node_modules and npm is not installed"
        return None

    def start(self, serializer: str, loop: str, log_dir: Path) -> str:
        node = node_command()
        if node is None:
            raise TargetUnavailable(self.unavailable() or "")
        ensure_installed()
        argv = [node, str(NODE_DIR / "server.js"), "--port", "0", "--serializer", serializer]
        self._server = ServerProcess(argv, log_dir, cpu=self.cpu, cwd=REPO)
        port = self._server.wait_json_line("listening")["port"]
        return f"ws://127.0.0.1:{port}"

    def plan(self, room_sizes: list[int]) -> list[list[Member]]:
        return [[Member(room=f"room-{i}")] * size for i, size in enumerate(room_sizes)]
