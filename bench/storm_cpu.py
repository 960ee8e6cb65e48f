"""Where a join storm's time goes: server CPU per join, split user/system, beside bare.

    .venv/bin/python -m bench.storm_cpu bare ours [OTHER_LEDARSTIG ...] [--reps 7] \\
        [--clients 1000] [--timeline]

Each target is ``bare`` (bench/bare_server.py), ``node`` (bench/node), ``ours`` (this
venv's ``ledarstig``) or the path of another checkout's ``ledarstig``. Repetitions are
interleaved; every storm
gets a fresh server pinned to core 0, the clients (one process, as bench.run's default
generator) run on core 1, and the storm is bench.run's ``connect_1000``: all clients
open a websocket, CONNECT and join a room of 4 at one instant. With ``--joins-only``
every client is connected first, and the storm (and what is measured) is the joins:
what a join costs beyond the connection.

Per storm it reads the server's CPU from ``/proc/PID/schedstat`` (nanoseconds, not the
10 ms ticks of ``/proc/PID/stat``) over the storm only (the meetings are made before,
the clients closed after), with user and system time from ``/proc/PID/stat``, and the
generator's CPU. ``--timeline`` prints, per 50 ms of the first repetition, how busy the
server and the generator were and how many CONNECTs and joins completed: from the
moment the generator has opened its connections the server is saturated, so the last
join comes when the server's work is done, and a storm's time follows its CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from .client import SioClient, new_session, websocket_url
from .framing import Codec
from .ledarstig_target import LedarstigTarget, ledarstig_command
from .node_target import NodeTarget
from .targets import BareTarget

clock = time.perf_counter


def _schedstat_ns(path: str) -> int:
    with open(path) as f:
        return int(f.read().split()[0])


def _user_system_ms(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick_ms = 1000 // os.sysconf("SC_CLK_TCK")
    return int(fields[11]) * tick_ms, int(fields[12]) * tick_ms


def _target(name: str) -> Any:
    """``bare``, ``node``, ``ours`` or another checkout's ``ledarstig``, pinned to core 0."""
    if name == "bare":
        return BareTarget(cpu=0)
    if name == "node":
        return NodeTarget(cpu=0)
    target = LedarstigTarget(cpu=0)
    if name != "ours":
        target.command = lambda: [name]  # type: ignore[method-assign]
    return target


async def _storm(url: str, members: list[Any], proto: Any, pid: int,
                 samples: list[tuple[float, int, int]] | None,
                 joins_only: bool = False) -> dict[str, Any]:
    codec = Codec("json")
    done: list[float] = []
    connected: list[float] = []
    async with new_session() as session:
        async def connect(member: Any) -> SioClient:
            client = SioClient(codec, lambda event, args: None)
            await client.connect(session, websocket_url(url), proto.auth(member))
            return client

        # --joins-only: every client connected before, untimed; the storm is the joins
        ready = (await asyncio.gather(*map(connect, members)) if joins_only
                 else [None] * len(members))
        start = clock() + 0.3

        async def one(member: Any, client: SioClient | None) -> SioClient:
            await asyncio.sleep(start - clock())
            if client is None:
                client = await connect(member)
                connected.append(clock() - start)
            await proto.join(client, member)
            done.append(clock() - start)
            return client

        stop = threading.Event()
        sampler = None
        if samples is not None:
            tid = threading.get_native_id()

            def sample() -> None:
                while not stop.is_set():
                    samples.append((clock() - start, _schedstat_ns(f"/proc/{pid}/schedstat"),
                                    _schedstat_ns(f"/proc/self/task/{tid}/schedstat")))
                    time.sleep(0.002)
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        tasks = [asyncio.ensure_future(one(m, c)) for m, c in zip(members, ready, strict=True)]
        await asyncio.sleep(max(0.0, start - clock() - 0.01))
        cpu0, gen0, us0 = _schedstat_ns(f"/proc/{pid}/schedstat"), time.process_time(), \
            _user_system_ms(pid)
        clients = await asyncio.gather(*tasks)
        cpu1, gen1, us1 = _schedstat_ns(f"/proc/{pid}/schedstat"), time.process_time(), \
            _user_system_ms(pid)
        stop.set()
        if sampler is not None:
            sampler.join()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"last_join_s": max(done), "server_cpu_ms": (cpu1 - cpu0) / 1e6,
            "user_ms": us1[0] - us0[0], "system_ms": us1[1] - us0[1],
            "gen_cpu_ms": (gen1 - gen0) * 1000, "done": done, "connected": connected}


def _timeline(run: dict[str, Any], samples: list[tuple[float, int, int]]) -> None:
    step = 0.05
    for i in range(int(run["last_join_s"] / step) + 1):
        seg = [s for s in samples if i * step <= s[0] < (i + 1) * step]
        if len(seg) < 2:
            continue
        wall = seg[-1][0] - seg[0][0]
        server = (seg[-1][1] - seg[0][1]) / 1e9 / wall * 100
        gen = (seg[-1][2] - seg[0][2]) / 1e9 / wall * 100
        joins = sum(1 for t in run["done"] if i * step <= t < (i + 1) * step)
        connects = sum(1 for t in run["connected"] if i * step <= t < (i + 1) * step)
        print(f"    {i * step:.2f} s  server {server:4.0f} %  generator {gen:4.0f} %  "
              f"CONNECTs {connects:4d}  joins {joins:4d}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", help="bare, ours or a path to a `ledarstig`")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--timeline", action="store_true")
    p.add_argument("--joins-only", action="store_true",
                   help="connect every client first (not measured), then storm the joins")
    a = p.parse_args(argv)
    if "ours" in a.targets and ledarstig_command() is None:
        raise SystemExit("the `ledarstig` command is not installed in this venv")
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in a.targets}
    for rep in range(a.reps):
        for name in a.targets:
            target = _target(name)
            url = target.start("json", "asyncio", Path(f"bench/results/logs/storm-cpu-{rep}"))
            try:
                members = [m for room in target.plan([4] * (a.clients // 4)) for m in room]
                time.sleep(0.3)
                samples: list[tuple[float, int, int]] | None = \
                    [] if a.timeline and rep == 0 else None
                run = asyncio.run(_storm(url, members, target.client, target.pid, samples,
                                         a.joins_only))
            finally:
                target.stop()
            runs[name].append(run)
            print(f"rep {rep} {name[-40:]:40} last join {run['last_join_s']:.3f} s  "
                  f"server {run['server_cpu_ms']:.0f} ms (user {run['user_ms']} system "
                  f"{run['system_ms']})  generator {run['gen_cpu_ms']:.0f} ms", flush=True)
            if samples is not None:
                _timeline(run, samples)
    print("\nmedians (last join relative to the first target's):")
    base = statistics.median(r["last_join_s"] for r in runs[a.targets[0]])
    for name, rs in runs.items():
        last = statistics.median(r["last_join_s"] for r in rs)
        cpu, user, system, gen = (statistics.median(r[k] for r in rs) for k in (
            "server_cpu_ms", "user_ms", "system_ms", "gen_cpu_ms"))
        print(f"  {name[-40:]:40} last join {last:.3f} s ({last / base:.3f}x)  server "
              f"{1000 * cpu / a.clients:.0f} µs/join  user {user:.0f} ms  system "
              f"{system:.0f} ms  generator {gen:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
