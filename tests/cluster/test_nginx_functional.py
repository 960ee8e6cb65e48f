"""Two processes behind Debian's nginx, configured exactly as docs/deploy.md says."""

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cluster_support import ROOT, Proc, spawn, wait_healthy
from tests.redis_support import RedisServer, free_port
from tests.support import Client


def deploy_config(ports: list[int], listen: int, access_log: Path) -> str:
    """The nginx block of docs/deploy.md, with our addresses."""
    doc = (ROOT / "docs" / "deploy.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", doc, re.S)
    assert block is not None, "docs/deploy.md has no nginx block"
    conf = block.group(1)
    conf = conf.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}")
    conf = conf.replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};")
    return conf.replace("/var/log/nginx/ledarstig.access.log", str(access_log))


def start_nginx(tmp_path: Path, ports: list[int]) -> tuple[Proc, Path]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(exe).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    listen, access = free_port(), tmp_path / "access.log"
    (tmp_path / "nginx").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"daemon off;\nuser root;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/nginx-error.log;\nevents {{ worker_connections 512; }}\n"
        f"http {{\nclient_body_temp_path {tmp_path}/nginx/body;\n"
        f"proxy_temp_path {tmp_path}/nginx/proxy;\n"
        f"fastcgi_temp_path {tmp_path}/nginx/fcgi;\nuwsgi_temp_path {tmp_path}/nginx/uwsgi;\n"
        f"scgi_temp_path {tmp_path}/nginx/scgi;\n"
        + deploy_config(ports, listen, access) + "\n}\n")
    nginx = subprocess.Popen([exe, "-c", str(conf), "-p", str(tmp_path / "nginx")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Proc(listen, nginx, tmp_path / "nginx-error.log"), access


@pytest.fixture
async def behind_nginx(tmp_path: Path) -> AsyncIterator[tuple[Proc, list[Proc], Path]]:
    redis = RedisServer(tmp_path / "redis").start()
    ports = [free_port(), free_port()]
    procs = [spawn(redis.url, tmp_path, f"n{i + 1}", port=port) for i, port in enumerate(ports)]
    front, access = start_nginx(tmp_path, ports)
    try:
        await asyncio.gather(*(wait_healthy(p) for p in procs))
        await wait_healthy(front)
        yield front, procs, access
    finally:
        for c in front.clients:
            await c.close()
        for p in [front, *procs]:
            await asyncio.to_thread(p.stop)
        redis.kill()


def through(front: Proc, token: str, meeting: str, transports: tuple[str, ...]) -> Client:
    c = front.client(token, transports, meeting=meeting)
    # a browser keeps cookies for an IP host; aiohttp's default jar refuses them
    c.sio.eio.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    c.sio.eio.external_http = True  # closed by the test
    return c


async def test_polling_is_pinned_by_cookie_and_websockets_upgrade_through_nginx(
        behind_nginx: tuple[Proc, list[Proc], Path]) -> None:
    front, procs, access = behind_nginx
    meeting = await front.new_meeting()
    clients = []
    for i, transports in enumerate([("polling",)] * 4 + [("websocket",), ("polling", "websocket")]):
        c = through(front, meeting.tokens["participant"], meeting.id, transports)
        await c.connect()
        await c.join(f"P{i}", ("Vasa", "Åbo")[i % 2])
        clients.append(c)
    assert clients[4].sio.transport() == "websocket"
    await clients[0].ok("chat", {"text": "hej genom nginx"})
    for c in clients:
        await c.inbox.wait("event", lambda e: e["data"].get("text") == "hej genom nginx")
    for c in clients:
        await c.close()
        await c.sio.eio.http.close()
    lines = access.read_text().splitlines()
    socket_lines = [ln for ln in lines if "/socket.io/" in ln]
    # polling clients were spread over both processes (no ip_hash: all are 127.0.0.1) ...
    used = {ln.rsplit(" ", 1)[-1] for ln in socket_lines}
    assert {f"127.0.0.1:{p.port}" for p in procs} <= used, used
    # ... and no query string (tokens, sids) is ever logged
    assert not any("?" in ln or "EIO=" in ln or "sid=" in ln for ln in lines)
    # a polling session never hit a 400 (a request routed to a process without its session)
    assert not [ln for ln in socket_lines if '" 400 ' in ln], socket_lines


class ByMeeting(Client):
    """A client that names its meeting in the Socket.IO URL, as the browser client does
    (``?meeting=<id>`` on every request): nginx routes it by the meeting."""

    async def connect(self) -> None:
        url = f"{self.server.url}?meeting={self.auth['meeting']}"
        await self.sio.connect(url, auth=self.auth, transports=self.transports, wait_timeout=5)


def by_meeting(front: Proc, token: str, meeting: str, transports: tuple[str, ...],
               **auth: Any) -> ByMeeting:
    c = ByMeeting(front, token, transports, meeting=meeting, **auth)
    front.clients.append(c)
    return c


async def connected(procs: list[Proc]) -> list[int]:
    """Each process's Socket.IO connections (its /metrics, asked directly)."""
    out = []
    async with aiohttp.ClientSession() as http:
        for p in procs:
            async with http.get(p.url + "/metrics") as resp:
                text = await resp.text()
            found = re.search(r"^ledarstig_connected_clients (\S+)$", text, re.M)
            assert found is not None, text[:500]
            out.append(int(float(found.group(1))))
    return out


async def test_a_meetings_clients_share_one_process_and_meetings_spread(
        behind_nginx: tuple[Proc, list[Proc], Path]) -> None:
    """Two clients of a meeting (long-polling and WebSocket) land on one process; the
    meetings, several, use both; long-polling sessions stay on their process."""
    front, procs, access = behind_nginx
    homes: list[int] = []
    for k in range(16):  # until both processes were used (2^-15 to fail by chance)
        meeting = await front.new_meeting()
        before = await connected(procs)
        pair = []
        for i, transports in enumerate([("polling",), ("websocket",)]):
            c = by_meeting(front, meeting.tokens["participant"], meeting.id, transports)
            await c.connect()
            await c.join(f"P{k}-{i}", "Vasa")
            pair.append(c)
        grown = [after - was for after, was in zip(await connected(procs), before,
                                                   strict=True)]
        assert sorted(grown) == [0, 2], grown  # both on the same process
        homes.append(grown.index(2))
        await pair[1].ok("chat", {"text": f"hej {k}"})  # the polling client receives it
        await pair[0].inbox.wait("event", lambda e, k=k: e["data"].get("text") == f"hej {k}")
        if k >= 2 and len(set(homes)) == 2:
            break
    assert set(homes) == {0, 1}, homes
    for c in front.clients:
        await c.close()
    socket_lines = [ln for ln in access.read_text().splitlines() if "/socket.io/" in ln]
    assert not [ln for ln in socket_lines if '" 400 ' in ln], socket_lines
    assert not any("meeting=" in ln for ln in socket_lines)  # no query string logged


async def test_a_killed_process_moves_its_meetings_clients_to_another_which_resumes_them(
        behind_nginx: tuple[Proc, list[Proc], Path]) -> None:
    front, procs, _ = behind_nginx
    meeting = await front.new_meeting()
    people = []
    for i, transports in enumerate([("polling",), ("websocket",)]):
        c = by_meeting(front, meeting.tokens["participant"], meeting.id, transports)
        await c.connect()
        await c.join(f"D{i}", "Åbo")
        people.append(c)
    counts = await connected(procs)
    home = counts.index(2)
    procs[home].kill9()
    back = []
    for old in people:
        assert await old.disconnected(8)
        front.clients.remove(old)  # its process is gone: nothing to close
        again = by_meeting(front, meeting.tokens["participant"], meeting.id,
                           tuple(old.transports), resume=old.resume_token,
                           last_seq=old.last_seq())
        await again.connect()  # nginx skips the dead process: the other one takes it
        answer = await again.call("join", {})
        assert answer["ok"] and answer["data"]["participant"] == old.participant, answer
        back.append(again)
    assert await connected([procs[1 - home]]) == [2]
    await back[0].ok("chat", {"text": "tillbaka"})
    got = await back[1].inbox.wait("event", lambda e: e["data"].get("text") == "tillbaka")
    assert got["actor"] == people[0].participant
    # python-engineio's client waits for its pending poll on disconnect, which the
    # survivor here answered only at the ping interval (25 s): do not wait for it
    await back[0].sio.eio.disconnect(abort=True)
    front.clients.remove(back[0])
