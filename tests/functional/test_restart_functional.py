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


class Chatter:
    """``n`` people of one new meeting, each sending chat after chat until the server is
    gone; ``acked``: the chats it acknowledged, by seq; ``enough`` is set at ``enough_at``."""

    def __init__(self, port: int, n: int, enough_at: int) -> None:
        self.port, self.n, self.enough_at = port, n, enough_at
        self.meeting = ""
        self.people: list[Client] = []
        self.acked: dict[int, str] = {}
        self.enough = asyncio.Event()
        self._talk: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.meeting = (await rest(self.port, "POST", "/api/meetings", {
            "title": "T", "starts_at": "2026-12-01T09:00:00Z"}))["id"]
        token = (await rest(self.port, "POST", f"/api/meetings/{self.meeting}/invites"))[
            "participant"]["token"]
        target = SimpleNamespace(url=f"http://127.0.0.1:{self.port}", serializer="json",
                                 transports=("websocket",))
        self.people = [Client(target, token, meeting=self.meeting)  # type: ignore[arg-type]
                       for _ in range(self.n)]
        for i, person in enumerate(self.people):
            person.sio.on("server.restarting", person._recorder("server.restarting"))
            await person.connect()
            await person.join(f"Deltagare {i}", "Vasa")
        self._talk = [asyncio.create_task(self._chat(p, str(i)))
                      for i, p in enumerate(self.people)]

    async def _chat(self, person: Client, name: str) -> None:
        for n in range(10_000):
            text = f"{name} {n}"
            try:
                answer = await person.call("chat", {"text": text}, timeout=3)
            except Exception:
                return  # the connection or the process is gone: unanswered, not promised
            if answer.get("ok"):
                self.acked[answer["data"]["seq"]] = text
                if len(self.acked) >= self.enough_at:
                    self.enough.set()

    async def ended(self) -> None:
        """Every chatter has stopped (the server went away)."""
        await asyncio.gather(*self._talk)

    async def logged(self, port: int) -> dict[int, str | None]:
        """The meeting's log as the (restarted) server holds it: text by seq."""
        log = await rest(port, "GET", f"/api/meetings/{self.meeting}/log?limit=10000")
        return {e["seq"]: e["data"].get("text") for e in log["events"]}


async def test_sigterm_stops_fast_tells_clients_and_loses_nothing_acked(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "d"
    proc = await serve(data, port)
    try:
        chat = Chatter(port, 3, enough_at=30)
        await chat.start()
        await asyncio.wait_for(chat.enough.wait(), 10)  # SIGTERM in the middle of the chatter
        started = asyncio.get_running_loop().time()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)
        stopped = asyncio.get_running_loop().time() - started
        await chat.ended()
        for person in chat.people:
            notice = await person.inbox.wait("server.restarting", timeout=1)
            assert notice["message"]
            assert await person.disconnected(1)
        assert stopped < 2.0, f"SIGTERM took {stopped:.2f} s"
        proc = await serve(data, port)
        texts = await chat.logged(port)
        assert all(texts.get(seq) == text for seq, text in chat.acked.items())
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()


async def test_sigkill_loses_no_acknowledged_chat(tmp_path: Path) -> None:
    """The store writes a chat to its journal on the event loop (one ``write()``, no
    fsync) before it is acknowledged or delivered, and moves the journal into SQLite
    later: a killed process keeps every chat it acknowledged (the next start moves what
    the journal still holds), and its log has no gap."""
    port, data = free_port(), tmp_path / "d"
    proc = await serve(data, port)
    try:
        chat = Chatter(port, 4, enough_at=200)
        await chat.start()
        await asyncio.wait_for(chat.enough.wait(), 20)  # SIGKILL in the middle of the chatter
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        await chat.ended()
        proc = await serve(data, port)
        texts = await chat.logged(port)
        assert list(texts) == list(range(1, len(texts) + 1))  # no gap
        missing = {seq: text for seq, text in chat.acked.items() if texts.get(seq) != text}
        assert not missing and len(chat.acked) >= 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
