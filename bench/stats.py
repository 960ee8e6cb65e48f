"""Percentiles and medians, without numpy."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated q-th percentile (0..100) of already sorted values; nan if empty."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_ms(samples_s: Iterable[float], prefix: str) -> dict[str, float]:
    """p50 / p99 / p99.9 / max in milliseconds, keyed f"{prefix}_p50_ms" and so on."""
    values = sorted(samples_s)
    out = {f"{prefix}_{name}_ms": percentile(values, q) * 1000
           for name, q in (("p50", 50), ("p99", 99), ("p999", 99.9))}
    out[f"{prefix}_max_ms"] = values[-1] * 1000 if values else math.nan
    out[f"{prefix}_samples"] = float(len(values))
    return out


def median(values: Iterable[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan
