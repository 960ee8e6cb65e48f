"""Server-side board operations: prompt, clear, sync helpers, compaction."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map, merge_updates

from rooms.board import (
    EMPTY_UPDATE,
    Board,
    BoardFull,
    BoardLimits,
    StateVectorInvalid,
    capture_update,
    prompt_update,
)
from tests.unit.board.board_helpers import Client, rect, stroke

LIMITS = BoardLimits()


def test_seed_prompt_adds_sticky_at_top_left() -> None:
    board = Board(LIMITS)
    board.seed_prompt("What would you change?", "fac-1", element_id="prompt:r1")
    (note,) = board.elements()
    assert note["id"] == "prompt:r1"
    assert note["type"] == "sticky"
    assert (note["x"], note["y"]) == (24, 24)
    assert note["text"] == "What would you change?"
    assert note["author"] == "fac-1"


def test_seed_prompt_is_deterministic_and_replay_is_a_no_op() -> None:
    first, second = Board(LIMITS), Board(LIMITS)
    update = first.seed_prompt("Same prompt", "fac-1")
    assert second.seed_prompt("Same prompt", "fac-1") == update
    assert first.state() == second.state()
    state = first.state()
    first.seed_prompt("Same prompt", "fac-1")
    first.apply(update)
    assert first.state() == state
    assert first.element_count == 1


def test_prompt_updates_never_share_a_client_clock_pair() -> None:
    a = prompt_update("One", "fac-1", "prompt:r1")
    b = prompt_update("Two", "fac-1", "prompt:r1")
    client_a, client_b = Doc(), Doc()
    client_a.apply_update(a)
    client_b.apply_update(b)
    assert client_a.get_state() != client_b.get_state()


def test_seed_prompt_respects_the_cap() -> None:
    alice = Client(1)
    board = Board(BoardLimits(max_elements=1))
    board.apply(alice.add("a", rect(0, 0)))
    with pytest.raises(BoardFull):
        board.seed_prompt("No room", "fac-1")


def test_clear_removes_everything_and_clients_follow() -> None:
    alice = Client(1)
    board = Board(LIMITS)
    for i in range(4):
        board.apply(alice.add(f"s{i}", stroke(i, i)))
    update = board.clear()
    assert board.elements() == []
    assert board.element_count == 0
    alice.receive(update)
    assert alice.elements() == []
    late = Client(2)
    late.receive(board.state())
    assert late.elements() == []


def test_clear_on_empty_board_produces_empty_update() -> None:
    assert Board(LIMITS).clear() == EMPTY_UPDATE


def test_capture_update_returns_only_this_change() -> None:
    doc: Doc[object] = Doc(client_id=5)
    root = doc.get("elements", type=Map)
    first = capture_update(doc, lambda: root.__setitem__("a", Map({"x": 1})))
    second = capture_update(doc, lambda: root.__delitem__("a"))
    replica: Doc[object] = Doc()
    replica.apply_update(first)
    assert "a" in replica.get("elements", type=Map)
    replica.apply_update(second)
    assert "a" not in replica.get("elements", type=Map)
    assert len(second) < len(first)


def test_diff_sends_only_what_the_peer_misses() -> None:
    alice, bob = Client(1), Client(2)
    board = Board(LIMITS)
    board.apply(alice.add("a", stroke(0, 0)))
    bob.receive(board.state())
    board.apply(alice.add("b", stroke(5, 5)))
    missing = board.diff(bob.doc.get_state())
    assert len(missing) < len(board.state())
    bob.receive(missing)
    assert bob.elements() == board.elements()


@pytest.mark.parametrize("garbage", [b"\xff", b"\x03\x01"])
def test_diff_rejects_invalid_state_vector(garbage: bytes) -> None:
    with pytest.raises(StateVectorInvalid):
        Board(LIMITS).diff(garbage)


def busy_board() -> tuple[Board, list[bytes]]:
    alice = Client(1)
    board = Board(LIMITS)
    for i in range(60):
        board.apply(alice.add(f"s{i}", stroke(i, i, z=i)))
    for step in range(10):
        for i in range(0, 60, 3):
            board.apply(alice.move(f"s{i}", step, step))
    for i in range(0, 60, 2):
        board.apply(alice.delete(f"s{i}"))
    return board, alice.sent


def test_compact_keeps_content_in_one_update() -> None:
    board, log = busy_board()
    before = board.state()
    compacted = board.compact()
    assert len(compacted) < len(before)
    assert len(compacted) < len(merge_updates(*log)) < sum(map(len, log))
    restored = Board.from_state(compacted, LIMITS)
    assert restored.elements() == board.elements()
    fresh: Doc[object] = Doc()
    fresh.apply_update(compacted)
    assert fresh.get_update() == compacted  # nothing more to squash
    assert board.state() == compacted


def test_rebased_board_drops_history_but_keeps_elements() -> None:
    board, _ = busy_board()
    rebased = board.rebased()
    assert rebased.elements() == board.elements()
    assert len(rebased.state()) < len(board.compact())
    assert rebased.client_id != board.client_id
