"""The store hand-off under a busy event loop, without the network: how long an append
waits until it is durable, what it costs in CPU, and how late the loop's other work runs.

One process, one event loop, the real ``SQLiteStore`` on a temporary file. A load
shaped like ``broadcast_under_load`` runs on the loop in the open: ``chats`` messages a
second each do ~``pre_us`` of Python work, append one event to one of 250 meetings,
wait until it is durable and do ~``post_us`` more (the delivery); ``relays`` messages a
second do ~``relay_us`` of work and touch no store. Arrivals are spaced evenly per
kind, each kind at its own phase. Reported: append → durable p50/p99/max and the
count over 1 ms; a chat's and a relay's time from its due moment to its end (what a
client would see, minus the network); the process's CPU per chat beyond the work
itself. ``--store path/to/sqlite.py`` measures another version of the module (e.g.
from a checkout of an earlier commit); ``--switch-ms`` sets ``sys.setswitchinterval``.

    .venv/bin/python -m bench.bench_store [--seconds 10] [--store FILE] [--switch-ms 5]
"""

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.processes import core_busy
from rooms import Event


def _spin_factory() -> Any:
    """A function doing about ``us`` µs of Python bytecode (so it holds the GIL the way
    a handler does, with the interpreter's switch checks)."""
    def spin(n: int) -> int:
        x = 0
        for i in range(n):
            x += i
        return x
    started = time.thread_time()  # CPU time: a busy machine does not skew it
    spin(2_000_000)
    per_iter = (time.thread_time() - started) / 2_000_000

    def work(us: float) -> None:
        spin(int(us * 1e-6 / per_iter))
    return work


def _store_class(path: str | None) -> Any:
    if path is None:
        from server.store.sqlite import SQLiteStore
        return SQLiteStore
    spec = importlib.util.spec_from_file_location("bench_store_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SQLiteStore


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(store_cls: Any, seconds: float, chats: float, relays: float,
                  pre_us: float, post_us: float, relay_us: float) -> dict[str, float]:
    work = _spin_factory()
    appends: list[float] = []
    chat_lat: list[float] = []
    relay_lat: list[float] = []
    seqs: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        commits: list[tuple[float, int]] = []
        async with store_cls(Path(tmp) / "bench.sqlite3",
                             on_commit=lambda sec, n: commits.append((sec, n))) as store:
            loop = asyncio.get_running_loop()

            async def chat(due: float, meeting: str, record: bool) -> None:
                work(pre_us)
                seq = seqs[meeting] = seqs.get(meeting, 0) + 1
                started = time.perf_counter()
                await store.append(meeting, [Event(seq, 0, "p1", "chat.sent",
                                                   {"id": "c", "room": "plenary",
                                                    "text": "hej hej"})])
                done = time.perf_counter()
                work(post_us)
                if record:
                    appends.append(done - started)
                    chat_lat.append(time.perf_counter() - due)

            def relay(due: float, record: bool) -> None:
                work(relay_us)
                if record:
                    relay_lat.append(time.perf_counter() - due)

            async def arrivals(rate: float, phase: float, make: Any, total_s: float,
                               warm_s: float) -> None:
                start = time.perf_counter() + phase / rate
                n = 0
                while True:
                    due = start + n / rate
                    if due - start > total_s:
                        return
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    make(due, due - start >= warm_s, n)
                    n += 1

            tasks: set[asyncio.Task[None]] = set()

            def spawn_chat(due: float, record: bool, n: int) -> None:
                task = loop.create_task(chat(due, f"m{n % 250}", record))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

            warm = 1.0
            cores = sorted(os.sched_getaffinity(0))
            busy0, wall0 = core_busy(), time.perf_counter()
            cpu0 = time.process_time()
            await asyncio.gather(
                arrivals(chats, 0.0, spawn_chat, seconds + warm, warm),
                arrivals(relays, 0.5, lambda due, rec, n: relay(due, rec), seconds + warm,
                         warm))
            while tasks:
                await asyncio.gather(*tasks)
            cpu = time.process_time() - cpu0
            busy1, wall = core_busy(), time.perf_counter() - wall0
    others = sum(busy1[c] - busy0[c] for c in cores) - cpu  # what other processes took
    n_chats, n_relays = len(chat_lat), len(relay_lat)
    total_chats = chats * (seconds + warm)
    total_relays = relays * (seconds + warm)
    workload_s = (total_chats * (pre_us + post_us) + total_relays * relay_us) * 1e-6
    return {
        "switch_interval_ms": sys.getswitchinterval() * 1e3,
        "appends": n_chats,
        "append_p50_ms": _pct(appends, 0.5) * 1e3,
        "append_p99_ms": _pct(appends, 0.99) * 1e3,
        "append_max_ms": max(appends, default=0) * 1e3,
        "appends_over_1ms": sum(1 for a in appends if a > 1e-3),
        "commits": len(commits),
        "commit_p50_ms": _pct([c for c, _ in commits], 0.5) * 1e3,
        "commit_p99_ms": _pct([c for c, _ in commits], 0.99) * 1e3,
        "commit_max_ms": max((c for c, _ in commits), default=0) * 1e3,
        "chat_p50_ms": _pct(chat_lat, 0.5) * 1e3,
        "chat_p99_ms": _pct(chat_lat, 0.99) * 1e3,
        "relay_p50_ms": _pct(relay_lat, 0.5) * 1e3,
        "relay_p99_ms": _pct(relay_lat, 0.99) * 1e3,
        "relays_over_1ms": sum(1 for r in relay_lat if r > 1e-3),
        "relays": n_relays,
        "cpu_s": cpu,
        "foreign_pct": max(0.0, others) / (wall * len(cores)) * 100,
        "cpu_beyond_work_us_per_chat": (cpu - workload_s) / total_chats * 1e6,
    }


def run(quick: bool = False, seconds: float = 10.0, store: str | None = None,
        switch_ms: float | None = None, chats: float = 900.0, relays: float = 900.0,
        pre_us: float = 120.0, post_us: float = 120.0, relay_us: float = 100.0
        ) -> dict[str, float]:
    if switch_ms is not None:
        sys.setswitchinterval(switch_ms / 1e3)
    return asyncio.run(measure(_store_class(store), 1.0 if quick else seconds, chats, relays,
                               pre_us, post_us, relay_us))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--store", help="another version of server/store/sqlite.py")
    parser.add_argument("--switch-ms", type=float)
    parser.add_argument("--chats", type=float, default=900.0)
    parser.add_argument("--relays", type=float, default=900.0)
    args = parser.parse_args()
    print(json.dumps(run(seconds=args.seconds, store=args.store, switch_ms=args.switch_ms,
                         chats=args.chats, relays=args.relays), indent=2))
