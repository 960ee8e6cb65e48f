"""Keeps the benchmark harness from rotting: a --quick run must produce numbers > 0.

Each test runs `python -m bench.run --quick` as a subprocess on a few scenarios that
between them use every workload (steady relays, saturated broadcasts, a join storm, idle
clients), then reads the JSON it wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ("relay_latency", "relay_latency.uvloop", "fanout_10.msgpack", "join_storm_500",
             "idle_memory", "delivery_under_load", "broadcast_under_load")


def run_quick(tmp_path: Path, targets: str,
              scenarios: tuple[str, ...] = SCENARIOS) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench.run", "--quick", "--only", ",".join(scenarios),
            "--targets", targets, "--json", str(out)]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, f"bench.run failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return json.loads(out.read_text())


def assert_positive(results: dict[str, Any], target: str,
                    scenarios: tuple[str, ...] = SCENARIOS) -> None:
    measured = 0
    for name in scenarios:
        entry = results["scenarios"][name]
        slot = entry["targets"].get(target)
        if slot is None or slot.get("pending"):  # e.g. a relay our protocol lacks so far
            continue
        measured += 1
        assert not slot["errors"], f"{name} on {target}: {slot['errors']}"
        median = slot["median"]
        shown = [row["metric"] for row in entry["rows"]]
        assert shown and all(m in median for m in shown), f"{name}: no {shown} in {median}"
        for metric, value in median.items():
            assert isinstance(value, int | float), f"{name} on {target}: {metric} = {value}"
        for metric in shown:
            if metric != "server_gc_max_ms":  # zero when no collection fell in the window
                assert median[metric] > 0, f"{name} on {target}: {metric} = {median[metric]}"
    assert measured >= 3, f"only {measured} scenarios measured {target}"


def test_bench_quick_bare(tmp_path: Path) -> None:
    results = run_quick(tmp_path, "bare")
    assert results["meta"]["targets"] == {"bare": "ran"}
    assert_positive(results, "bare")


def ours_unavailable() -> str | None:
    try:
        import server.cli  # noqa: F401
    except ImportError as exc:
        return f"our server is not importable yet ({exc})"
    from bench.ledarstig_target import LedarstigTarget

    return LedarstigTarget.unavailable()


def test_bench_quick_ours(tmp_path: Path) -> None:
    why = ours_unavailable()
    if why:
        pytest.skip(f"LedarstigTarget cannot run yet: {why}")
    results = run_quick(tmp_path, "ours")
    assert results["meta"]["targets"] == {"ours": "ran"}
    assert_positive(results, "ours")


NODE_SCENARIOS = ("relay_latency", "fanout_10.msgpack", "join_storm_500")


def test_bench_quick_node(tmp_path: Path) -> None:
    """The Node socket.io neighbour (bench/node) answers the bare client, both serializers."""
    from bench.node_target import NodeTarget

    why = NodeTarget.unavailable()
    if why:
        pytest.skip(f"NodeTarget cannot run here: {why}")
    results = run_quick(tmp_path, "node", NODE_SCENARIOS)
    assert results["meta"]["targets"] == {"node": "ran"}
    assert_positive(results, "node", NODE_SCENARIOS)


def test_framing_matches_python_socketio() -> None:
    """The lean client's codec reads and writes what python-socketio does, both serializers,
    including a JSON event with binary attachments."""
    from socketio import msgpack_packet, packet

    from bench.framing import Attachments, Codec, decode_text

    sent = Codec("json").event("relay", [{"to": "x", "payload": {"t": 1.5}}], 12)
    theirs = packet.Packet(encoded_packet=sent[1:])
    assert (theirs.packet_type, theirs.id, theirs.data) == (
        packet.EVENT, 12, ["relay", {"to": "x", "payload": {"t": 1.5}}])

    head, *frames = packet.Packet(packet.EVENT, ["board", {"u": b"\x01", "v": [b"z", 2]}],
                                  id=7).encode()
    _, first = decode_text("4" + head)
    collector = Attachments(first)
    assert [collector.add(f) for f in frames][-1].data == ["board", {"u": b"\x01", "v": [b"z", 2]}]

    codec = Codec("msgpack")
    theirs = msgpack_packet.MsgPackPacket(encoded_packet=codec.event("relay", [{"a": 1}], 3))
    assert (theirs.packet_type, theirs.id, theirs.data, theirs.namespace) == (
        packet.EVENT, 3, ["relay", {"a": 1}], "/")
    ack = msgpack_packet.MsgPackPacket(packet.ACK, data=[True], id=3, namespace="/").encode()
    assert codec.decode_binary(ack).data == [True]


def test_bench_cluster_quick_runs_and_reports_the_pool_and_both_transports() -> None:
    """bench/bench_cluster.py (issue 18's figures) still runs: two processes on Redis
    deliver everything, each reports its Redis pool's peak (within its 64), and the
    cross-process transport options (tailing, pub/sub) both carry every event."""
    import shutil
    if shutil.which("redis-server") is None or shutil.which("taskset") is None:
        pytest.skip("redis-server and taskset are needed (./scripts/test installs redis)")
    argv = [sys.executable, "-m", "bench.bench_cluster", "--quick",
            "--only", "redis x2 (direct,transport"]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, f"bench_cluster failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    (two,) = [r for r in rows if r.get("setup", "").startswith("redis x2") and "expected" in r]
    assert two["deliveries"] == two["expected"] > 0
    assert two["server_cpu_us_per_delivery"] > 0 and two["cross_process_ms_p99"] > 0
    assert all(0 < n <= 64 for n in two["redis_pool_connections_opened"])
    options = {r["option"]: r for r in rows if "option" in r}
    assert set(options) == {"tail", "pubsub"}
    assert all(r["received"] == r["events"] > 0 for r in options.values())


@pytest.mark.parametrize("joins_only", [False, True])
def test_storm_cpu_runs_full_storms_and_joins_only(joins_only: bool) -> None:
    """bench/storm_cpu.py still runs, whole storms and (``--joins-only``) the joins of
    clients connected before; every storm reports a last join and the server's CPU."""
    argv = [sys.executable, "-m", "bench.storm_cpu", "bare", "ours", "--clients", "16",
            "--reps", "1", *(["--joins-only"] if joins_only else [])]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, f"storm_cpu failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    medians = [line for line in proc.stdout.splitlines() if "µs/join" in line]
    assert [line.split()[0] for line in medians] == ["bare", "ours"], proc.stdout
    for line in medians:
        words = line.split()
        assert float(words[words.index("join") + 1]) > 0  # the last join, in s
        assert float(words[words.index("server") + 1]) > 0  # µs of server CPU per join
