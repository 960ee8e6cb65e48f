"""Memory of closed connections comes back (a real ``ledarstig serve`` process)."""

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from tests.functional.test_operations_functional import free_port
from tests.support import ADMIN_TOKEN

SESSIONS = 300


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@contextlib.asynccontextmanager
async def serve(tmp_path: Path) -> AsyncIterator[tuple[int, int, "asyncio.Queue[str]"]]:
    """A ``ledarstig serve`` process: its port, pid and its full-collection log lines."""
    port = free_port()
    exe = Path(sys.executable).parent / "ledarstig"
    env = {**os.environ, "LEDARSTIG_ADMIN_TOKEN": ADMIN_TOKEN, "LEDARSTIG_SECRET_KEY": "k" * 32}
    proc = await asyncio.create_subprocess_exec(
        str(exe), "serve", "--port", str(port), "--data-dir", str(tmp_path / "d"),
        "--log-format", "console", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    collections: asyncio.Queue[str] = asyncio.Queue()

    async def read_log() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            if b"full collection" in line:
                collections.put_nowait(line.decode())
    reader = asyncio.create_task(read_log())
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.1)
        yield port, proc.pid, collections
    finally:
        reader.cancel()
        proc.kill()  # nothing to keep: the data directory is thrown away
        await proc.wait()


async def half_open(http: aiohttp.ClientSession, port: int, token: str,
                    meeting: str) -> aiohttp.ClientWebSocketResponse:
    """Engine.IO open and the namespace handshake with a valid invitation; no ``join``."""
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
                               compress=15)  # permessage-deflate, as browsers do
    opened = await ws.receive(timeout=5)
    assert str(opened.data).startswith("0")
    await ws.send_str("40" + json.dumps({"token": token, "meeting": meeting}))
    connected = await ws.receive(timeout=5)
    assert str(connected.data).startswith("40{"), connected.data
    return ws


async def open_and_close(http: aiohttp.ClientSession, port: int, token: str,
                         meeting: str, pid: int) -> int:
    sockets = []
    for _ in range(SESSIONS // 50):
        sockets += await asyncio.gather(*(half_open(http, port, token, meeting)
                                          for _ in range(50)))
    peak = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return peak


async def collected(collections: "asyncio.Queue[str]", pid: int) -> int:
    """Await the server's next full collection (its log line); then its RSS."""
    try:
        await asyncio.wait_for(collections.get(), 8.0)
    except TimeoutError:
        raise AssertionError("no full collection within 8 s of the connections closing") \
            from None
    return rss_kib(pid)


async def test_memory_of_300_half_open_sessions_comes_back(tmp_path: Path) -> None:
    async with serve(tmp_path) as (port, pid, collections), aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)) as http:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with http.post(f"http://127.0.0.1:{port}/api/meetings", headers=headers,
                             json={"title": "T", "starts_at": "2026-12-01T09:00:00Z"}) as r:
            meeting = (await r.json())["id"]
        async with http.post(f"http://127.0.0.1:{port}/api/meetings/{meeting}/invites",
                             headers=headers) as r:
            token = (await r.json())["participant"]["token"]
        # A first wave warms up what stays (code paths, allocator arenas, caches).
        await open_and_close(http, port, token, meeting, pid)
        before = await collected(collections, pid)
        peak = await open_and_close(http, port, token, meeting, pid)
        # the sessions did cost memory (~7 KiB each since no permessage-deflate context
        # is made for them, ~40 KiB with one)
        assert peak - before > 1024, (before, peak)
        after = await collected(collections, pid)
        assert after <= before * 1.10, f"RSS {before} KiB before, {peak} open, {after} after"
