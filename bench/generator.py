"""Inside one load-generator process: pinning, GC discipline, the phase handshake.

A process runs one Job: a named workload coroutine from bench.workloads over its share of
the rooms. It talks to the runner over a multiprocessing pipe: ("sync", tag, payload) and
then waits for the reply, so every process passes each phase together; at the end it
sends ("result", dict) or ("error", text). It reports its own CPU time (process_time)
over the measured window, so a run can show the generator was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from .client import new_session
from .framing import Codec
from .targets import ClientProtocol, Member


@dataclass(frozen=True)
class Job:
    workload: str
    base_url: str
    serializer: str
    protocol: ClientProtocol
    rooms: list[list[Member]]
    params: dict[str, Any]
    cpu: int | None = None
    compress: int = 0
    index: int = 0


class GcWatch:
    """Counts collections in this process and their pauses (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.pauses_ms.append((time.perf_counter() - self._t0) * 1000)


@dataclass
class Window:
    """Wall and CPU seconds of this process over one measured window."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@dataclass
class WorkerContext:
    job: Job
    conn: Connection
    session: aiohttp.ClientSession
    codec: Codec
    gc_watch: GcWatch
    window: Window = field(default_factory=Window)

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    async def sync(self, tag: str, payload: Any = None, timeout_s: float = 120.0) -> Any:
        """Tell the runner this process reached `tag`; wait for its reply to all processes.

        The heap is collected and frozen first, off the clock: the runner is waiting for
        the slowest process anyway."""
        gc.collect()
        gc.freeze()
        self.conn.send(("sync", tag, payload))
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            async with asyncio.timeout(timeout_s):
                await ready
        finally:
            loop.remove_reader(fd)
            os.set_blocking(fd, True)  # uvloop made it non-blocking; big results need blocking
        kind, reply = self.conn.recv()
        if kind != "go":
            raise RuntimeError(f"Expected 'go' from the runner at {tag!r}, got {kind!r}.")
        return reply

    @contextmanager
    def measured(self) -> Iterator[None]:
        """The measured window: GC off, wall and CPU time recorded."""
        gc.disable()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.window.wall_s += time.perf_counter() - wall0
            self.window.cpu_s += time.process_time() - cpu0
            gc.enable()


def worker_main(conn: Connection, job: Job) -> None:
    """Entry point of one generator process (forked by multiprocessing's fork server)."""
    if job.cpu is not None:
        os.sched_setaffinity(0, {job.cpu})
    watch = GcWatch()
    gc.callbacks.append(watch)
    try:
        import uvloop

        result = uvloop.run(_run(conn, job, watch))
        conn.send(("result", result))
    except BaseException:  # report anything to the runner; the process ends right after
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


async def _run(conn: Connection, job: Job, watch: GcWatch) -> dict[str, Any]:
    from .workloads import WORKLOADS

    workload = WORKLOADS[job.workload]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    async with new_session() as session:
        ctx = WorkerContext(job, conn, session, Codec(job.serializer), watch)
        result = await workload(ctx)
    result["gen"] = {
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - wall0,
        "window_cpu_s": ctx.window.cpu_s,
        "window_wall_s": ctx.window.wall_s,
        "gc_count": len(watch.pauses_ms),
        "gc_max_ms": max(watch.pauses_ms, default=0.0),
        "cpu": job.cpu,
    }
    return result
