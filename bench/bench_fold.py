"""Folding a long log: the ~200,000 events of ``bench_review``'s 3-hour meeting.

Restart recovery and the review player fold whole logs; this is their cost per event.
The log is made once and cached (``--log``), so before/after runs fold the same events.
Prints the median of ``--runs`` folds (seconds, and microseconds per event).

Run: ``.venv/bin/python -m bench.bench_fold [--events 200000] [--runs 5]``.
"""

import argparse
import gc
import statistics
import time
from pathlib import Path

import msgspec

from facilitation.session import fold
from rooms import Event


def load(path: Path, n: int) -> list[Event]:
    if not path.exists():
        from bench.bench_review import make_log
        path.write_bytes(msgspec.msgpack.encode(make_log(n)))
    return msgspec.msgpack.decode(path.read_bytes(), type=list[Event])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--log", type=Path, default=Path("/tmp/ledarstig-fold-200k.msgpack"))
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        events = load(args.log, args.events)  # fresh events: nothing decoded yet
        gc.collect()
        started = time.perf_counter()
        fold(events)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"fold of {len(events)} events: median {median:.3f} s "
          f"({median / len(events) * 1e6:.2f} µs/event) over {args.runs} runs; "
          f"all: {', '.join(f'{t:.3f}' for t in times)}")


if __name__ == "__main__":
    main()
