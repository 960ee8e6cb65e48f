"""What Redis scale-out costs and carries, sized for a 2-core machine.

Three set-ups at equal CPU (every server process pinned to core 0; redis-server,
nginx and this load generator on core 1):

- ``sqlite``: one process, the embedded store;
- ``redis``: one process, ``--redis-url``;
- ``redis x2 + nginx``: two processes sharing core 0, behind nginx (docs/deploy.md's
  configuration), clients spread over both;
- ``affinity: redis x2 + nginx by meeting``: the same, each client naming its meeting
  in the URL as the browser client does, so nginx sends the meeting's clients to one
  process (the other holds the meeting but serves none of its clients).

Phases, each in a fresh meeting: ``N`` participants connect and join (server CPU per
join); then ``senders`` participants chat at a fixed total rate for a few seconds and
every participant receives every message (server CPU per delivery, delivery latency).
In ``redis x2`` the latency is split by whether the sender and the receiver were on the
same process or not (the cross-process path: append → XREAD on the other process →
fold → fan-out). CPU is user+system of the server processes from /proc; Redis's and
nginx's own CPU is reported beside it.

Also, with ``--only transport``: the cross-process path alone, stream tailing (what
we do) against plain pub/sub (``bench.cluster_transport``); and for every Redis set-up
the connections each process's Redis pool opened (its peak of commands in flight,
bounded at 64: issue 18 item 7).

Run: ``.venv/bin/python -m bench.bench_cluster [--quick]``. It cannot show scaling on
two cores; docs/benchmarks.md works out what N processes on N cores should carry. The
load average is printed before and after each set-up: on a shared machine, say it.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.client import SioClient, new_session, websocket_url
from bench.framing import Codec
from bench.processes import sample

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"
clock = time.perf_counter


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not become healthy")


class Setup:
    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder = name, folder
        self.servers: list[tuple[int, subprocess.Popen[bytes]]] = []
        self.helpers: list[subprocess.Popen[bytes]] = []
        self.entry = 0
        self.redis_url: str | None = None

    def start_redis(self) -> None:
        port = free_port()
        self.helpers.append(subprocess.Popen(
            ["taskset", "-c", "1", shutil.which("redis-server") or "redis-server",
             "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.3)

    def start_server(self, name: str) -> int:
        port = free_port()
        args = ["taskset", "-c", "0", sys.executable, "-m", "server.cli", "serve",
                "--port", str(port), "--data-dir", str(self.folder / name),
                "--serializer", "msgpack", "--log-format", "console", "--node-name", name]
        if self.redis_url:
            args += ["--redis-url", self.redis_url]
        # A process releases a meeting it has no reason to hold after 1 s (60 s by
        # default): the set-up's REST calls land on any process, and a phase is shorter
        # than 60 s; with 1 s the affinity set-up measures the steady state.
        env = dict(os.environ, LEDARSTIG_ADMIN_TOKEN=ADMIN, LEDARSTIG_SECRET_KEY="bench",
                   LEDARSTIG_CLUSTER_IDLE_S="1")
        with (self.folder / f"{name}.log").open("ab") as out:
            popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)
        self.servers.append((port, popen))
        wait_port(port)
        return port

    def start_nginx(self, ports: list[int]) -> int:
        doc = (ROOT / "docs" / "deploy.md").read_text()
        block = re.search(r"```nginx\n(.*?)```", doc, re.S)
        assert block is not None
        listen = free_port()
        conf = (block.group(1).replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}")
                .replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
                .replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen};")
                .replace("/var/log/nginx/ledarstig.access.log", "off"))
        conf = conf.replace("access_log off ledarstig;", "access_log off;")
        tmp = self.folder / "nginx"
        tmp.mkdir(exist_ok=True)
        (self.folder / "nginx.conf").write_text(
            f"daemon off;\nuser root;\nworker_processes 1;\npid {tmp}/pid;\n"
            f"error_log {tmp}/error.log;\nevents {{ worker_connections 4096; }}\nhttp {{\n"
            + "".join(f"{k}_temp_path {tmp}/{k};\n" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + conf + "\n}\n")
        self.helpers.append(subprocess.Popen(
            ["taskset", "-c", "1", shutil.which("nginx") or "/usr/sbin/nginx",
             "-c", str(self.folder / "nginx.conf"), "-p", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(listen)
        return listen

    def cpu_by_process(self) -> list[float]:
        """CPU seconds of each server process, in start order."""
        return [sample(p.pid).cpu_s for _, p in self.servers]

    def cpu(self) -> tuple[float, float]:
        """CPU seconds of the server processes, and of redis/nginx."""
        servers = sum(sample(p.pid).cpu_s for _, p in self.servers)
        helpers = 0.0
        for h in self.helpers:
            with contextlib.suppress(Exception):
                helpers += sample(h.pid).cpu_s
        return servers, helpers

    def stop(self) -> None:
        for _, p in self.servers:
            p.send_signal(signal.SIGTERM)
        for _, p in self.servers:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for h in self.helpers:
            h.kill()
            h.wait()

    def pool_connections(self) -> list[int]:
        """Per server process: connections its Redis command pool opened (peak in flight)."""
        out = []
        for port, _ in self.servers:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            found = re.search(r"^ledarstig_redis_connections (\S+)$", text, re.M)
            out.append(int(float(found.group(1))) if found else -1)
        return out

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.entry, timeout=10)
        conn.request("POST", path, body=json.dumps(body or {}), headers={
            "Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())


async def run_setup(setup: Setup, n: int, senders: int, rate: float, seconds: float,
                    direct: list[int], idle_s: float = 3.0) -> dict[str, Any]:
    meeting = setup.post("/api/meetings", {"title": "Bench",
                                           "starts_at": "2026-12-01T09:00:00Z"})["id"]
    token = setup.post(f"/api/meetings/{meeting}/invites")["participant"]["token"]
    latencies: dict[str, list[float]] = {"same": [], "cross": []}
    where: dict[int, int] = {}
    received = [0]
    enough = asyncio.Event()
    wanted = [0]

    def handler(index: int) -> Any:
        def on_event(event: str, args: list[Any]) -> None:
            if event == "event" and args[0]["type"] == "chat.sent":
                text = args[0]["data"]["text"]
                sender, sent = text.split(":", 1)
                kind = "same" if where[int(sender)] == where[index] else "cross"
                latencies[kind].append(clock() - float(sent))
                received[0] += 1
                if received[0] >= wanted[0] > 0:
                    enough.set()
        return on_event

    async with new_session() as session:
        clients: list[SioClient] = []
        # what the processes spend with no client at all (heartbeats, timer polls,
        # blocked tails): paid per second, whatever the load
        idle0, idle_at = setup.cpu()[0], clock()
        await asyncio.sleep(idle_s)
        idle_ms_per_s = (setup.cpu()[0] - idle0) / (clock() - idle_at) * 1000
        cpu0, helper0 = setup.cpu()
        each0 = setup.cpu_by_process()
        started = clock()
        for batch in range(0, n, 50):
            async def one(i: int) -> SioClient:
                # through the entry (nginx or the one process); for the latency split in
                # the two-process set-up, each client is placed on a known process
                port = direct[i % len(direct)] if direct else setup.entry
                where[i] = port
                c = SioClient(Codec("msgpack"), handler(i))
                url = websocket_url(f"http://127.0.0.1:{port}")
                if "by meeting" in setup.name:  # as the browser client: nginx routes by it
                    url += f"&meeting={meeting}"
                await c.connect(session, url,
                                {"token": token, "meeting": meeting})
                (ack,) = await c.call("join", {"name": f"P{i}", "municipality": f"M{i % 30}"})
                assert ack["ok"], ack
                return c
            clients += await asyncio.gather(*(one(i) for i in range(batch, min(n, batch + 50))))
        join_s = clock() - started
        cpu1, helper1 = setup.cpu()
        each1 = setup.cpu_by_process()
        await asyncio.sleep(1.0)  # let presence settle before measuring deliveries
        cpu2, helper2 = setup.cpu()
        each2 = setup.cpu_by_process()
        count = int(rate * seconds)
        received[0] = 0
        t0 = clock()
        for k in range(count):
            i = k % senders
            await clients[i].emit("chat", {"text": f"{i}:{clock()!r}"})
            await asyncio.sleep(max(0.0, t0 + (k + 1) / rate - clock()))
        expected = wanted[0] = count * n
        if received[0] >= expected:
            enough.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                await enough.wait()
        cpu3, helper3 = setup.cpu()
        each3 = setup.cpu_by_process()
        deliver_s = clock() - t0
        pool = setup.pool_connections() if setup.redis_url else []
        for c in clients:
            await c.close()
    everything = latencies["same"] + latencies["cross"]
    out = {
        "setup": setup.name, "participants": n, "join_wall_s": round(join_s, 2),
        "server_cpu_ms_per_join": round((cpu1 - cpu0) / n * 1000, 2),
        "helper_cpu_ms_per_join": round((helper1 - helper0) / n * 1000, 2),
        "server_cpu_ms_per_s_idle": round(idle_ms_per_s, 1),
        # each process's CPU per join, and per chat message (one event of the log)
        "cpu_ms_per_join_by_process": [round((b - a) / n * 1000, 2)
                                       for a, b in zip(each0, each1, strict=True)],
        "cpu_ms_per_event_by_process": [round((b - a) / max(1, count) * 1000, 2)
                                        for a, b in zip(each2, each3, strict=True)],
        "delivery_wall_s": round(deliver_s, 2),
        "messages": count, "deliveries": received[0], "expected": expected,
        "server_cpu_us_per_delivery": round((cpu3 - cpu2) / max(1, received[0]) * 1e6, 1),
        "server_cpu_us_per_delivery_net_of_idle": round(
            (cpu3 - cpu2 - idle_ms_per_s / 1000 * deliver_s) / max(1, received[0]) * 1e6, 1),
        "helper_cpu_us_per_delivery": round((helper3 - helper2) / max(1, received[0]) * 1e6, 1),
        "latency_ms_p50": round(pct(everything, 0.5) * 1000, 2),
        "latency_ms_p99": round(pct(everything, 0.99) * 1000, 2),
    }
    if pool:
        out["redis_pool_connections_opened"] = pool
    if latencies["cross"]:
        for kind in ("same", "cross"):
            out[f"{kind}_process_ms_p50"] = round(pct(latencies[kind], 0.5) * 1000, 2)
            out[f"{kind}_process_ms_p99"] = round(pct(latencies[kind], 0.99) * 1000, 2)
    return out


def reloads(folder: Path) -> int:
    return sum(log.read_text().count("reloading meeting") for log in folder.glob("n*.log"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.0, help="chat messages per second")
    parser.add_argument("--only", default="", help="comma-separated set-up name prefixes")
    args = parser.parse_args()
    n = 40 if args.quick else args.participants
    senders, seconds = 10, 2.0 if args.quick else 6.0
    rate = args.rate or (40.0 if args.quick else 25.0)
    results = []
    only = args.only.split(",") if args.only else None
    for name in ("sqlite", "redis", "redis x2 + nginx", "redis x2 (direct, latency split)",
                 "affinity: redis x2 + nginx by meeting", "transport"):
        if only and not any(name.startswith(o) for o in only):
            continue
        print(json.dumps({"setup": name, "loadavg_before": os.getloadavg()}), flush=True)
        if name == "transport":
            from bench.cluster_transport import compare
            await compare(args.quick)
            continue
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
            setup = Setup(name, Path(tmp))
            try:
                direct: list[int] = []
                if name != "sqlite":
                    setup.start_redis()
                if "redis x2" in name:
                    ports = [setup.start_server("n1"), setup.start_server("n2")]
                    if "nginx" in name:
                        setup.entry = setup.start_nginx(ports)
                    else:
                        setup.entry, direct = ports[0], ports
                else:
                    setup.entry = setup.start_server("n1")
                result = await run_setup(setup, n, senders, rate, seconds, direct,
                                         idle_s=0.5 if args.quick else 3.0)
            finally:
                setup.stop()
            # each lost append race reloads the meeting from its log (a warning line)
            result["reloads_after_lost_race"] = reloads(Path(tmp))
        result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        results.append(result)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
