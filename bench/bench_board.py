"""Whiteboard costs on a 10,000-stroke board.

Measures: late-join state (encode on the server + apply on a fresh pycrdt doc,
target under 300 ms), per-update admission (fast path and the exact scratch
path taken only near the element cap), and what compaction saves.

    .venv/bin/python -m bench.bench_board
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from pycrdt import Array, Doc, Map, merge_updates

from rooms.board import ELEMENTS_KEY, Board, BoardLimits, capture_update
from rooms.board.update_v1 import summarize_update

STROKES = 10_000
POINTS_PER_STROKE = 20
SAMPLES = 400
LATE_JOIN_TARGET_MS = 300.0
T = TypeVar("T")
BROWSER_CLIENT_ID = 0x9E3779B1  # Yjs picks random 32-bit ids; their size shows in every id
REBASE_CLIENT_ID = 0x7F4A7C15


class Author:
    """A client document that records every update it makes."""

    def __init__(self, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.root: Map[Any] = self.doc.get(ELEMENTS_KEY, type=Map)
        self.log: list[bytes] = []

    def change(self, change: Callable[[], None]) -> bytes:
        update = capture_update(self.doc, change)
        self.log.append(update)
        return update

    def stroke(self, key: str, rng: random.Random, z: int) -> bytes:
        points = [round(rng.uniform(-200, 200), 1) for _ in range(2 * POINTS_PER_STROKE)]
        fields = {
            "type": "pen", "x": rng.uniform(0, 4000), "y": rng.uniform(0, 3000),
            "points": Array(points), "color": "#1f2937", "width": 2.0, "author": "p1", "z": z,
        }  # fmt: skip
        return self.change(lambda: self.root.__setitem__(key, Map(fields)))

    def delete(self, key: str) -> bytes:
        return self.change(partial(self.root.__delitem__, key))

    def move(self, key: str, rng: random.Random) -> bytes:
        def move() -> None:
            element = self.root[key]
            element["x"], element["y"] = rng.uniform(0, 4000), rng.uniform(0, 3000)

        return self.change(move)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """The action's result and its wall time in milliseconds."""
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def timed_ms(action: Callable[[], object]) -> float:
    return timed(action)[1]


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50_us": round(statistics.median(ordered) * 1000, 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
    }


def build(rng: random.Random) -> tuple[Board, Author, float]:
    author, board = Author(BROWSER_CLIENT_ID), Board(BoardLimits())
    start = time.perf_counter()
    for i in range(STROKES):
        board.apply(author.stroke(f"s{i}", rng, i))
    for i in rng.sample(range(STROKES), 2000):
        board.apply(author.move(f"s{i}", rng))
    for i in rng.sample(range(STROKES), 500):
        board.apply(author.delete(f"s{i}"))
    for i in range(STROKES, STROKES + 500):
        board.apply(author.stroke(f"s{i}", rng, i))
    return board, author, (time.perf_counter() - start) * 1000


def late_join(board: Board) -> dict[str, float]:
    encode, join = [], []
    for _ in range(5):
        state, encode_ms = timed(board.state)
        encode.append(encode_ms)
        join.append(timed_ms(lambda: Doc().apply_update(state)))  # noqa: B023 (called at once)
    total = statistics.median(encode) + statistics.median(join)
    return {
        "state_bytes": len(board.state()),
        "encode_ms": round(statistics.median(encode), 1),
        "fresh_doc_apply_ms": round(statistics.median(join), 1),
        "total_ms": round(total, 1),
        "target_ms": LATE_JOIN_TARGET_MS,
        "within_target": total < LATE_JOIN_TARGET_MS,
    }


def admission(board: Board, author: Author, rng: random.Random) -> dict[str, Any]:
    keys = sorted(author.root.keys())[:SAMPLES]
    adds = [author.stroke(f"n{i}", rng, STROKES + 1000 + i) for i in range(SAMPLES)]
    moves = [author.move(key, rng) for key in keys]
    add_ms = [timed_ms(partial(board.apply, u)) for u in adds]
    move_ms = [timed_ms(partial(board.apply, u)) for u in moves]
    full = Board.from_state(board.state(), BoardLimits(max_elements=board.element_count))
    at_cap = [author.move(key, rng) for key in keys[:20]]
    exact_ms = [timed_ms(partial(full.apply, u)) for u in at_cap]
    walk_ms = [timed_ms(partial(summarize_update, u, ELEMENTS_KEY)) for u in adds]
    return {
        "elements": board.element_count,
        "walk_add_update": percentiles(walk_ms),
        "add_stroke": percentiles(add_ms) | {"update_bytes": len(adds[0])},
        "move": percentiles(move_ms) | {"update_bytes": len(moves[0])},
        "exact_path_at_cap_ms": round(statistics.median(exact_ms), 1),
    }


def compaction(board: Board, author: Author) -> dict[str, Any]:
    before = len(board.state())
    compacted, compact_ms = timed(board.compact)
    return {
        "updates": len(author.log),
        "update_log_bytes": sum(map(len, author.log)),
        "merged_log_bytes": len(merge_updates(*author.log)),
        "state_before_bytes": before,
        "compacted_bytes": len(compacted),
        "compact_ms": round(compact_ms, 1),
        "rebased_bytes": len(board.rebased(client_id=REBASE_CLIENT_ID).state()),
    }


def churn(rng: random.Random) -> dict[str, int]:
    """Compaction where history dominates: 1,000 strokes moved 20 times, half deleted."""
    author, board = Author(BROWSER_CLIENT_ID), Board(BoardLimits())
    for i in range(1000):
        board.apply(author.stroke(f"c{i}", rng, i))
    for _ in range(20):
        for i in range(1000):
            board.apply(author.move(f"c{i}", rng))
    for i in range(0, 1000, 2):
        board.apply(author.delete(f"c{i}"))
    before = len(board.state())
    return {
        "updates": len(author.log),
        "update_log_bytes": sum(map(len, author.log)),
        "merged_log_bytes": len(merge_updates(*author.log)),
        "state_before_bytes": before,
        "compacted_bytes": len(board.compact()),
        "rebased_bytes": len(board.rebased(client_id=REBASE_CLIENT_ID).state()),
    }


def run() -> dict[str, Any]:
    """Build the board, then measure; returns a JSON-friendly report."""
    rng = random.Random(20240607)
    board, author, build_ms = build(rng)
    elements_ms = timed_ms(board.elements)
    return {
        "strokes": STROKES,
        "points_per_stroke": POINTS_PER_STROKE,
        "build_apply_ms": round(build_ms, 1),
        "late_join": late_join(board),
        "apply": admission(board, author, rng),
        "elements_snapshot_ms": round(elements_ms, 1),
        "compaction": compaction(board, author),
        "compaction_churn": churn(rng),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
