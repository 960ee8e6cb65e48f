"""The command a newcomer runs, health, metrics and the home page."""

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.support import Meeting


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_command_prints_url_and_token_and_serves(tmp_path: Path) -> None:
    port = free_port()
    exe = Path(sys.executable).parent / "ledarstig"
    env = {**os.environ, "LEDARSTIG_PORT": str(port), "LEDARSTIG_DATA_DIR": str(tmp_path / "d")}
    env.pop("LEDARSTIG_ADMIN_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        str(exe), "serve", "--serializer", "msgpack", "--log-format", "console", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        second = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert f"http://localhost:{port}/" in first
        token = re.search(r"Admin token .*: (\S+)", second)
        assert token and (tmp_path / "d" / "admin_token").read_text().strip() == token[1]
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(f"http://127.0.0.1:{port}/api/meetings",
                                 headers={"Authorization": f"Bearer {token[1]}"},
                                 json={"title": "T", "starts_at": "2026-12-01T09:00:00Z"}) as r:
                assert r.status == 201
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 10)


async def test_second_start_does_not_print_the_token_again(tmp_path: Path) -> None:
    from server.credentials import load_or_create
    first = load_or_create(tmp_path, None, None)
    again = load_or_create(tmp_path, None, None)
    assert first.admin_token_created and not again.admin_token_created
    assert first.admin_token == again.admin_token
    assert oct((tmp_path / "admin_token").stat().st_mode & 0o777) == "0o600"


async def test_health_metrics_and_home(meeting: Meeting) -> None:
    anna = await meeting.participant()
    assert (await anna.call("chat", {"text": "hej"}))["ok"]
    status, health = await meeting.server.api("GET", "/healthz", token=None)
    assert status == 200 and health["status"] == "ok"
    status, text = await meeting.server.api("GET", "/metrics", token=None)
    assert status == 200
    assert re.search(r'ledarstig_events_total\{type="chat.sent"\} 1\.0', text)
    assert re.search(r"ledarstig_connected_clients 1\.0", text)
    assert "ledarstig_store_commit_seconds_count" in text
    for counted in ("meetings_reloaded", "meetings_caught_up", "append_conflicts",
                    "meetings_released", "backlog_cuts"):  # kept by the hub, the sockets
        assert re.search(rf"ledarstig_{counted}_total 0\.0", text), counted
    status, page = await meeting.server.api("GET", "/", token=None)
    assert status == 200 and "Logga in som arrangör" in page  # the organisers' sign-in
    assert "test-admin-token" not in page and meeting.id not in page
    status, page = await meeting.server.api("GET", "/?lang=fi", token=None)
    assert "Kirjaudu järjestäjänä" in page


async def test_ending_a_meeting_disconnects_everyone(meeting: Meeting) -> None:
    anna = await meeting.participant()
    status, _ = await meeting.server.api("POST", f"/api/meetings/{meeting.id}/end")
    assert status == 200
    ended = await anna.inbox.wait("event", lambda e: e["type"] == "meeting.ended")
    assert ended["actor"] == "admin"
    assert await anna.disconnected()
