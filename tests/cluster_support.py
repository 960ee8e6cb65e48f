"""Several real ``ledarstig serve --redis-url`` processes sharing one test redis-server."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.redis_support import free_port
from tests.support import ADMIN_TOKEN, SECRET, Client, Meeting, RunningServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Proc:
    """One server process; quacks like ``RunningServer`` for ``Client`` and ``Meeting``."""

    port: int
    popen: subprocess.Popen[bytes]
    log: Path
    serializer: str = "json"
    transports: tuple[str, ...] = ("websocket",)
    clients: list[Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    api = RunningServer.api
    create_meeting = RunningServer.create_meeting
    invites = RunningServer.invites
    new_meeting = RunningServer.new_meeting
    client = RunningServer.client

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def spawn(redis_url: str, folder: Path, name: str, grace_s: float = 60.0,
          port: int | None = None, extra: tuple[str, ...] = ()) -> Proc:
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    env = {**os.environ, "LEDARSTIG_ADMIN_TOKEN": ADMIN_TOKEN, "LEDARSTIG_SECRET_KEY": SECRET}
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port),
             "--data-dir", str(folder / name), "--redis-url", redis_url, "--grace", str(grace_s),
             "--log-format", "console", "--loop", "asyncio", "--no-gc-freeze",
             "--node-name", name, *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Proc(port, popen, log)


async def wait_healthy(proc: Proc, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"server exited: {proc.log.read_text()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(proc.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)  # polling a starting process: nothing to await
    raise TimeoutError(f"not healthy: {proc.log.read_text()[-3000:]}")


async def healthz(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url + "/healthz") as resp:
        return resp.status


def meeting_on(proc: Any, meeting: Meeting) -> Meeting:
    """The same meeting (same tokens), reached through another process."""
    return Meeting(proc, meeting.id, meeting.tokens)
