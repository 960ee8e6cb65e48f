"""The scenario registry. Add a scenario with @scenario(...) on a function of RunContext.

    @scenario("my_case", show=("thing_per_s",), checks=(Check("thing_per_s", ">=", 0.8),),
              needs=("broadcast",))
    def my_case(ctx: RunContext) -> dict[str, float]:
        with ctx.fleet("steady", ctx.rooms(40, 4), {...}) as fleet:  # see bench/workloads.py
            ...
        return {"thing_per_s": ...}

The function runs once per (repetition, target) against a freshly started server and
returns flat numeric metrics; the runner takes medians over repetitions and prints
ours / bare / ratio for the metrics in `show`. `needs` names the client operations used
("relay", "broadcast"); a target whose ClientProtocol lacks one is skipped as pending.
A plain `run() -> dict` in a bench/bench_*.py module (bench_mix, bench_board, ...) is
picked up as an external scenario (bench/external.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .fleet import Fleet
from .generator import Job
from .processes import ProcSample, sample
from .targets import Member, Target


@dataclass(frozen=True)
class Check:
    """A target printed beside a metric: the ratio of ours to another target of the same
    run (``against``: "bare" or "node") compared with ``value``."""

    metric: str
    op: str  # "<=", ">=" or "<"
    value: float
    against: str = "bare"

    def text(self) -> str:
        return f"/{self.against} {self.op} {self.value:g}"

    def verdict(self, ours: float, reference: float) -> bool | None:
        """None when the run lacks what it compares (the reference target was not run)."""
        ratio = ours / reference if reference and not math.isnan(reference) else math.nan
        if math.isnan(ratio):
            return None
        if self.op == "<":
            return ratio < self.value
        return ratio <= self.value if self.op == "<=" else ratio >= self.value


@dataclass(frozen=True)
class RunSettings:
    """How the runner drives the generator; the same for every scenario in one invocation."""

    quick: bool = False
    gen_processes: int = 1
    gen_cpus: tuple[int, ...] = (1,)
    server_cpu: int = 0
    ws_compress: int = 0


@dataclass
class RunContext:
    """What a scenario function gets for one run against one started target."""

    target: Target
    base_url: str
    serializer: str
    settings: RunSettings
    log_dir: Path

    @property
    def quick(self) -> bool:
        return self.settings.quick

    def rooms(self, clients: int, room_size: int) -> list[list[Member]]:
        sizes = [room_size] * (clients // room_size)
        if clients % room_size:
            sizes.append(clients % room_size)
        return self.target.plan(sizes)

    def fleet(self, workload: str, rooms: list[list[Member]], params: dict[str, Any]) -> Fleet:
        job = Job(workload, self.base_url, self.serializer, self.target.client, rooms, params,
                  compress=self.settings.ws_compress)
        return Fleet(job, rooms, self.settings.gen_processes, list(self.settings.gen_cpus))

    def server(self) -> ProcSample:
        return sample(self.target.pid)

    @staticmethod
    def wait_until(t: float) -> None:
        delay = t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


ScenarioFn = Callable[[RunContext], dict[str, float]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fn: ScenarioFn
    show: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    serializer: str = "json"
    loop: str = "asyncio"
    reps: int = 3
    targets: tuple[str, ...] = ("bare", "ours")
    needs: tuple[str, ...] = ()
    about: str = ""
    external: bool = False
    fresh_server: bool = False  # even with --quick, which otherwise reuses servers
    tags: tuple[str, ...] = field(default=())

    def checks_for(self, metric: str) -> list[Check]:
        return [c for c in self.checks if c.metric == metric]


SCENARIOS: dict[str, Scenario] = {}


def register(s: Scenario) -> Scenario:
    if s.name in SCENARIOS:
        raise ValueError(f"Scenario {s.name!r} is registered twice.")
    SCENARIOS[s.name] = s
    return s


Variant = tuple[str, str, tuple[str, ...]]  # (name suffix, "msgpack" or "uvloop", targets)


def scenario(name: str, *, show: tuple[str, ...], variants: tuple[Variant, ...] = (),
             **kw: Any) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register fn as `name` (json, asyncio) and as name.SUFFIX for each (suffix, key, targets)
    in variants, where key is "msgpack" (serializer) or "uvloop" (server loop)."""

    def deco(fn: ScenarioFn) -> ScenarioFn:
        base = register(Scenario(name, fn, show, about=(fn.__doc__ or "").strip(), **kw))
        for suffix, key, targets in variants:
            change = {"serializer": key} if key in ("json", "msgpack") else {"loop": key}
            register(replace(base, name=f"{name}.{suffix}", targets=targets, **change))
        return fn

    return deco
