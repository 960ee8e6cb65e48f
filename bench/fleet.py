"""The runner's side of the load generator: N processes, whole rooms each, in lockstep."""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from .generator import Job, worker_main
from .targets import Member

# forkserver: children fork from a clean, single-threaded server process that has already
# imported FORKSERVER_PRELOAD, so a generator starts in milliseconds instead of ~0.3 s.
START_METHOD = "forkserver"
FORKSERVER_PRELOAD = ["bench.generator", "bench.workloads", "aiohttp", "msgpack", "uvloop"]


def preload() -> None:
    """Start the fork server now, so its imports do not land in a measured window."""
    ctx = mp.get_context(START_METHOD)
    ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
    proc = ctx.Process(target=int, daemon=True)
    proc.start()
    proc.join(30)


class FleetError(RuntimeError):
    """A generator process failed, or did not reach a phase in time."""


def split_rooms(rooms: list[list[Member]], n: int) -> list[list[list[Member]]]:
    """Deal whole rooms round-robin to n processes (no room spans two processes)."""
    n = max(1, min(n, len(rooms)))
    return [rooms[i::n] for i in range(n)]


class Fleet:
    """Generator processes running one workload; use as a context manager."""

    def __init__(self, job: Job, rooms: list[list[Member]], processes: int,
                 cpus: list[int] | None) -> None:
        shares = split_rooms(rooms, processes)
        self.jobs = [
            replace(job, rooms=share, index=i,
                    cpu=cpus[i % len(cpus)] if cpus else None)
            for i, share in enumerate(shares)
        ]
        self._procs: list[BaseProcess] = []
        self._conns: list[Connection] = []

    def __enter__(self) -> Fleet:
        ctx = mp.get_context(START_METHOD)
        for job in self.jobs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, job), daemon=True,
                               name=f"bench-gen-{job.index}")
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
        return self

    def gather(self, tag: str, timeout: float = 120.0) -> list[Any]:
        """Wait until every process has sent ("sync", tag, payload); returns the payloads."""
        return [self._expect(conn, "sync", tag, timeout) for conn in self._conns]

    def release(self, reply: Any = None) -> None:
        for conn in self._conns:
            conn.send(("go", reply))

    def sync(self, tag: str, reply: Any = None, timeout: float = 120.0) -> list[Any]:
        payloads = self.gather(tag, timeout)
        self.release(reply)
        return payloads

    def results(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        return [self._expect(conn, "result", None, timeout) for conn in self._conns]

    def _expect(self, conn: Connection, kind: str, tag: str | None, timeout: float) -> Any:
        if not wait([conn], timeout):
            raise FleetError(f"A generator process sent nothing for {timeout} s (waiting for "
                             f"{kind} {tag or ''}).")
        try:
            message = conn.recv()
        except EOFError as exc:
            raise FleetError("A generator process died without a word.") from exc
        if message[0] == "error":
            raise FleetError(f"A generator process failed:\n{message[1]}")
        if message[0] != kind or (tag is not None and message[1] != tag):
            raise FleetError(f"Expected {kind} {tag or ''} from a generator, got {message[:2]}.")
        return message[-1]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        deadline = time.monotonic() + (10.0 if exc is None else 2.0)
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(2.0)
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
        for conn in self._conns:
            conn.close()
