"""Medians over repetitions, the printed tables, and the JSON written at the end."""

from __future__ import annotations

import math
from typing import Any

from .registry import Scenario
from .stats import median

DIAGNOSTICS = ("gen_cpu_pct", "server_cpu_pct", "server_us_per_delivery", "server_gc_max_ms",
               "server_core_foreign_pct", "gen_core_foreign_pct", "lost", "failed")
NOISY_PCT = 5.0  # foreign load on a core above this makes a run suspect


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for run in runs for k in run}
    return {k: median(run.get(k, math.nan) for run in runs) for k in sorted(keys)}


def rows(s: Scenario, by_target: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per shown metric: ours, bare, ratio ours/bare, the target and the verdict."""
    out = []
    ours = by_target.get("ours", {}).get("median", {})
    bare = by_target.get("bare", {}).get("median", {})
    metrics = s.show or tuple(sorted(set(ours) | set(bare)))
    for metric in metrics:
        o, b = ours.get(metric, math.nan), bare.get(metric, math.nan)
        ratio = o / b if b and not math.isnan(o) and not math.isnan(b) else math.nan
        checks = s.checks_for(metric)
        verdicts = [c.verdict(o, by_target.get(c.against, {}).get("median", {}).get(
            metric, math.nan)) for c in checks]
        row = {"metric": metric, "ours": o, "bare": b, "ratio": ratio,
               "target": ", ".join(c.text() for c in checks), "ok": _all(verdicts)}
        before = by_target.get("before", {}).get("median", {}).get(metric)
        if before is not None:  # another version of ours, measured in the same run
            row["before"] = before
            row["before_ratio"] = before / b if b and not math.isnan(b) else math.nan
        node = by_target.get("node", {}).get("median", {}).get(metric)
        if node is not None:  # the Node socket.io neighbour, same run
            row["node"] = node
            row["node_ratio"] = o / node if node and not math.isnan(o) else math.nan
        out.append(row)
    return out


def _all(verdicts: list[bool | None]) -> bool | None:
    """Met if every target that could be judged is met; None if none could be."""
    judged = [v for v in verdicts if v is not None]
    return all(judged) if judged else None


def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) < 0.0005:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(header), "-+-".join("-" * w for w in widths), *map(fmt, body)])


def _cell(entry: dict[str, Any], target: str, value: float, absent: str) -> str:
    slot = entry["targets"].get(target)
    if slot is None:
        return absent
    if slot.get("pending"):
        return "pending"
    if not slot["runs"]:
        return "error" if slot["errors"] else "skipped"
    return _num(value) + ("*" if any(noisy(run) for run in slot["runs"]) else "")


def main_table(results: dict[str, Any], ours_absent: str) -> str:
    """ours_absent: what the ours column says when our server was not run at all."""
    body = []
    extra = [t for t in ("before", "node")
             if any(t in e["targets"] for e in results.values() if not e["external"])]
    for name, entry in results.items():
        if entry["external"]:
            continue
        for row in entry["rows"]:
            ok = {True: "ok", False: "MISS", None: ""}[row["ok"]]
            cells = [name, row["metric"], _cell(entry, "ours", row["ours"], ours_absent),
                     _cell(entry, "bare", row["bare"], "-"), _num(row["ratio"])]
            if "before" in extra:
                cells += [_cell(entry, "before", row.get("before", math.nan), "-"),
                          _num(row.get("before_ratio", math.nan))]
            if "node" in extra:
                cells += [_cell(entry, "node", row.get("node", math.nan), "-"),
                          _num(row.get("node_ratio", math.nan))]
            body.append([*cells, f"{row['target']} {ok}".strip()])
    header = ["scenario", "metric", "ours", "bare", "ours/bare"]
    if "before" in extra:
        header += ["before", "before/bare"]
    if "node" in extra:
        header += ["node", "ours/node"]
    table = _table([*header, "target"], body)
    if not any(cell.endswith("*") for row in body for cell in row):
        return table
    return table + (f"\n* other processes took over {NOISY_PCT:g}% of the server's or the "
                    "generator's core in at least one run: compare with care")


def noisy(metrics: dict[str, float]) -> dict[str, float]:
    """The foreign-load metrics of a run that are above NOISY_PCT."""
    return {k: v for k in ("server_core_foreign_pct", "gen_core_foreign_pct")
            if (v := metrics.get(k, 0.0)) > NOISY_PCT}


def noise_warning(metrics: dict[str, float]) -> str | None:
    """A line to print when other processes took a noticeable share of our cores."""
    if not (noisy_shares := noisy(metrics)):
        return None
    shares = ", ".join(f"{k} {v:.0f}%" for k, v in noisy_shares.items())
    return f"    noisy: other processes used our cores ({shares}); compare with care"


def external_table(results: dict[str, Any]) -> str:
    """What the external scenarios (run() -> dict, owned elsewhere) returned."""
    body = []
    for name, entry in results.items():
        if entry["external"]:
            for slot in entry["targets"].values():
                for metric, value in slot.get("median", {}).items():
                    body.append([name, metric, _num(value)])
                body.extend([name, "error", e.splitlines()[-1][:100]] for e in slot["errors"])
    return _table(["external", "metric", "value"], body)


def diagnostics_table(results: dict[str, Any]) -> str:
    body = []
    for name, entry in results.items():
        if entry["external"]:
            continue
        for target, data in entry["targets"].items():
            med = data.get("median", {})
            if med:
                body.append([name, target, *(_num(med.get(k, math.nan)) for k in DIAGNOSTICS)])
    return _table(["scenario", "target", *DIAGNOSTICS], body)
