"""How well and how fast ``facilitation.mix`` forms breakout groups.

1. A programme: 40 participants from 12 municipalities in groups of 4 over six
   rounds, encounters accumulating round to round. Same-municipality pairs and
   repeat pairs (pairs who already shared a group) for ``mix`` and for
   ``random_groups``, each averaged over several seeds.
   Targets: no same-municipality pairs; at most a fifth of random's repeats.
   The same for a tight cohort (24 people, 6 municipalities, groups of 4, six
   rounds: everyone may meet only 20 others), where repeats cannot all be
   avoided; no target, it tracks the search's quality.
2. A large meeting: 1,000 participants from 60 municipalities of skewed size in
   groups of 5, after four earlier rounds. Median and max time of ``mix``.
   Target: under 200 ms.

Run ``python bench/bench_mix.py [--quick] [--json out.json]``; a bench runner
imports the module and calls ``run()``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facilitation import (  # noqa: E402
    Encounters,
    Person,
    mix,
    random_groups,
    repeat_pairs,
    same_municipality_pairs,
)

Strategy = Callable[[list[Person], int, int, Encounters], list[list[str]]]

PROGRAMME_MUNICIPALITY_SIZES = (7, 6, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1)  # 40 people
PROGRAMME_GROUPS = 10  # groups of 4
PROGRAMME_ROUNDS = 6
TIGHT_MUNICIPALITY_SIZES = (4, 4, 4, 4, 4, 4)  # 24 people
TIGHT_GROUPS = 6  # groups of 4
LARGE_PEOPLE = 1000
LARGE_MUNICIPALITIES = 60
LARGE_GROUPS = 200  # groups of 5
LARGE_PRIOR_ROUNDS = 4
TIME_TARGET_MS = 200.0


def run(quick: bool = False) -> dict[str, Any]:
    """Measure both scenarios, print a table and return the figures."""
    seeds = 5 if quick else 20
    programme = programme_figures(PROGRAMME_MUNICIPALITY_SIZES, PROGRAMME_GROUPS, seeds)
    tight = programme_figures(TIGHT_MUNICIPALITY_SIZES, TIGHT_GROUPS, seeds)
    large = large_meeting_timing(runs=5 if quick else 15)
    result = {
        "programme_40": programme,
        "tight_24": tight,
        "large_1000": large,
        "targets": _targets(programme, large),
    }
    print_table(result)
    return result


def programme_figures(sizes: Sequence[int], groups: int, seeds: int) -> dict[str, float]:
    people = _people(sizes)
    mixed = [_programme(people, groups, _mix, seed) for seed in range(seeds)]
    randomised = [_programme(people, groups, _random, seed) for seed in range(seeds)]
    mix_repeats = statistics.fmean(r for _, r in mixed)
    random_repeats = statistics.fmean(r for _, r in randomised)
    return {
        "seeds": seeds,
        "mix_same_municipality_pairs": statistics.fmean(s for s, _ in mixed),
        "mix_same_municipality_pairs_max": max(s for s, _ in mixed),
        "mix_repeat_pairs": mix_repeats,
        "mix_repeat_pairs_max": max(r for _, r in mixed),
        "random_same_municipality_pairs": statistics.fmean(s for s, _ in randomised),
        "random_repeat_pairs": random_repeats,
        "repeat_ratio": mix_repeats / random_repeats if random_repeats else 0.0,
    }


def large_meeting_timing(runs: int) -> dict[str, float]:
    people = _people(_skewed_sizes(LARGE_PEOPLE, LARGE_MUNICIPALITIES))
    history = Encounters()
    for round_no in range(LARGE_PRIOR_ROUNDS):
        history = history.merged(_mix(people, LARGE_GROUPS, 1000 + round_no, history))
    timings, groups = [], []
    for seed in range(runs):
        started = time.perf_counter()
        groups = _mix(people, LARGE_GROUPS, seed, history)
        timings.append((time.perf_counter() - started) * 1000)
    municipality_of = {p.id: p.municipality for p in people}
    return {
        "runs": runs,
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "largest_municipality": max(_skewed_sizes(LARGE_PEOPLE, LARGE_MUNICIPALITIES)),
        "prior_pairs": len(history),
        "same_municipality_pairs": same_municipality_pairs(groups, municipality_of),
        "repeat_pairs": repeat_pairs(groups, history),
    }


def _programme(
    people: list[Person], group_count: int, strategy: Strategy, seed: int
) -> tuple[int, int]:
    """(same-municipality pairs, repeat pairs) summed over the rounds of one programme."""
    municipality_of = {p.id: p.municipality for p in people}
    history, same, repeated = Encounters(), 0, 0
    for round_no in range(PROGRAMME_ROUNDS):
        groups = strategy(people, group_count, seed * 100 + round_no, history)
        same += same_municipality_pairs(groups, municipality_of)
        repeated += repeat_pairs(groups, history)
        history = history.merged(groups)
    return same, repeated


def _mix(people: list[Person], groups: int, seed: int, history: Encounters) -> list[list[str]]:
    return mix(people, group_count=groups, seed=seed, encounters=history)


def _random(people: list[Person], groups: int, seed: int, _: Encounters) -> list[list[str]]:
    return random_groups(people, group_count=groups, seed=seed)


def _people(sizes: Sequence[int]) -> list[Person]:
    return [Person(f"m{m}-p{k}", f"m{m}") for m, size in enumerate(sizes) for k in range(size)]


def _skewed_sizes(total: int, count: int, exponent: float = 0.8) -> list[int]:
    """Zipf-like municipality sizes (a few large towns, many small ones) summing to ``total``."""
    weights = [1 / (rank + 1) ** exponent for rank in range(count)]
    shares = [total * w / sum(weights) for w in weights]
    sizes = [max(1, int(share)) for share in shares]
    by_remainder = sorted(range(count), key=lambda m: shares[m] - int(shares[m]), reverse=True)
    for m in by_remainder[: total - sum(sizes)]:
        sizes[m] += 1
    return sizes


def _targets(programme: dict[str, float], large: dict[str, float]) -> dict[str, int]:
    return {
        "zero_same_municipality_pairs": int(programme["mix_same_municipality_pairs_max"] == 0),
        "repeats_at_most_a_fifth_of_random": int(programme["repeat_ratio"] <= 0.2),
        "large_meeting_under_200_ms": int(large["max_ms"] < TIME_TARGET_MS),
    }


def print_table(result: dict[str, Any]) -> None:
    _print_programme("40 people, 12 municipalities", result["programme_40"], "(target <= 0.2)")
    _print_programme("24 people, 6 municipalities (tight)", result["tight_24"], "")
    big = result["large_1000"]
    print(
        f"1000 people, {LARGE_MUNICIPALITIES} municipalities (largest "
        f"{big['largest_municipality']}), groups of 5, {big['prior_pairs']} earlier pairs"
    )
    print(
        f"  mix: median {big['median_ms']:.1f} ms, max {big['max_ms']:.1f} ms over "
        f"{big['runs']} runs (target < {TIME_TARGET_MS:.0f} ms); "
        f"same-municipality pairs {big['same_municipality_pairs']}, "
        f"repeat pairs {big['repeat_pairs']}"
    )


def _print_programme(title: str, p: dict[str, float], target: str) -> None:
    print(f"{title}, groups of 4, {PROGRAMME_ROUNDS} rounds, mean of {p['seeds']} seeds")
    print(f"  {'strategy':<8} {'same-municipality pairs':>24} {'repeat pairs':>14}")
    print(f"  {'mix':<8} {p['mix_same_municipality_pairs']:>24.2f} {p['mix_repeat_pairs']:>14.2f}")
    rnd_same, rnd_rep = p["random_same_municipality_pairs"], p["random_repeat_pairs"]
    print(f"  {'random':<8} {rnd_same:>24.2f} {rnd_rep:>14.2f}")
    print(f"  repeats mix/random = {p['repeat_ratio']:.3f} {target}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="fewer seeds and runs")
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
