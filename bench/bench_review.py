"""Review of a long session: a 3-hour meeting of 40 people, about 200,000 events
(board updates: 15 % new strokes, 85 % strokes dragged; chat, reactions, hands, media,
presence, six rounds; no board beyond the live limit of 20,000 elements).

Writes the log (the meeting ended) straight into a fresh SQLite store and starts the
real server on it (loopback, ephemeral port), which builds the review index in the
background; then restarts it and measures cold, over HTTP with the admin token:

* the index build in the background (and the event loop's longest gap meanwhile),
  the stored index's size,
* after the restart: the player's first paint and the state at a moment, cold,
* the state at a random moment (``/review/{id}/state.json?at=``), p50/p95, and every
  board of that moment as Yjs updates (``boards/{room}.ybin``), p50/p95,
* the player's first paint (the server-rendered page at a random moment), and, apart,
  rendering its boards as SVG (the lazily loaded images),
* export throughput (JSON Lines and msgpack, streamed) and the server's RSS
  growth while exporting (same process: /proc/self/status, sampled every 10 ms).

Run: ``.venv/bin/python -m bench.bench_review [--events 200000]``.
"""

import argparse
import asyncio
import gc
import json
import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pycrdt import Array, Doc, Map

from facilitation import breakouts
from facilitation.breakouts import RoundSpec
from facilitation.session import Session
from rooms import Draft, Event, Role
from rooms import commands as cmd
from rooms.events import BoardUpdated, MeetingEnded, PresenceChanged
from server.app import create_app
from server.config import Settings
from server.review_pages import REVIEW
from server.store import SQLiteStore

T0 = 1_780_000_000_000
HOURS_MS = 3 * 3600 * 1000
TOKEN = "bench-admin-token"
MEETING = "benchreview1"
MOVES = 0.85  # board updates that move an element; the rest draw a new stroke


def make_log(n: int, seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    state, events = Session(), []
    step = HOURS_MS / n

    def add(actor: str, drafts: list[Draft]) -> None:
        for d in drafts:
            ts = T0 + int(len(events) * step)
            e = Event(state.seq + 1, ts, actor, d.type, d.data)
            state.apply(e)
            events.append(e)

    add("system", [cmd.create_meeting(MEETING, "Bench review", "2026-12-01T09:00", "A")])
    people = [f"p{i:02d}" for i in range(40)]
    for i, pid in enumerate(people):
        add(pid, cmd.join(state.meeting, pid, Role.FACILITATOR if i == 0 else Role.PARTICIPANT,
                          name=f"Person {i}", municipality=["Vasa", "Esbo", "Åbo", "Borgå"][i % 4]))
        add(pid, [PresenceChanged(participant=pid, online=True,
                                  at=T0 + int(len(events) * step))])
    online = set(people)
    docs: dict[tuple[str, str], tuple[Doc, Map]] = {}
    mine_of: dict[tuple[str, str], list[str]] = {}
    round_every = n // 7
    i = 0
    while len(events) < n:
        i += 1
        now = T0 + int(len(events) * step)
        if i % round_every == round_every // 2 and state.current() is None:
            add("p00", breakouts.preview(state, "p00", f"r{i}", RoundSpec(group_size=4,
                                                                        duration_s=1200),
                                         seed=i))
            add("p00", breakouts.open_round(state, "p00", now))
            continue
        if i % round_every == 0 and state.current() is not None:
            add("p00", breakouts.close(state, "p00"))
            continue
        pid = people[1 + rng.randrange(39)]
        room = state.meeting.participants[pid].room
        roll = rng.random()
        if roll < 0.6:
            # Each person's tab is one Yjs client per room, as a browser's would be.
            if (pid, room) not in docs:
                fresh = Doc()
                docs[(pid, room)] = (fresh, fresh.get("elements", type=Map))
            doc, elements = docs[(pid, room)]
            before = doc.get_state()
            mine = mine_of.setdefault((pid, room), [])
            if mine and rng.random() < MOVES:  # dragging one of one's own strokes
                elements[rng.choice(mine)]["x"] = rng.randrange(800)
            else:
                mine.append(f"{pid}-{i}")
                elements[mine[-1]] = Map({"type": "pen", "x": rng.randrange(800),
                                          "y": rng.randrange(600),
                                          "points": Array([0, 0, 12, 8, 30, 20, 44, 31]),
                                          "color": "#1d4ed8", "width": 3, "author": pid,
                                          "z": i})
            add(pid, [BoardUpdated(room=room, update=doc.get_update(before))])
        elif roll < 0.8:
            add(pid, cmd.chat(state.meeting, pid, f"c{i}", f"Meddelande {i} om dagens tema"))
        elif roll < 0.9:
            add(pid, cmd.react(state.meeting, pid, "👍"))
        elif roll < 0.93:
            if pid in state.meeting.hands:
                add(pid, cmd.lower_hand(state.meeting, pid))
            else:
                add(pid, cmd.raise_hand(state.meeting, pid))
        elif roll < 0.98:
            add(pid, cmd.media(state.meeting, pid, mic=rng.random() < 0.5, camera=True,
                               screen=False))
        else:
            going = pid in online
            (online.discard if going else online.add)(pid)
            add(pid, [PresenceChanged(participant=pid, online=not going, at=now)])
    return events[:n]


class Rss:
    """The process's resident set, sampled every 10 ms in a thread."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> "Rss":
        self.start = self.now()
        self.peak = self.start
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class LoopLag:
    """The longest the event loop went without running a 5 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0  # wall time: includes waiting for a core on a loaded machine
        self.worst_cpu = 0.0  # the loop thread's CPU time between two ticks
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0.005)
            now, cpu = time.perf_counter(), time.thread_time()
            self.worst = max(self.worst, now - last - 0.005)
            self.worst_cpu = max(self.worst_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu

    def __enter__(self) -> "LoopLag":
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def start(data: Path) -> tuple[web.AppRunner, str]:
    settings = Settings(data_dir=data, admin_token=TOKEN, secret_key="bench-secret",
                        log_json=False, gc_freeze=False,
                        retention_days=36_500)  # the session is dated 2026-05: keep it
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/review/{MEETING}"


def index_bytes(path: Path) -> tuple[int, int]:
    """(bytes, rows) of the stored review index (checkpoints and manifest)."""
    with sqlite3.connect(path) as db:
        size, rows = db.execute("SELECT COALESCE(SUM(LENGTH(blob)), 0), COUNT(*) FROM snapshots "
                                "WHERE meeting LIKE ?", (MEETING + "#review#%",)).fetchone()
    return int(size), int(rows)


def data_size(data: Path) -> int:
    return sum(f.stat().st_size for f in data.iterdir() if f.is_file())


async def measure(n: int, samples: int) -> dict[str, Any]:
    started = time.perf_counter()
    events = make_log(n)
    last_event = events[-1]
    events.append(Event(last_event.seq + 1, last_event.ts + 1000, "p00", MeetingEnded.TYPE, {}))
    made_s = time.perf_counter() - started
    strokes = sum(e.type == BoardUpdated.TYPE for e in events)
    rng = random.Random(11)
    first, last = events[0].ts, events[-1].ts
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        async with SQLiteStore(data / "ledarstig.sqlite3") as store:
            for begin in range(0, len(events), 5000):
                await store.append(MEETING, events[begin:begin + 5000])
        out: dict[str, Any] = {"events": len(events), "board_updates": strokes,
                               "generate_s": round(made_s, 1),
                               "load_before": round(os.getloadavg()[0], 1)}
        # The server's process does not hold the generator's events and documents: drop
        # them, and keep what is left out of full collections (as the server's GC
        # policy does), so a collection of the benchmark's own heap is not measured.
        del events
        gc.collect()
        gc.freeze()
        # 1. The meeting has ended and has no index: the server builds it in the
        #    background after starting, giving the event loop back as it goes.
        runner, url = await start(data)
        try:
            with LoopLag() as lag:
                t = time.perf_counter()
                await runner.app[REVIEW].settled()
                out["index_build_background_s"] = round(time.perf_counter() - t, 1)
            out["index_build_loop_max_gap_ms"] = round(lag.worst * 1000, 1)
            out["index_build_loop_max_cpu_between_ticks_ms"] = round(lag.worst_cpu * 1000, 1)
        finally:
            await runner.cleanup()
        size, rows = index_bytes(data / "ledarstig.sqlite3")
        out["index_stored_mb"] = round(size / 1e6, 1)
        out["index_stored_rows"] = rows
        out["data_file_mb"] = round(data_size(data) / 1e6, 1)
        # 2. A restart: everything below is cold, read back from the stored index.
        runner, url = await start(data)
        try:
            async with aiohttp.ClientSession(
                    headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                async def get(path: str) -> tuple[float, bytes]:
                    t = time.perf_counter()
                    async with http.get(url + path) as resp:
                        body = await resp.read()
                        assert resp.status == 200, (path, resp.status, body[:200])
                    return time.perf_counter() - t, body

                cold, _ = await get(f"?at={rng.randint(first, last)}")
                out["cold_after_restart_first_paint_ms"] = round(cold * 1000, 1)
                cold, _ = await get(f"/state.json?at={rng.randint(first, last)}")
                out["cold_after_restart_state_ms"] = round(cold * 1000, 1)
                times, boards, counts = [], [], []
                for _ in range(samples):
                    at = rng.randint(first, last)
                    spent, body = await get(f"/state.json?at={at}")
                    times.append(spent)
                    view = json.loads(body)
                    rooms = [r["id"] for r in view["rooms"] if r["board_updates"]]
                    t = time.perf_counter()
                    await asyncio.gather(*(get(f"/boards/{r}.ybin?seq={view['seq']}")
                                           for r in rooms))
                    boards.append(time.perf_counter() - t)
                    counts.append(len(rooms))
                out["state_at_ms_p50"] = round(statistics.median(times) * 1000, 1)
                out["state_at_ms_p95"] = round(pct(times, 95) * 1000, 1)
                out["boards_at_ms_p50"] = round(statistics.median(boards) * 1000, 1)
                out["boards_at_ms_p95"] = round(pct(boards, 95) * 1000, 1)
                out["state_with_boards_ms_p95"] = round(
                    pct([a + b for a, b in zip(times, boards, strict=True)], 95) * 1000, 1)
                out["boards_per_moment_max"] = max(counts)
                paints, svgs = [], []
                for _ in range(max(5, samples // 10)):
                    at = rng.randint(first, last)
                    page_s, html = await get(f"?at={at}")
                    paints.append(page_s)
                    srcs = [s.split('"')[0] for s in html.decode().split('src="')[1:]
                            if "/boards/" in s.split('"')[0]]
                    t = time.perf_counter()
                    await asyncio.gather(*(get(s.replace("&amp;", "&").split(
                        f"/review/{MEETING}")[1]) for s in srcs))
                    svgs.append(time.perf_counter() - t)
                out["player_first_paint_ms_p95"] = round(pct(paints, 95) * 1000, 1)
                out["board_svgs_render_ms_p50"] = round(statistics.median(svgs) * 1000, 1)
                out["board_svgs_render_ms_p95"] = round(pct(svgs, 95) * 1000, 1)
                for kind in ("jsonl", "msgpack"):
                    with Rss() as rss:
                        t = time.perf_counter()
                        size = 0
                        async with http.get(f"{url}/timeline.{kind}") as resp:
                            async for chunk in resp.content.iter_chunked(1 << 16):
                                size += len(chunk)
                        spent = time.perf_counter() - t
                    out[f"export_{kind}_events_per_s"] = round(n / spent)
                    out[f"export_{kind}_mb_per_s"] = round(size / spent / 1e6, 1)
                    out[f"export_{kind}_mb"] = round(size / 1e6, 1)
                    out[f"export_{kind}_rss_growth_mb"] = round((rss.peak - rss.start) / 1e6, 1)
        finally:
            await runner.cleanup()
    out["load_after"] = round(os.getloadavg()[0], 1)
    out["total_s"] = round(time.perf_counter() - started, 1)
    return out


def run(n: int = 200_000, samples: int = 100) -> dict[str, Any]:
    return asyncio.run(measure(n, samples))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.samples), indent=2))
