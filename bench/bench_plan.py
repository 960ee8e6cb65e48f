"""The mixing yardstick: whole-session plans against round-by-round mix and random.

A family of rosters (20 to 1,000 people, 6 to 60 municipalities of skewed size,
groups of 3 to 6 with uneven splits, 3 to 10 rounds, some with a municipality
larger than the number of groups, one at the social golfer limit) is planned
three ways, each over every round of the session:

- ``plan``: ``facilitation.schedule.plan_session`` (what a mixed round does when
  the agenda or the facilitator says how many rounds follow);
- ``mix``: ``facilitation.mix`` round after round (an ad hoc round, as before);
- ``random``: ``random_groups`` round after round.

For each: same-municipality pairs above the minimum, repeated pairs (pairs who
already shared a group), the fewest distinct people anyone met, and time;
beside them the plan's lower bound on repeats. Where the plan has repeats but
the bound is zero, a long search (the reference: the same search with a budget
of 600,000 iterations, 40–60 s of CPU) shows whether zero was reachable.

Timings: a whole session of 8 rounds for 60 people (target < 2 s), one round
for 1,000 people (target < 50 ms), re-planning the remaining rounds after a
join and a leave (target < 200 ms).

Times are CPU seconds of this process (``time.process_time``): on a shared
machine wall time swings with other people's load, CPU time much less.

Run ``python -m bench.bench_plan [--quick] [--json out.json]`` (~2–4 min on a
quiet machine, ``--quick`` ~20 s); ``bench.run`` runs it as an external module.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facilitation import Encounters, Person, mix, random_groups  # noqa: E402
from facilitation.schedule import plan_session  # noqa: E402

REFERENCE_ITERATIONS = 600_000  # 40–60 s of CPU on these rosters
SESSION_TARGET_S = 2.0
ROUND_TARGET_MS = 50.0
REPLAN_TARGET_MS = 200.0


@dataclass(frozen=True)
class Case:
    name: str
    sizes: tuple[int, ...]  # people per municipality
    group_count: int
    rounds: int

    @property
    def people(self) -> int:
        return sum(self.sizes)


def skewed(total: int, count: int, exponent: float = 0.8) -> tuple[int, ...]:
    """Zipf-like municipality sizes (a few large towns, many small ones) summing to ``total``."""
    weights = [1 / (rank + 1) ** exponent for rank in range(count)]
    shares = [total * w / sum(weights) for w in weights]
    sizes = [max(1, int(share)) for share in shares]
    by_remainder = sorted(range(count), key=lambda m: shares[m] - int(shares[m]), reverse=True)
    for m in by_remainder[: total - sum(sizes)]:
        sizes[m] += 1
    return tuple(sizes)


CASES = (
    Case("20 p, 6 munis, groups of 4, 3 rounds", skewed(20, 6, 0.3), 5, 3),
    Case("32 p, 8 munis, groups of 4, 8 rounds", skewed(32, 8, 0.3), 8, 8),
    Case("40 p, 12 munis, groups of 4, 8 rounds", (7, 6, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1), 10, 8),
    Case("50 p, 16 munis, groups of 5-6, 5 rounds", skewed(50, 16), 9, 5),
    Case("48 p, 12 munis (one of 9), groups of 6, 4 rounds", skewed(48, 12, 1.2), 8, 4),
    Case("39 p, 11 munis (one of 8), groups of 6-7, 5 rounds",
         (8, 6, 5, 4, 4, 3, 3, 2, 2, 1, 1), 6, 5),
    Case("60 p, 20 munis, groups of 5, 8 rounds", skewed(60, 20), 12, 8),
    Case("60 p, 15 munis, groups of 3, 6 rounds", skewed(60, 15), 20, 6),
    Case("52 p, 14 munis, groups of 5-6, 10 rounds", skewed(52, 14), 10, 10),
    Case("32 p, 32 munis, groups of 4, 10 rounds (social golfer)", (1,) * 32, 8, 10),
    Case("150 p, 30 munis, groups of 4-5, 6 rounds", skewed(150, 30), 33, 6),
    Case("1000 p, 60 munis, groups of 5, 3 rounds", skewed(1000, 60), 200, 3),
)
QUICK = (CASES[0], CASES[2], CASES[3], CASES[6])


@dataclass(frozen=True)
class Figures:
    colleague_excess: int
    repeats: int
    fewest_met: int
    seconds: float


def measure(case: Case, groups_by_round: Sequence[Sequence[Sequence[str]]], minimum: int,
            seconds: float, people: Sequence[Person]) -> Figures:
    municipality = {p.id: p.municipality for p in people}
    seen: dict[frozenset[str], int] = {}
    met: dict[str, set[str]] = {p.id: set() for p in people}
    colleagues = repeats = 0
    for groups in groups_by_round:
        for group in groups:
            for a, b in combinations(group, 2):
                key = frozenset((a, b))
                repeats += seen.get(key, 0) > 0
                seen[key] = seen.get(key, 0) + 1
                colleagues += municipality[a] == municipality[b]
                met[a].add(b)
                met[b].add(a)
    return Figures(colleagues - minimum, repeats, min(len(m) for m in met.values()), seconds)


def round_by_round(case: Case, people: list[Person],
                   strategy: Callable[[list[Person], int, int, Encounters], list[list[str]]],
                   ) -> tuple[list[list[list[str]]], float]:
    history, rounds = Encounters(), []
    started = time.process_time()
    for r in range(case.rounds):
        groups = strategy(people, case.group_count, 1000 + r, history)
        rounds.append(groups)
        history = history.merged(groups)
    return rounds, time.process_time() - started


def run_case(case: Case, reference: bool) -> dict[str, Any]:
    people = [Person(f"m{m}-{k}", f"m{m}") for m, n in enumerate(case.sizes) for k in range(n)]
    started = time.process_time()
    plan = plan_session(people, rounds=case.rounds, group_count=case.group_count, seed=1)
    plan_s = time.process_time() - started
    minimum = plan.colleague_minimum
    mixed, mix_s = round_by_round(case, people, lambda p, g, s, h: mix(
        p, group_count=g, seed=s, encounters=h))
    randomised, random_s = round_by_round(case, people, lambda p, g, s, h: random_groups(
        p, group_count=g, seed=s))
    row: dict[str, Any] = {
        "people": case.people, "municipalities": len(case.sizes),
        "largest_municipality": max(case.sizes), "groups": case.group_count,
        "rounds": case.rounds, "repeat_bound": plan.repeat_bound, "plan_start": plan.start,
        "plan_iterations": plan.iterations,
    }
    for name, rounds, seconds in (("plan", plan.rounds, plan_s), ("mix", mixed, mix_s),
                                  ("random", randomised, random_s)):
        f = measure(case, rounds, minimum, seconds, people)
        row[name] = {"colleague_excess": f.colleague_excess, "repeats": f.repeats,
                     "fewest_met": f.fewest_met, "seconds": round(f.seconds, 4)}
    if reference and plan.repeats > plan.repeat_bound and 32 <= case.people <= 60 \
            and case.rounds <= 8:
        started = time.process_time()
        best = plan_session(people, rounds=case.rounds, group_count=case.group_count, seed=2,
                            iterations=REFERENCE_ITERATIONS)
        row["reference"] = {"repeats": best.repeats, "iterations": best.iterations,
                            "seconds": round(time.process_time() - started, 2)}
    return row


def timings(quick: bool) -> dict[str, float]:
    runs = 3 if quick else 7
    sixty = next(c for c in CASES if c.people == 60 and c.rounds == 8)
    people = [Person(f"m{m}-{k}", f"m{m}") for m, n in enumerate(sixty.sizes) for k in range(n)]
    session, replan = [], []
    for seed in range(runs):
        started = time.process_time()
        plan = plan_session(people, rounds=8, group_count=sixty.group_count, seed=seed)
        session.append(time.process_time() - started)
        history = Encounters.from_groups(plan.rounds[0])
        now = [p for p in people if p.id != people[seed].id] + [Person(f"new{seed}", "m3")]
        started = time.process_time()
        plan_session(now, rounds=7, group_count=sixty.group_count, seed=seed + 100,
                     encounters=history, warm=plan.rounds[1:])
        replan.append(time.process_time() - started)
    large = [Person(f"m{m}-{k}", f"m{m}") for m, n in enumerate(skewed(1000, 60))
             for k in range(n)]
    history = Encounters()
    for r in range(4):
        history = history.merged(mix(large, group_count=200, seed=50 + r, encounters=history))
    single = []
    for seed in range(runs):
        started = time.process_time()
        mix(large, group_count=200, seed=seed, encounters=history)
        single.append(time.process_time() - started)
    return {"session_60x8_median_s": statistics.median(session),
            "session_60x8_max_s": max(session),
            "round_1000_median_ms": statistics.median(single) * 1000,
            "round_1000_max_ms": max(single) * 1000,
            "replan_60x7_median_ms": statistics.median(replan) * 1000,
            "replan_60x7_max_ms": max(replan) * 1000}


def run(quick: bool = False) -> dict[str, Any]:
    """Plan every case, print the table and the timings, return the figures."""
    cases = QUICK if quick else CASES
    rows = {c.name: run_case(c, reference=not quick) for c in cases}
    times = timings(quick)
    result: dict[str, Any] = {"cases": rows, "timings": times, "targets": {
        "plan_never_above_colleague_minimum": int(all(
            r["plan"]["colleague_excess"] == 0 for r in rows.values())),
        "plan_zero_repeats_where_reference_finds_zero": int(all(
            r["plan"]["repeats"] == 0 or r.get("reference", {}).get("repeats", 1) > 0
            for r in rows.values())),
        "session_60x8_under_2_s": int(times["session_60x8_max_s"] < SESSION_TARGET_S),
        "round_1000_under_50_ms": int(times["round_1000_median_ms"] < ROUND_TARGET_MS),
        "replan_under_200_ms": int(times["replan_60x7_median_ms"] < REPLAN_TARGET_MS),
    }}
    print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    print("| roster | bound | plan: excess / repeats / fewest met / s | "
          "mix: excess / repeats / fewest met / s | random: excess / repeats / fewest met |"
          " reference |")
    print("|---|---|---|---|---|---|")
    for name, r in result["cases"].items():
        p, m, x = r["plan"], r["mix"], r["random"]
        ref = r.get("reference")
        ref_text = f"{ref['repeats']} ({ref['seconds']} s)" if ref else ""
        cells = [f"{f['colleague_excess']} / {f['repeats']} / {f['fewest_met']}"
                 for f in (p, m, x)]
        print(f"| {name} | {r['repeat_bound']} | {cells[0]} / {p['seconds']:.2f} | "
              f"{cells[1]} / {m['seconds']:.2f} | {cells[2]} | {ref_text} |")
    t = result["timings"]
    print(f"\nsession of 8 rounds, 60 people: median {t['session_60x8_median_s']:.2f} s, "
          f"max {t['session_60x8_max_s']:.2f} s (target < {SESSION_TARGET_S} s)")
    print(f"one round, 1000 people: median {t['round_1000_median_ms']:.1f} ms, "
          f"max {t['round_1000_max_ms']:.1f} ms (target < {ROUND_TARGET_MS:.0f} ms)")
    print(f"re-plan 7 rounds after a join and a leave: median {t['replan_60x7_median_ms']:.0f} ms,"
          f" max {t['replan_60x7_max_ms']:.0f} ms (target < {REPLAN_TARGET_MS:.0f} ms)")
    print("targets:", result["targets"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="four cases, no reference search")
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
