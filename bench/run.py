"""Run the benchmark scenarios against our server and the bare baseline; print and save.

    .venv/bin/python -m bench.run [--quick] [--only NAME,...] [--json bench/results/latest.json]

Repetitions are interleaved (rep 1 of every scenario and target, then rep 2, ...) and each
run gets a freshly started server (--quick reuses one per configuration). Servers are
pinned to --server-cpu, the generator processes and this runner to --gen-cpus.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import external, fleet, machine, report, scenarios  # noqa: F401  (scenarios registers)
from .ledarstig_target import BeforeTarget, LedarstigTarget
from .node_target import NodeTarget, ensure_installed
from .processes import wait_quiet
from .registry import SCENARIOS, RunContext, RunSettings, Scenario
from .targets import REPO, BareTarget, Target

TARGETS: dict[str, type] = {"bare": BareTarget, "ours": LedarstigTarget,
                            "before": BeforeTarget, "node": NodeTarget}


class ServerPool:
    """Hands out started targets: fresh for every run, or one per configuration with reuse."""

    def __init__(self, settings: RunSettings, log_root: Path, reuse: bool,
                 options: dict[str, dict[str, Any]]) -> None:
        self.settings, self.log_root, self.reuse = settings, log_root, reuse
        self.options = options  # constructor keywords per target name
        self._running: dict[tuple[str, str, str], tuple[Target, str]] = {}
        self._count = 0

    def get(self, name: str, serializer: str, loop: str, fresh: bool) -> tuple[Target, str]:
        key = (name, serializer, loop)
        if fresh and key in self._running:
            self._running.pop(key)[0].stop()
        if key not in self._running:
            self._count += 1
            target = TARGETS[name](cpu=self.settings.server_cpu, **self.options.get(name, {}))
            log_dir = self.log_root / f"{self._count:03d}-{name}-{serializer}-{loop}"
            try:
                self._running[key] = (target, target.start(serializer, loop, log_dir))
            except BaseException:
                target.stop()
                raise
        return self._running[key]

    def done(self, name: str, serializer: str, loop: str, fresh: bool) -> None:
        if fresh or not self.reuse:
            target, _ = self._running.pop((name, serializer, loop))
            target.stop()

    def stop_all(self) -> None:
        while self._running:
            _, (target, _) = self._running.popitem()
            target.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke-sized run of everything")
    p.add_argument("--only", default="", help="comma-separated scenario names (see --list)")
    p.add_argument("--json", type=Path, default=REPO / "bench/results/latest.json")
    p.add_argument("--targets", default="bare,ours",
                   help="comma-separated: bare, ours, before ($LEDARSTIG_BENCH_BEFORE), "
                        "node (socket.io 4 in bench/node)")
    p.add_argument("--reps", type=int, default=None, help="override every scenario's repetitions")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--gen-cpus", default="1", help="cores for the generator, e.g. 1 or 1,2")
    p.add_argument("--gen-processes", type=int, default=1, help="generator processes")
    p.add_argument("--ws-compress", action="store_true",
                   help="offer permessage-deflate like browsers do (off: plain frames)")
    p.add_argument("--budget-s", type=float, default=570.0,
                   help="skip runs that would start after this many seconds")
    p.add_argument("--retry-noisy", type=int, default=0, metavar="N",
                   help="run again, up to N times, a run during which other processes took "
                        "over 5%% of our cores (shared machines)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                   help="before each run wait up to S seconds until no core is over 10%% busy")
    p.add_argument("--bare-args", default="",
                   help='extra flags for bench/bare_server.py, e.g. "--gc-freeze"')
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> RunSettings:
    usable = os.sched_getaffinity(0)
    gen_cpus = tuple(c for c in map(int, args.gen_cpus.split(",")) if c in usable)
    server_cpu = args.server_cpu if args.server_cpu in usable else None
    return RunSettings(quick=args.quick, gen_processes=args.gen_processes,
                       gen_cpus=gen_cpus or tuple(sorted(usable)), server_cpu=server_cpu,
                       ws_compress=15 if args.ws_compress else 0)


def select(only: str, all_scenarios: list[Scenario]) -> list[Scenario]:
    if not only:
        return all_scenarios
    by_name = {s.name: s for s in all_scenarios}
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"Unknown scenario(s) {', '.join(unknown)}; see --list.")
    return [by_name[n] for n in names]


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Session:
    """One invocation: the interleaved repetitions, their servers, their results."""

    def __init__(self, selected: list[Scenario], targets: list[str], args: argparse.Namespace,
                 settings: RunSettings, log_root: Path) -> None:
        self.selected, self.args, self.settings, self.log_root = selected, args, settings, log_root
        self.results: dict[str, Any] = {
            s.name: {"about": s.about, "serializer": s.serializer, "loop": s.loop,
                     "external": s.external,
                     "targets": {t: {"runs": [], "errors": [], "skipped": 0}
                                 for t in _targets_of(s, targets)}}
            for s in selected
        }
        options = {"bare": {"extra_args": tuple(shlex.split(args.bare_args))}}
        self.pool = ServerPool(settings, log_root, reuse=settings.quick, options=options)
        self.reps = {s.name: 1 if settings.quick or s.external else (args.reps or s.reps)
                     for s in selected}
        self.started = time.monotonic()

    def execute(self) -> dict[str, Any]:
        try:
            for rep in range(max(self.reps.values(), default=0)):
                for s in self.selected:
                    if rep < self.reps[s.name]:
                        for name, slot in self.results[s.name]["targets"].items():
                            self.run_slot(s, name, slot, f"[{rep + 1}/{self.reps[s.name]}]")
        finally:
            self.pool.stop_all()
        for s in self.selected:
            entry = self.results[s.name]
            for slot in entry["targets"].values():
                slot["median"] = report.medians(slot["runs"]) if slot["runs"] else {}
            entry["rows"] = report.rows(s, entry["targets"])
        return self.results

    def run_slot(self, s: Scenario, name: str, slot: dict[str, Any], rep: str) -> None:
        missing = set(s.needs) - TARGETS[name].client.supports
        if missing:
            slot["pending"] = f"its client cannot {', '.join(sorted(missing))} yet"
        elif time.monotonic() - self.started > self.args.budget_s:
            slot["skipped"] += 1
        else:
            label = f"{rep} {s.name} {name} {s.serializer}/{s.loop}"
            try:
                slot["runs"].append(self.measure(s, name, slot, label))
            except Exception as exc:  # one failed run must not stop the others
                slot["errors"].append(f"{type(exc).__name__}: {exc}")
                log(f"{label}: FAILED\n{traceback.format_exc()}")

    def measure(self, s: Scenario, name: str, slot: dict[str, Any], label: str) -> dict[str, float]:
        """One run, again up to --retry-noisy times while other processes disturb it."""
        for attempt in range(1 + self.args.retry_noisy):
            if self.args.wait_quiet and (waited := wait_quiet(self.args.wait_quiet)) > 1:
                log(f"    waited {waited:.0f} s for the machine to calm down")
            t0 = time.monotonic()
            metrics = self.once(s, name)
            log(f"{label}: {time.monotonic() - t0:.1f} s")
            if warning := report.noise_warning(metrics):
                log(warning)
            if not report.noisy(metrics) or attempt == self.args.retry_noisy:
                break
            slot["noisy_retries"] = slot.get("noisy_retries", 0) + 1
        return metrics

    def once(self, s: Scenario, name: str) -> dict[str, float]:
        if s.external:
            return external.run_external(s, self.settings.quick, timeout=300)
        target, url = self.pool.get(name, s.serializer, s.loop, s.fresh_server)
        try:
            return s.fn(RunContext(target, url, s.serializer, self.settings, self.log_root))
        finally:
            self.pool.done(name, s.serializer, s.loop, s.fresh_server)


def _targets_of(s: Scenario, chosen: list[str]) -> list[str]:
    """The chosen targets this scenario runs; "before" goes wherever "ours" does, "node"
    wherever "bare" does (it does the bare server's jobs)."""
    names = [t for t in s.targets if t in chosen]
    if "before" in chosen and "ours" in names:
        names.append("before")
    if "node" in chosen and "bare" in s.targets:
        names.append("node")
    return names


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    all_scenarios = list(SCENARIOS.values()) + external.discover(quick=args.quick and not args.only)
    if args.list:
        for s in all_scenarios:
            print(f"{s.name:28} {s.serializer}/{s.loop:8} {','.join(s.targets):10} "
                  f"{s.about.splitlines()[0] if s.about else ''}")
        return 0
    settings = settings_from(args)
    os.sched_setaffinity(0, set(settings.gen_cpus))  # keep the server's core to the server
    fleet.preload()

    selected = select(args.only, all_scenarios)
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    notes = {t: TARGETS[t].unavailable() for t in wanted if t in TARGETS}
    targets = [t for t in wanted if t in TARGETS and notes[t] is None]
    for t, why in notes.items():
        if why:
            print(f"target {t} skipped: {why}", file=sys.stderr)
    if "node" in targets:
        ensure_installed()  # npm ci once, before anything is measured
    log_root = args.json.parent / "logs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    prune_logs(log_root.parent, keep=5)
    t0 = time.monotonic()
    results = Session(selected, targets, args, settings, log_root).execute()
    ours_note = "pending" if notes.get("ours") else "-"
    print(report.main_table(results, ours_note))
    print()
    print(report.diagnostics_table(results))
    if any(entry["external"] for entry in results.values()):
        print()
        print(report.external_table(results))
    out = {
        "meta": {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - t0, 1),
            "argv": sys.argv[1:] if argv is None else argv,
            "settings": settings.__dict__ | {"gen_cpus": list(settings.gen_cpus)},
            "targets": {t: notes.get(t) or "ran" for t in wanted},
            "machine": machine.describe(),
        },
        "scenarios": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_clean(out), indent=1, default=str))
    print(f"\nwrote {args.json} in {out['meta']['duration_s']} s", file=sys.stderr)
    failed = any(slot["errors"] for e in results.values() for slot in e["targets"].values())
    return 1 if failed else 0


def prune_logs(folder: Path, keep: int) -> None:
    """Server logs and data dirs of earlier invocations: keep the newest few."""
    if folder.is_dir():
        for old in sorted(p for p in folder.iterdir() if p.is_dir())[:-keep]:
            shutil.rmtree(old, ignore_errors=True)


def _clean(v: Any) -> Any:
    """NaN is not JSON: write null."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


if __name__ == "__main__":
    sys.exit(main())
