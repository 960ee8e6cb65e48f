"""Scenarios owned elsewhere: a module with `run() -> dict`, run once in a child process.

Every bench/bench_*.py with a top-level `def run(` is included (bench_mix, bench_board,
...). `run` may take a `quick` keyword; --quick includes only the modules whose run()
does. Numeric values of the returned dict (nested dicts flattened with dots) become
metrics; the call is bounded by a timeout and runs in its own process (its prints go to
stderr), so a hang or a crash cannot take the runner down.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing as mp
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .registry import RunContext, Scenario

HERE = Path(__file__).resolve().parent


class ExternalError(RuntimeError):
    """An external scenario failed, hung, or returned no dict."""


def discover(quick: bool = False) -> list[Scenario]:
    """The external scenarios present; with quick, only those whose run() takes `quick`."""
    found = []
    for path in sorted(HERE.glob("bench_*.py")):
        if "\ndef run(" not in path.read_text():
            continue
        name, module = path.stem, f"bench.{path.stem}"
        if quick and not _takes_quick(module):
            continue
        found.append(Scenario(name=name, fn=_unused, show=(), reps=1, targets=("ours",),
                              external=True, about=f"{module}.run() -> dict (owned elsewhere)"))
    return found


def _takes_quick(module: str) -> bool:
    run = getattr(importlib.import_module(module), "run", None)
    return run is not None and "quick" in inspect.signature(run).parameters


def _unused(ctx: RunContext) -> dict[str, float]:
    raise ExternalError("External scenarios run through run_external().")


def run_external(scenario: Scenario, quick: bool, timeout: float) -> dict[str, float]:
    module = f"bench.{scenario.name}"
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, module, quick), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise ExternalError(f"{module}.run() did not return within {timeout:.0f} s.")
        kind, value = parent.recv()
    except EOFError as exc:
        raise ExternalError(f"{module}.run() died without returning.") from exc
    finally:
        _stop(proc)
        parent.close()
    if kind == "error":
        raise ExternalError(f"{module}.run() failed:\n{value}")
    return value


def _child(conn: Connection, module: str, quick: bool) -> None:
    import traceback

    sys.stdout = sys.stderr  # the runner's stdout is for its tables
    try:
        run = importlib.import_module(module).run
        kwargs = {"quick": quick} if "quick" in inspect.signature(run).parameters else {}
        result = run(**kwargs)
        if not isinstance(result, dict):
            raise ExternalError(f"{module}.run() returned {type(result).__name__}, not a dict.")
        conn.send(("result", flatten(result)))
    except BaseException:  # reported to the runner, which decides
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def _stop(proc: mp.process.BaseProcess) -> None:
    proc.join(2.0)
    deadline = time.monotonic() + 4.0
    if proc.is_alive():
        proc.terminate()
        proc.join(max(0.0, deadline - time.monotonic()))
    if proc.is_alive():
        proc.kill()
        proc.join(2.0)
