"""A steady load's whole latency distribution and CPU split, target by target.

    .venv/bin/python -m bench.tails ours,node [--op broadcast|relay] [--seconds 15] \\
        [--reps 2] [--loop asyncio|uvloop]

Runs the load of ``broadcast_under_load`` (``--op broadcast``: 1,000 clients in rooms of
4, 0.9 chats a second each) or ``delivery_under_load`` (``--op relay``: 2.7 relays a
second each) against each target in turn, repetitions interleaved: every run gets a
fresh server (and a fresh data directory) pinned to core 0, the clients on core 1, as
``bench.run`` does. A target is ``bare``, ``node``, ``ours`` (this venv's
``ledarstig``) or the path of another checkout's ``ledarstig``.

Per run it prints the delivery percentiles from the median to p99.9 and the maximum
(``bench.run`` shows p50/p99/max), and the server's CPU per delivery from
``/proc/PID/schedstat``, split into user and system time from ``/proc/PID/stat``: a
tail that moves while the CPU per delivery does not is a stall or a wait, not work.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from . import fleet
from .registry import RunContext, RunSettings
from .scenarios import windowed_run
from .storm_cpu import _schedstat_ns, _target, _user_system_ms

RATES = {"broadcast": 0.9, "relay": 2.7}
PERCENTILES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def one_run(name: str, op: str, seconds: float, loop: str, log_root: Path) -> str:
    target = _target(name)
    log_dir = log_root / name.strip("/").replace("/", "_")
    shutil.rmtree(log_dir, ignore_errors=True)  # a fresh log: nobody from an earlier run
    url = target.start("json", loop, log_dir)  # type: ignore[attr-defined]
    try:
        ctx = RunContext(target, url, "json", RunSettings(gen_cpus=(1,)), log_root)  # type: ignore[arg-type]
        marks: list[tuple[int, tuple[int, int]]] = []
        sample = ctx.server
        pid = target.pid  # type: ignore[attr-defined]

        def server() -> object:
            marks.append((_schedstat_ns(f"/proc/{pid}/schedstat"), _user_system_ms(pid)))
            return sample()
        ctx.server = server  # type: ignore[method-assign]
        params = {"op": op, "rate_per_client": RATES[op], "warmup_s": 2.0,
                  "duration_s": seconds}
        results, _, _ = windowed_run(ctx, "steady", 1000, 4, params)
    finally:
        target.stop()  # type: ignore[attr-defined]
    got = sorted(x for r in results for x in r["delivery_s"])
    n = len(got)
    (cpu0, (user0, sys0)), (cpu1, (user1, sys1)) = marks[0], marks[-1]
    cells = " ".join(f"p{100 * q:g} {1000 * got[min(n - 1, int(q * n))]:.3f}"
                     for q in PERCENTILES)
    user, system = 1000 * (user1 - user0) / n, 1000 * (sys1 - sys0) / n
    return (f"{name[-28:]:28s} {n} deliveries  {cells}  max {1000 * got[-1]:.2f} ms | "
            f"CPU/delivery {(cpu1 - cpu0) / 1000 / n:.1f} µs (user {user:.1f}, "
            f"system {system:.1f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", help="comma-separated: bare, node, ours or a ledarstig path")
    p.add_argument("--op", choices=sorted(RATES), default="broadcast")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    a = p.parse_args()
    fleet.preload()
    log_root = Path(tempfile.mkdtemp(prefix="ledarstig-tails-"))
    try:
        for rep in range(a.reps):
            for name in a.targets.split(","):
                print(f"rep {rep} {one_run(name, a.op, a.seconds, a.loop, log_root)}",
                      flush=True)
    finally:
        shutil.rmtree(log_root, ignore_errors=True)


if __name__ == "__main__":
    main()
