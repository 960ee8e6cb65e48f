"""Janus and coturn as real processes inside the test network namespace.

Each is started with a configuration written for the test (Janus through our
own ``server.sfu.janus_config``), awaited until its log says it listens, and
stopped by its process id. Tests that need them skip cleanly when the
Debian packages are not installed.
"""

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.sfu.janus_config import JanusConfig, command, write

NETNS_IP = "10.77.0.1"
HAVE_JANUS = shutil.which("janus") is not None
HAVE_COTURN = shutil.which("turnserver") is not None
needs_janus = pytest.mark.skipif(
    not HAVE_JANUS, reason="Janus is not installed (apt-get install janus; ./scripts/test does)")
needs_coturn = pytest.mark.skipif(
    not HAVE_COTURN, reason="coturn is not installed (apt-get install coturn; ./scripts/test does)")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((NETNS_IP, 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    log: list[str]

    async def wait_for_line(self, text: str, seconds: float = 10.0) -> None:
        """Read the process's output until a line contains ``text``."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(seconds):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise RuntimeError("exited early:\n" + "".join(self.log[-30:]))
                self.log.append(line.decode(errors="replace"))
                if text in self.log[-1]:
                    return

    def drain(self) -> "asyncio.Task[None]":
        async def read() -> None:
            assert self.proc.stdout is not None
            while line := await self.proc.stdout.readline():
                self.log.append(line.decode(errors="replace"))
        return asyncio.ensure_future(read())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(5):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def _start(*args: str) -> Process:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    return Process(proc, [])


@dataclass
class Janus:
    config: JanusConfig
    folder: Path
    process: Process | None = None
    #: The output of every run so far (a test may restart Janus).
    output: list[str] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, str]:
        return {"janus_url": self.config.url, "janus_secret": self.config.api_secret,
                "janus_admin_key": self.config.admin_key}

    async def start(self) -> None:
        self.process = await _start(*command(self.folder))
        await self.process.wait_for_line("HTTP webserver started")
        self._drain = self.process.drain()

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
            self.output += [*self.process.log, "-- stopped --\n"]
            self.process = None


@contextlib.asynccontextmanager
async def running_janus(folder: Path) -> AsyncIterator[Janus]:
    cfg = write(folder, JanusConfig(api_ip=NETNS_IP, api_port=free_port(), media_ip=NETNS_IP))
    janus = Janus(cfg, folder)
    await janus.start()
    try:
        yield janus
    finally:
        await janus.stop()
        print("Janus's last lines:\n" + "".join(janus.output[-60:]))  # shown if a test fails


@dataclass
class Coturn:
    port: int
    secret: str
    process: Process

    tls_port: int | None = None

    @property
    def url(self) -> str:
        return f"turn:{NETNS_IP}:{self.port}?transport=udp"

    @property
    def tcp_url(self) -> str:
        return f"turn:{NETNS_IP}:{self.port}?transport=tcp"

    @property
    def tls_url(self) -> str:
        assert self.tls_port is not None, "coturn was started without a certificate"
        return f"turns:{NETNS_IP}:{self.tls_port}?transport=tcp"

    def log_text(self) -> str:
        return "".join(self.process.log)


@contextlib.asynccontextmanager
async def running_coturn(folder: Path, secret: str = "test-turn-secret",
                         cert: tuple[Path, Path] | None = None) -> AsyncIterator[Coturn]:
    """coturn on UDP and TCP; with ``cert`` (certificate, key) also TLS on its own port."""
    port = _free_udp_and_tcp_port()  # coturn listens on both
    tls_port = free_port() if cert else None
    tls = ([f"tls-listening-port={tls_port}", f"cert={cert[0]}", f"pkey={cert[1]}"]
           if cert else ["no-tls"])
    conf = folder / "turnserver.conf"
    _write(conf, "\n".join([
        f"listening-ip={NETNS_IP}", f"relay-ip={NETNS_IP}", f"listening-port={port}",
        "min-port=49152", "max-port=49400", "use-auth-secret", f"static-auth-secret={secret}",
        "realm=ledarstig.test", *tls, "no-dtls", "no-cli", "fingerprint",
        "no-multicast-peers", "log-file=stdout", "simple-log", "verbose",
        f"pidfile={folder / 'turnserver.pid'}", f"userdb={folder / 'turndb.sqlite'}", ""]))
    process = await _start("turnserver", "-c", str(conf))
    await process.wait_for_line("Total General servers")
    drain = process.drain()
    try:
        yield Coturn(port, secret, process, tls_port)
    finally:
        await process.stop()
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain


def _free_udp_and_tcp_port() -> int:
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, contextlib.suppress(OSError):
            s.bind((NETNS_IP, port))
            return port
    raise RuntimeError("no port free for both UDP and TCP")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
