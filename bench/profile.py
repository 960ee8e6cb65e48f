"""Profile a server under one benchmark load with py-spy (a sampling profiler).

    .venv/bin/pip install py-spy      # a tool, not a dependency of the server
    .venv/bin/python -m bench.profile --target ours --load fanout_10 --seconds 8 \\
        --out bench/results/profile-fanout10

Starts the target pinned to core 0 as bench.run does, drives the load from core 1, and
records the server with `py-spy record --pid` during the measured window (as root, or with
ptrace allowed). Writes OUT.txt (collapsed stacks, `--format raw`; py-spy can also turn
a recording into a flame graph) and prints the share of samples in each part of a
delivery (CATEGORIES), the busiest functions, and the figures of the load (deliveries/s,
server µs per delivery).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import fleet
from .ledarstig_target import LedarstigTarget
from .node_target import NodeTarget
from .registry import RunContext, RunSettings
from .scenarios import windowed_run
from .targets import REPO, BareTarget

LOADS = {  # name: (workload, clients, room size, params without the window)
    "fanout_10": ("broadcast_saturate", 400, 10, {"max_rate_per_client": 20.0}),
    "fanout_50": ("broadcast_saturate", 200, 50, {"max_rate_per_client": 20.0}),
    "broadcast_under_load": ("steady", 1000, 4, {"op": "broadcast", "rate_per_client": 0.9}),
    "delivery_under_load": ("steady", 1000, 4, {"op": "relay", "rate_per_client": 2.7}),
    "connect_1000": ("join_storm", 1000, 4, {}),
}
TARGETS = {"ours": LedarstigTarget, "bare": BareTarget, "node": NodeTarget}


CATEGORIES = (  # (label, frames that put a sample in it); the first label that matches wins.
    # py-spy sees a resumed coroutine's frames without the loop under them, so the
    # labels also name the innermost frames each part is known by.
    ("store thread: SQLite insert + commit", ("_worker (thread.py",)),
    ("engine.io writer task per recipient: queue.get, wait_for, ws.send, frame, socket write",
     ("_websocket_handler.<locals>.writer (", "AsyncSocket.poll (", "WebSocketWriter.",
      "wait_for (tasks.py", "Queue.get (", "WebSocket.send (aiohttp.py")),
    ("SocketServer.fanout: encode once, hand to each recipient", ("SocketServer.fanout (",)),
    ("store hand-off: append future, executor submit, wake-up", ("SQLiteStore",)),
    ("chat command: validate, fold, authorise, ack",
     ("Gateway", "commands.py", "Hub.", "LiveMeeting.")),
    ("receive: read, unmask, decode, dispatch",
     ("_websocket_handler (async_socket.py", "_handle_eio_message (", "_handle_event (",
      "WebSocketResponse.receive (", "data_received (")),
    ("event loop: select, callbacks, timers", ("BaseEventLoop._run_once (base_events.py",)),
)


JOIN_PARTS = (  # where one join's samples went (--join-window); the first label that matches
    ("store thread: SQLite insert + commit", ("_worker (thread.py",)),
    ("join: welcome built (snapshot, resume token, ICE)", ("Gateway._welcome (",)),
    ("join: welcome encoded and sent", ("Gateway._send_welcome.",)),
    ("join: participant.joined to the meeting", ("Dispatcher.deliver (",)),
    ("join: peer plans (the joiner's, its room's re-plan)", ("MediaPlans.",)),
    ("join: board.state", ("Dispatcher._send_board (",)),
    ("join: presence logged (follow-up)", ("PresenceLog.",)),
    ("join: presence to the meeting", ("Gateway._presence (",)),
    ("join: log append (decide, fold, store hand-off, log order)", ("Hub.apply (",)),
    ("join: the rest (bind, rooms entered, effects, dispatch, ack)",
     ("Gateway.join (", "Gateway._handle (", "SocketServer._handle_event_internal (")),
    ("connect: authenticate, `meeting`, Socket.IO CONNECT", ("SocketServer._handle_connect (",)),
    ("websocket upgrade (HTTP 101)",
     ("WebSocketResponse.prepare (", "WebSocketResponse.__init__ (")),
    ("receive: read, unmask, decode, dispatch", ("_serve_websocket (",)),
    ("Engine.IO handshake (session, OPEN)", ("AsyncServer._handle_connect (async_server.py",)),
    ("frames out: writer tasks, corked writes",
     ("_serve_websocket.<locals>.writer (", "SocketServer._uncork (")),
    ("accept, HTTP request, transports",
     ("_accept_connection", "RequestHandler.data_received (", "RequestHandler.start (",
      "RequestHandler.connection_made (", "_SelectorSocketTransport._read_ready")),
    ("event loop: select, callbacks, timers", ("BaseEventLoop._run_once (base_events.py",)),
)


def _short(frame: str) -> str:
    """"fn (path/to/file.py:12)" -> "fn (file.py"."""
    return frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]


def _stacks(collapsed: Path) -> list[tuple[str, int]]:
    """(stack, samples) of each line of a raw py-spy recording; a line broken by a frame
    name with a newline in it is left out."""
    out = []
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit() and stack:
            out.append((stack, int(count)))
    return out


def categorize(collapsed: Path, categories: tuple[tuple[str, tuple[str, ...]], ...] = CATEGORIES
               ) -> str:
    """Where the samples went, by the first category whose frame is on the stack."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for stack, n in _stacks(collapsed):
        total += n
        names = ";".join(_short(f) for f in stack.split(";"))
        label = next((lab for lab, frames in categories if any(f in names for f in frames)),
                     "other")
        counts[label] += n
    return "\n".join(f"{100 * n / total:5.1f} %  {label}" for label, n in counts.most_common())


def summarize(collapsed: Path, top: int = 40) -> str:
    """Self time and inclusive time per function, as shares of all samples."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for stack, n in _stacks(collapsed):
        frames = stack.split(";")
        total += n
        names = [_short(f) for f in frames]
        for name in set(names):
            inclusive[name] += n
        own[names[-1]] += n
    out = [f"{total} samples", "", "inclusive %  function"]
    out += [f"{100 * n / total:6.1f}  {name}" for name, n in inclusive.most_common(top)]
    out += ["", "self %  function"]
    out += [f"{100 * n / total:6.1f}  {name}" for name, n in own.most_common(top)]
    return "\n".join(out)


def storms(ctx: RunContext, clients: int, size: int, seconds: float,
           spy: Callable[[], Callable[[], None]] | None = None) -> tuple[Any, Any, Any]:
    """Join storms one after another (fresh clients each) for about ``seconds``. With
    ``spy``, each storm is recorded on its own, from just before its start to its last
    join (``spy()`` starts a recording and returns what stops it), so the samples hold
    the joins only: not the rooms' creation, the disconnects or the collection after."""
    results: list[dict[str, Any]] = []
    first = last = None
    cpu = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with ctx.fleet("join_storm", ctx.rooms(clients, size), {}) as fleet:
            fleet.gather("ready")
            stop = spy() if spy is not None else None
            s0 = ctx.server()
            fleet.release({"start_at": time.perf_counter() + (0.5 if spy else 0.1)})
            fleet.gather("joined", timeout=90)
            last = ctx.server()
            cpu += last.cpu_s - s0.cpu_s
            print(f"  storm: {last.cpu_s - s0.cpu_s:.2f} s server CPU", flush=True)
            if stop is not None:
                stop()
            first = first or s0
            fleet.release()
            results += fleet.results(timeout=60)
            time.sleep(1.5 if spy else 0)  # let the disconnects and the collection pass
    print(f"server CPU in the storms only: {cpu:.3f} s, "
          f"{cpu * 1e6 / max(1, sum(len(r['join_s']) for r in results)):.0f} µs per join")
    return results, first, last


def join_window_spy(py_spy: str, pid: int, rate: int,
                    out: Path) -> Callable[[], Callable[[], None]]:
    """A ``storms`` spy: one py-spy recording per storm, appended to ``out`` (raw)."""
    out.write_text("")
    part = out.with_suffix(".part")

    def start() -> Callable[[], None]:
        proc = subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", str(rate),
                                 "--format", "raw", "--nonblocking", "-o", str(part)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # attached before the storm starts

        def stop() -> None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
            if part.exists():
                with out.open("a") as f:
                    f.write(part.read_text())
                part.unlink()
        return stop
    return start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=sorted(TARGETS), default="ours")
    p.add_argument("--load", choices=sorted(LOADS), default="fanout_10")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    p.add_argument("--serializer", default="json")
    p.add_argument("--loop", default="asyncio")
    p.add_argument("--out", type=Path, default=REPO / "bench/results/profile")
    p.add_argument("--join-window", action="store_true",
                   help="connect_1000: record only from each storm's start to its last join")
    a = p.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    fleet.preload()
    target = TARGETS[a.target](cpu=0)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    url = target.start(a.serializer, a.loop, a.out.parent / "logs" / f"profile-{a.target}")
    try:
        workload, clients, size, extra = LOADS[a.load]
        params = {**extra, "warmup_s": 1.5, "duration_s": a.seconds}
        ctx = RunContext(target, url, a.serializer, RunSettings(gen_cpus=(1,)), a.out.parent)
        if workload == "join_storm" and a.join_window:
            t0 = time.monotonic()
            start = join_window_spy(py_spy, target.pid, a.rate, a.out.with_suffix(".txt"))
            results, s0, s1 = storms(ctx, clients, size, a.seconds, start)
            print(f"{a.target} {a.load}: {sum(len(r['join_s']) for r in results)} joins, "
                  f"{time.monotonic() - t0:.0f} s")
            return _report(a.out.with_suffix(".txt"), JOIN_PARTS)
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(target.pid), "--rate", str(a.rate), "--format",
             "raw", "--duration", str(int(a.seconds)), "--nonblocking", "-o",
             str(a.out.with_suffix(".txt"))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # py-spy starts sampling at once; the load's warm-up covers the connect phase
        t0 = time.monotonic()
        if workload == "join_storm":
            results, s0, s1 = storms(ctx, clients, size, a.seconds)
        else:
            results, s0, s1 = windowed_run(ctx, workload, clients, size, params)
        spy.wait(timeout=60 + a.seconds)
        received = sum(r.get("received_in_window", len(r.get("delivery_s", r.get("join_s", ()))))
                       for r in results)
        cpu = s1.cpu_s - s0.cpu_s
        print(f"{a.target} {a.load}: {received / a.seconds:,.0f} deliveries/s, "
              f"{cpu * 1e6 / max(1, received):.1f} µs server CPU per delivery, "
              f"server CPU {100 * cpu / (s1.at - s0.at):.0f} %, {time.monotonic() - t0:.0f} s")
    finally:
        target.stop()
    return _report(a.out.with_suffix(".txt"))


def _report(text: Path, categories: tuple[tuple[str, tuple[str, ...]], ...] = CATEGORIES
            ) -> int:
    if text.exists() and text.stat().st_size:
        print(categorize(text, categories))
        print()
        print(summarize(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
