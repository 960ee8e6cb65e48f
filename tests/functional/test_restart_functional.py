"""SIGTERM: the real ``ledarstig serve`` stops within 2 s, tells its clients it is
restarting, and keeps every event it acknowledged."""

import asyncio
import os
import signal
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp

from tests.functional.test_operations_functional import free_port
from tests.support import ADMIN_TOKEN, SECRET, Client

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def serve(data: Path, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "LEDARSTIG_PORT": str(port), "LEDARSTIG_DATA_DIR": str(data),
           "LEDARSTIG_ADMIN_TOKEN": ADMIN_TOKEN, "LEDARSTIG_SECRET_KEY": SECRET}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "ledarstig"), "serve", "--log-format", "console",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)  # polling a process that is still starting
    raise AssertionError("the server did not start")


async def rest(port: int, method: str, path: str, json: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
            method, f"http://127.0.0.1:{port}{path}", json=json, headers=ADMIN) as r:
        assert r.status < 300, await r.text()
        return await r.json()


async def test_sigterm_stops_fast_tells_clients_and_loses_nothing_acked(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "d"
    proc = await serve(data, port)
    try:
        meeting = (await rest(port, "POST", "/api/meetings", {
            "title": "T", "starts_at": "2026-12-01T09:00:00Z"}))["id"]
        links = await rest(port, "POST", f"/api/meetings/{meeting}/invites")
        token = links["participant"]["token"]
        target = SimpleNamespace(url=f"http://127.0.0.1:{port}", serializer="json",
                                 transports=("websocket",))
        people = [Client(target, token, meeting=meeting) for _ in range(3)]  # type: ignore[arg-type]
        for i, person in enumerate(people):
            person.sio.on("server.restarting", person._recorder("server.restarting"))
            await person.connect()
            await person.join(f"Deltagare {i}", "Vasa")
        acked: dict[int, str] = {}
        enough = asyncio.Event()

        async def chatter(person: Client, name: str) -> None:
            for n in range(10_000):
                text = f"{name} {n}"
                try:
                    answer = await person.call("chat", {"text": text}, timeout=3)
                except Exception:
                    return  # the connection went away: unanswered, so not promised
                if answer.get("ok"):
                    acked[answer["data"]["seq"]] = text
                    if len(acked) >= 30:
                        enough.set()
        talk = [asyncio.create_task(chatter(p, str(i))) for i, p in enumerate(people)]
        await asyncio.wait_for(enough.wait(), 10)  # SIGTERM in the middle of the chatter
        started = asyncio.get_running_loop().time()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)
        stopped = asyncio.get_running_loop().time() - started
        await asyncio.gather(*talk)
        for person in people:
            notice = await person.inbox.wait("server.restarting", timeout=1)
            assert notice["message"]
            assert await person.disconnected(1)
        assert stopped < 2.0, f"SIGTERM took {stopped:.2f} s"
        proc = await serve(data, port)
        log = await rest(port, "GET", f"/api/meetings/{meeting}/log?limit=10000")
        texts = {e["seq"]: e["data"].get("text") for e in log["events"]}
        assert all(texts.get(seq) == text for seq, text in acked.items())
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()


async def test_sigkill_loses_no_acknowledged_chat(tmp_path: Path) -> None:
    """The store commits on the event loop (WAL, ``synchronous=NORMAL``: a write to
    the WAL file, no fsync) before a chat is acknowledged or delivered: a killed
    process keeps every chat it acknowledged, and its log has no gap."""
    port, data = free_port(), tmp_path / "d"
    proc = await serve(data, port)
    try:
        meeting = (await rest(port, "POST", "/api/meetings", {
            "title": "T", "starts_at": "2026-12-01T09:00:00Z"}))["id"]
        token = (await rest(port, "POST", f"/api/meetings/{meeting}/invites"))[
            "participant"]["token"]
        target = SimpleNamespace(url=f"http://127.0.0.1:{port}", serializer="json",
                                 transports=("websocket",))
        people = [Client(target, token, meeting=meeting) for _ in range(4)]  # type: ignore[arg-type]
        for i, person in enumerate(people):
            await person.connect()
            await person.join(f"Deltagare {i}", "Vasa")
        acked: dict[int, str] = {}
        enough = asyncio.Event()

        async def chatter(person: Client, name: str) -> None:
            for n in range(10_000):
                try:
                    answer = await person.call("chat", {"text": f"{name} {n}"}, timeout=3)
                except Exception:
                    return  # the process is gone: unanswered, so not promised
                if answer.get("ok"):
                    acked[answer["data"]["seq"]] = f"{name} {n}"
                    if len(acked) >= 200:
                        enough.set()
        talk = [asyncio.create_task(chatter(p, str(i))) for i, p in enumerate(people)]
        await asyncio.wait_for(enough.wait(), 20)  # SIGKILL in the middle of the chatter
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        await asyncio.gather(*talk)
        proc = await serve(data, port)
        log = await rest(port, "GET", f"/api/meetings/{meeting}/log?limit=10000")
        seqs = [e["seq"] for e in log["events"]]
        assert seqs == list(range(1, len(seqs) + 1))
        texts = {e["seq"]: e["data"].get("text") for e in log["events"]}
        missing = {seq: text for seq, text in acked.items() if texts.get(seq) != text}
        assert not missing and len(acked) >= 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
