"""GC pause probe for benchmarked servers, loaded by Python at start-up through PYTHONPATH.

The runner starts every server (bare or ours) with this folder on PYTHONPATH and
BENCH_GC_LOG=1; each collection that takes 1 ms or more is then written to stderr as one
JSON line {"event": "bench.gc", "gen": G, "ms": M, "t": T}, T being time.perf_counter()
at its start (CLOCK_MONOTONIC, comparable with the load generator's clock). Nothing in
the server changes, and without BENCH_GC_LOG this module does nothing.
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
