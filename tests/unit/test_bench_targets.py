"""The bench report's targets: ratios against bare or Node of the same run (issue 17's)."""

import math

from bench import report, scenarios  # noqa: F401  (registers the scenarios)
from bench.registry import SCENARIOS, Check


def slot(**median: float) -> dict[str, object]:
    return {"median": median, "runs": [median], "errors": []}


def test_a_tail_meets_its_target_only_within_2x_node_and_below_bare() -> None:
    s = SCENARIOS["broadcast_under_load"]
    row = lambda ours, bare, node: report.rows(s, {  # noqa: E731
        "ours": slot(delivery_p99_ms=ours), "bare": slot(delivery_p99_ms=bare),
        **({"node": slot(delivery_p99_ms=node)} if node is not None else {})})[1]
    assert row(2.6, 55.6, 1.67)["ok"] is True
    assert row(3.4, 55.6, 1.67)["ok"] is False  # 2.04x Node
    assert row(2.6, 2.5, 1.67)["ok"] is False  # above bare's
    assert row(2.6, 55.6, None)["ok"] is True  # no Node in the run: bare's alone judges
    assert row(2.6, 55.6, None)["target"] == "/node <= 2, /bare < 1"


def test_fan_out_against_node_and_the_join_storm_and_memory_against_bare() -> None:
    assert Check("x", ">=", 0.5, "node").verdict(30_000, 44_000) is True
    assert Check("x", ">=", 0.5, "node").verdict(20_000, 44_000) is False
    assert Check("x", ">=", 0.5, "node").verdict(20_000, math.nan) is None
    storm = report.rows(SCENARIOS["connect_1000"], {
        "ours": slot(last_join_s=1.28), "bare": slot(last_join_s=1.27)})[0]
    assert (storm["target"], storm["ok"]) == ("/bare <= 1", False)
    memory = report.rows(SCENARIOS["idle_memory"], {
        "ours": slot(kib_per_client=34.0), "bare": slot(kib_per_client=31.5)})[0]
    assert memory["ok"] is True and report.rows(SCENARIOS["idle_memory"], {
        "ours": slot(kib_per_client=35.0), "bare": slot(kib_per_client=31.5)})[0]["ok"] is False
