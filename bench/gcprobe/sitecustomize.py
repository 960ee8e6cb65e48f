"""GC pause probe for benchmarked servers, loaded by Python at start-up through PYTHONPATH.

The runner starts every server (bare or ours) with this folder on PYTHONPATH and
BENCH_GC_LOG=1; each collection that takes 1 ms or more is then written to stderr as one
JSON line {"event": "bench.gc", "gen": G, "ms": M, "t": T}, T being time.perf_counter()
at its start (CLOCK_MONOTONIC, comparable with the load generator's clock). Nothing in
the server changes, and without BENCH_GC_LOG this module does nothing.

With BENCH_SLOW_LOG=1 (passed on by ``bench.run`` from its own environment) it also
times every callback of an asyncio event loop (not uvloop) and writes those that took
over 0.5 ms of the thread's CPU as {"event": "bench.slow", "cpu_ms", "wall_ms", "cb",
"t"}: which task (its chain of awaits) or callback held the loop. A diagnostic: it
costs ~1 µs per callback.
"""

import gc
import json
import os
import sys
import time


def _install() -> None:
    started = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        if ms >= 1.0:
            line = {"event": "bench.gc", "gen": info["generation"], "ms": round(ms, 2),
                    "t": round(started[0], 6)}
            sys.stderr.write(json.dumps(line) + "\n")
            sys.stderr.flush()

    gc.callbacks.append(callback)


if os.environ.get("BENCH_GC_LOG"):
    _install()


if os.environ.get("BENCH_SLOW_LOG"):
    import asyncio.events as _ev
    _orig = _ev.Handle._run

    def _run(self):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), time.thread_time()
        _orig(self)
        cpu = time.thread_time() - c
        if cpu > 0.0005:
            sys.stderr.write(json.dumps({"event": "bench.slow", "cpu_ms": round(cpu * 1e3, 2),
                                         "wall_ms": round((time.perf_counter() - t) * 1e3, 2),
                                         "cb": _name(self._callback), "t": t}) + "\n")

    def _name(cb):  # type: ignore[no-untyped-def]
        task = getattr(cb, "__self__", None)
        if task is not None and hasattr(task, "get_coro"):
            coro = task.get_coro()
            frames = []
            while coro is not None:
                frames.append(getattr(coro, "__qualname__", type(coro).__name__))
                coro = getattr(coro, "cr_await", None)
            return "task:" + ">".join(frames[-6:])
        return repr(cb)[:200]
    _ev.Handle._run = _run
