"""OR-Tools CP-SAT against our hand-written whole-schedule search, on the yardstick's rosters.

Not a dependency: run it in any environment that has ``ortools`` next to this
repository's code (``pip install ortools``; the wheel is ~30 MB, ~270 MB installed
with what it pulls in)::

    python bench/cpsat_compare.py [--seconds 60] [--workers 1]

The model asks CP-SAT for a schedule with the fewest same-municipality pairs
allowed (none for a municipality no larger than the group count, an even
spread otherwise) and no pair meeting twice, i.e. the question "is zero
repeats possible?" that ``plan_session`` answers by search. It reports the
time to a first such schedule (or the status when time runs out) beside the
time our search takes to reach zero (or its best).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_plan import CASES, Case  # noqa: E402
from facilitation import Person  # noqa: E402
from facilitation.schedule import plan_session  # noqa: E402
from facilitation.sizing import group_sizes  # noqa: E402


def cpsat(case: Case, seconds: float, workers: int) -> tuple[str, float]:
    from ortools.sat.python import cp_model

    people = [m for m, n in enumerate(case.sizes) for _ in range(n)]
    n, rounds = len(people), case.rounds
    sizes = group_sizes(n, case.group_count)
    g_count = len(sizes)
    model = cp_model.CpModel()
    x = {(p, r, g): model.NewBoolVar("") for p in range(n) for r in range(rounds)
         for g in range(g_count)}
    for r in range(rounds):
        for p in range(n):
            model.AddExactlyOne(x[p, r, g] for g in range(g_count))
        for g, size in enumerate(sizes):
            model.Add(sum(x[p, r, g] for p in range(n)) == size)
    per_muni = Counter(people)
    for a, b in combinations(range(n), 2):
        colleague = people[a] == people[b]
        if colleague and per_muni[people[a]] <= g_count:
            for r in range(rounds):
                for g in range(g_count):
                    model.AddBoolOr([x[a, r, g].Not(), x[b, r, g].Not()])
            continue
        meets = []
        for r in range(rounds):
            for g in range(g_count):
                z = model.NewBoolVar("")
                model.AddBoolOr([x[a, r, g].Not(), x[b, r, g].Not(), z])
                meets.append(z)
        model.Add(sum(meets) <= 1)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_search_workers = workers
    started = time.perf_counter()
    status = solver.Solve(model)
    return solver.StatusName(status), time.perf_counter() - started


def ours(case: Case) -> tuple[int, float]:
    people = [Person(f"m{m}-{k}", f"m{m}") for m, n in enumerate(case.sizes) for k in range(n)]
    started = time.process_time()
    plan = plan_session(people, rounds=case.rounds, group_count=case.group_count, seed=1)
    return plan.repeats, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cases", default="1,2,3,6", help="indices into bench_plan.CASES")
    args = parser.parse_args()
    print("| roster | ours: repeats / CPU s | CP-SAT: status / s |")
    print("|---|---|---|")
    for index in (int(i) for i in args.cases.split(",")):
        case = CASES[index]
        repeats, our_s = ours(case)
        status, sat_s = cpsat(case, args.seconds, args.workers)
        print(f"| {case.name} | {repeats} / {our_s:.2f} | {status} / {sat_s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
