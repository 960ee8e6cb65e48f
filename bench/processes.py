"""Server subprocesses pinned to one core, and what /proc says about them."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
_live: set[subprocess.Popen[bytes]] = set()


class ServerStartError(RuntimeError):
    """A server subprocess exited or stayed silent instead of listening."""


@dataclass(frozen=True)
class ProcSample:
    """One process's CPU seconds (user + system) and resident memory at one instant, and
    each core's busy seconds (everything but idle and iowait; steal counts as busy)."""

    at: float
    cpu_s: float
    rss_kib: int
    core_busy_s: dict[int, float]


def sample(pid: int) -> ProcSample:
    at = time.perf_counter()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return ProcSample(at, cpu_s, rss_kib(pid), core_busy())


def core_busy() -> dict[int, float]:
    busy = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name.startswith("cpu") and name != "cpu":
            values = [int(t) for t in ticks[:8]]
            busy[int(name[3:])] = (sum(values) - values[3] - values[4]) / CLK_TCK
    return busy


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerStartError(f"Process {pid} has no VmRSS; it has probably exited.")


def wait_quiet(max_wait_s: float, busy_pct: float = 10.0, probe_s: float = 0.5) -> float:
    """Wait (at most max_wait_s) until no core is busier than busy_pct over probe_s, as on a
    shared machine between two runs, when nothing of ours runs. Returns the seconds waited."""
    started = time.monotonic()
    while True:
        before = core_busy()
        time.sleep(probe_s)
        after = core_busy()
        busiest = max((after[c] - before.get(c, 0.0)) / probe_s for c in after)
        waited = time.monotonic() - started
        if 100 * busiest <= busy_pct or waited >= max_wait_s:
            return waited


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def pin_argv(argv: list[str], cpu: int | None) -> list[str]:
    if cpu is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(cpu), *argv]


class ServerProcess:
    """One server subprocess; stdout and stderr go to files under log_dir."""

    def __init__(self, argv: list[str], log_dir: Path, *, cpu: int | None = 0,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / "stdout.log"
        self.stderr_path = log_dir / "stderr.log"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                pin_argv(argv, cpu), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env=env, cwd=cwd, process_group=0,
            )
        _live.add(self.proc)
        if cpu is not None and not shutil.which("taskset"):
            os.sched_setaffinity(self.proc.pid, {cpu})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_json_line(self, event: str, timeout: float = 15.0) -> dict[str, Any]:
        """Wait for a JSON line {"event": event, ...} on the server's stdout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and json.loads(line).get("event") == event:
                    return json.loads(line)
            self._check_alive()
            time.sleep(0.02)
        raise ServerStartError(f"No {event!r} line on stdout within {timeout} s.{self._tail()}")

    def wait_port(self, host: str, port: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise ServerStartError(
            f"Nothing listened on {host}:{port} within {timeout} s.{self._tail()}")

    def stderr_json(self) -> list[dict[str, Any]]:
        rows = []
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue
        return rows

    def stop(self, timeout: float = 5.0) -> None:
        stop_process(self.proc, timeout)

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise ServerStartError(f"The server exited with {self.proc.returncode}.{self._tail()}")

    def _tail(self) -> str:
        text = self.stderr_path.read_text(errors="replace")[-2000:]
        return f"\n--- server stderr ({self.stderr_path}) ---\n{text}" if text else ""


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after timeout."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout)
    _live.discard(proc)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has exited already
        os.killpg(proc.pid, sig)


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_live):
        stop_process(proc, timeout=2.0)
