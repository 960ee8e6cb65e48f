"""A meeting, not just a relay: what our server does that a bare relay does not.

- ``join_one_meeting``: N participants join one meeting at once; time to the last join
  ack, and until every participant has seen every other join (presence to everyone).
- ``open_round``: a facilitator opens a round of groups of 5 for N connected
  participants; time from sending ``round.open`` to the last participant receiving
  its group.
- ``board_updates``: 30 participants in one room each send 10 whiteboard (Yjs)
  updates a second; delivery latency to the other 29 and the server's CPU.

Our server runs pinned to core 0 (msgpack, uvloop), this generator on core 1; loopback
only; every phase is bounded in time. Run: ``.venv/bin/python -m bench.bench_meeting [--quick]``.
"""

import argparse
import asyncio
import http.client
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map

from bench.client import SioClient, new_session, websocket_url
from bench.framing import Codec
from bench.ledarstig_target import LedarstigTarget
from bench.processes import sample

clock = time.perf_counter
# msgpack: whiteboard updates are binary, which the lean client sends natively in msgpack.
SERIALIZER = "msgpack"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Server:
    def __init__(self, target: LedarstigTarget, url: str) -> None:
        self.target, self.url = target, url

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.target.port, timeout=10)
        try:
            conn.request("POST", path, body=json.dumps(body or {}), headers={
                "Authorization": f"Bearer {self.target.admin_token}",
                "Content-Type": "application/json"})
            return dict(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    def meeting(self) -> tuple[str, dict[str, str]]:
        meeting = self.post("/api/meetings", {"title": "Bench",
                                              "starts_at": "2026-12-01T09:00:00Z"})["id"]
        links = self.post(f"/api/meetings/{meeting}/invites")
        return meeting, {role: link["token"] for role, link in links.items()}

    async def client(self, session: Any, meeting: str, token: str,
                     name: str, on_event: Any = None) -> tuple[SioClient, str]:
        c = SioClient(Codec(SERIALIZER), on_event)
        await c.connect(session, websocket_url(self.url), {"token": token, "meeting": meeting})
        (ack,) = await c.call("join", {"name": name, "municipality": f"M{hash(name) % 40}"})
        assert ack["ok"], ack
        return c, ack["data"]["participant"]


async def join_one_meeting(srv: Server, n: int) -> dict[str, float]:
    meeting, tokens = srv.meeting()
    seen_all: list[float] = []
    acks: list[float] = []

    everyone = asyncio.Event()

    def watcher() -> Any:
        known: set[str] = set()

        def on_event(event: str, args: list[Any]) -> None:
            if event == "welcome" and "snapshot" in args[0]:
                known.update(p["id"] for p in args[0]["snapshot"]["participants"])
            elif event == "event" and args[0]["type"] == "participant.joined":
                known.add(args[0]["data"]["id"])
            if len(known) == n and not getattr(on_event, "done", False):
                on_event.done = True  # type: ignore[attr-defined]
                seen_all.append(clock())
                if len(seen_all) == n:
                    everyone.set()
        return on_event

    async with new_session() as session:
        started = clock()

        async def one(i: int) -> SioClient:
            c, _ = await srv.client(session, meeting, tokens["participant"], f"J{i}", watcher())
            acks.append(clock())
            return c
        clients = await asyncio.gather(*(one(i) for i in range(n)))
        async with asyncio.timeout(30):
            await everyone.wait()
        for c in clients:
            await c.close()
    return {"participants": n, "last_join_ack_s": max(acks) - started,
            "everyone_seen_by_everyone_s": max(seen_all) - started}


async def open_round(srv: Server, n: int) -> dict[str, float]:
    meeting, tokens = srv.meeting()
    got: list[float] = []
    all_got = asyncio.Event()

    def on_event(event: str, args: list[Any]) -> None:
        if event == "event" and args[0]["type"] == "round.opened":
            got.append(clock())
            if len(got) == n:
                all_got.set()

    async with new_session() as session:
        fia, _ = await srv.client(session, meeting, tokens["facilitator"], "Fia")
        clients: list[SioClient] = []
        for start in range(0, n, 100):
            batch = await asyncio.gather(*(srv.client(session, meeting, tokens["participant"],
                                                      f"P{i}", on_event)
                                           for i in range(start, min(n, start + 100))))
            clients += [c for c, _ in batch]
        (preview,) = await fia.call("round.preview", {"group_size": 5, "duration_s": 600})
        assert preview["ok"], preview
        cpu0, sent = sample(srv.target.pid).cpu_s, clock()
        (opened,) = await fia.call("round.open", {}, timeout_s=30)
        acked = clock()
        assert opened["ok"], opened
        async with asyncio.timeout(30):
            await all_got.wait()
        cpu1 = sample(srv.target.pid).cpu_s
        for c in [fia, *clients]:
            await c.close()
    return {"participants": n, "groups": len(preview["data"]["groups"]),
            "open_ack_s": acked - sent, "open_to_last_group_s": max(got) - sent,
            "open_to_median_s": statistics.median(got) - sent,
            "server_cpu_s": cpu1 - cpu0}


async def board_updates(srv: Server, n: int, rate: float, seconds: float) -> dict[str, float]:
    meeting, tokens = srv.meeting()
    arrivals: dict[int, list[float]] = {}
    sent_at: dict[int, float] = {}

    def on_event(event: str, args: list[Any]) -> None:
        if event == "event" and args[0]["type"] == "board.updated":
            arrivals.setdefault(args[0]["seq"], []).append(clock())

    async with new_session() as session:
        members = [await srv.client(session, meeting, tokens["participant"], f"B{i}", on_event)
                   for i in range(n)]
        end = clock() + seconds
        cpu0 = sample(srv.target.pid).cpu_s
        window0 = clock()

        async def draw(c: SioClient, i: int) -> int:
            doc: Doc = Doc()
            elements = doc.get("elements", type=Map)
            sent = 0
            next_at = clock() + (i / n) / rate
            while next_at < end:
                await asyncio.sleep(max(0.0, next_at - clock()))
                before = doc.get_state()
                elements[f"{i}-{sent}"] = Map({"type": "pen", "x": i * 10, "y": sent,
                                               "points": Array([0, 0, 4, 6, 9, 2, 14, 8]),
                                               "color": "#1f5c45", "width": 2, "author": "b",
                                               "z": sent})
                t = clock()
                (ack,) = await c.call("board.update", {"update": doc.get_update(before)})
                if ack["ok"]:
                    sent_at[ack["data"]["seq"]] = t
                sent += 1
                next_at += 1 / rate
            return sent
        counts = await asyncio.gather(*(draw(c, i) for i, (c, _) in enumerate(members)))
        await asyncio.sleep(0.5)
        cpu1, window1 = sample(srv.target.pid).cpu_s, clock()
        for c, _ in members:
            await c.close()
    latencies = [a - sent_at[seq] for seq, times in arrivals.items() if seq in sent_at
                 for a in times]
    return {"clients": n, "updates_per_s": sum(counts) / seconds,
            "deliveries": len(latencies),
            "delivery_p50_ms": pct(latencies, 0.5) * 1e3,
            "delivery_p99_ms": pct(latencies, 0.99) * 1e3,
            "server_cpu_pct": 100 * (cpu1 - cpu0) / (window1 - window0)}


async def measure(quick: bool) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    target = LedarstigTarget(cpu=0)
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(target, target.start(SERIALIZER, "uvloop", Path(tmp)))
        try:
            gen0 = time.process_time()
            result = {
                "join_one_meeting": await join_one_meeting(srv, 60 if quick else 500),
                "open_round": await open_round(srv, 100 if quick else 1000),
                "board_updates": await board_updates(srv, 6 if quick else 30, 10,
                                                     1.0 if quick else 10.0),
            }
            result["generator_cpu_s"] = time.process_time() - gen0
            return result
        finally:
            target.stop()


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(parser.parse_args().quick), indent=2))
