"""Admission of client updates: accept, reject (board unchanged), backlog."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from rooms.board import (
    BacklogFull,
    Board,
    BoardFull,
    BoardLimits,
    UpdateTooLarge,
    UpdateUndecodable,
)
from tests.unit.board.board_helpers import Client, rect, stroke

LIMITS = BoardLimits()


def snapshot(board: Board) -> tuple[bytes, list[dict[str, object]], int]:
    return board.state(), board.elements(), board.backlog_size


def board_with(client: Client, *updates: bytes, limits: BoardLimits = LIMITS) -> Board:
    board = Board(limits)
    for update in updates or tuple(client.sent):
        board.apply(update)
    return board


def test_apply_adds_element_with_its_id() -> None:
    alice = Client(1)
    board = board_with(alice, alice.add("s1", stroke(10, 20)))
    (element,) = board.elements()
    assert element["id"] == "s1"
    assert element["type"] == "pen"
    assert element["points"][:4] == [0, 0, 3, 7]
    assert board.element_count == 1


def test_elements_sorted_by_z_then_id() -> None:
    alice = Client(1)
    alice.add("b", rect(0, 0, z=2))
    alice.add("c", rect(0, 0, z=1))
    alice.add("a", rect(0, 0, z=2))
    alice.change(lambda: alice.root.__setitem__("junk", 5))
    board = board_with(alice)
    assert [e["id"] for e in board.elements()] == ["c", "a", "b"]
    assert board.element_count == 4


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"\xff\xff\xff", b"hello world", b"\x01\x01\x05\x00\x1f", b"\x02" * 20],
)
def test_undecodable_bytes_are_rejected_and_board_unchanged(garbage: bytes) -> None:
    alice = Client(1)
    board = board_with(alice, alice.add("s1", stroke(0, 0)))
    before = snapshot(board)
    with pytest.raises(UpdateUndecodable) as caught:
        board.apply(garbage)
    assert caught.value.code == "board_update_invalid"
    assert snapshot(board) == before


def test_truncated_update_is_rejected_and_board_unchanged() -> None:
    alice = Client(1)
    board = board_with(alice, alice.add("s1", stroke(0, 0)))
    update = alice.add("s2", stroke(5, 5))
    before = snapshot(board)
    for cut in (1, 5, len(update) // 2, len(update) - 1):
        with pytest.raises(UpdateUndecodable):
            board.apply(update[:cut])
        assert snapshot(board) == before


def test_inconsistent_update_is_rolled_back() -> None:
    """yrs integrates part of this update, then fails; the journal restores the board."""
    alice = Client(1)
    board = board_with(alice, alice.add("e0", {"type": "pen"}))
    good = alice.add("e1", {"type": "pen"})
    # e1's "type" entry names e0's string value (client 1, clock 1) as its parent.
    parent_of_field = b"\x28\x00\x01\x02\x04type"
    assert good.count(parent_of_field) == 1
    bad = good.replace(parent_of_field, b"\x28\x00\x01\x01\x04type")
    before = snapshot(board)
    with pytest.raises(UpdateUndecodable):
        board.apply(bad)
    assert snapshot(board) == before
    board.apply(good)
    assert [e["id"] for e in board.elements()] == ["e0", "e1"]


def test_oversized_update_is_rejected_and_board_unchanged() -> None:
    alice = Client(1)
    limits = BoardLimits(max_update_bytes=2000)
    board = board_with(alice, alice.add("s1", stroke(0, 0)), limits=limits)
    big = alice.add("s2", stroke(0, 0, n=400))
    before = snapshot(board)
    with pytest.raises(UpdateTooLarge) as caught:
        board.apply(big)
    assert caught.value.code == "board_update_too_large"
    assert snapshot(board) == before


def test_element_cap_rejects_update_and_board_unchanged() -> None:
    alice = Client(1)
    limits = BoardLimits(max_elements=3)
    board = board_with(alice, alice.add("a", rect(0, 0)), alice.add("b", rect(0, 0)), limits=limits)

    def add_two() -> None:
        alice.root["c"] = Map({"type": "rect"})
        alice.root["d"] = Map({"type": "rect"})

    before = snapshot(board)
    with pytest.raises(BoardFull) as caught:
        board.apply(alice.change(add_two))
    assert caught.value.code == "board_full"
    assert snapshot(board) == before


def test_bulk_update_over_cap_is_rejected_on_empty_board() -> None:
    alice = Client(1)

    def add_many() -> None:
        for i in range(50):
            alice.root[f"e{i}"] = Map({"type": "rect"})

    board = Board(BoardLimits(max_elements=49))
    with pytest.raises(BoardFull):
        board.apply(alice.change(add_many))
    assert board.element_count == 0
    assert board.state() == Board(LIMITS, client_id=board.client_id).state()


def test_full_board_still_accepts_moves_deletes_and_swaps() -> None:
    alice = Client(1)
    limits = BoardLimits(max_elements=2)
    board = board_with(alice, alice.add("a", rect(0, 0)), alice.add("b", rect(0, 0)), limits=limits)
    board.apply(alice.move("a", 50, 60))
    board.apply(alice.set_text("b", "still editable"))

    def swap() -> None:
        del alice.root["a"]
        alice.root["c"] = Map({"type": "rect"})

    board.apply(alice.change(swap))
    assert [(e["id"], e.get("x")) for e in board.elements()] == [("c", None), ("b", 0)]
    with pytest.raises(BoardFull):
        board.apply(alice.add("d", rect(0, 0)))


def test_duplicate_updates_are_harmless() -> None:
    alice = Client(1)
    update = alice.add("a", rect(0, 0))
    board = board_with(alice, update, update)
    state = board.state()
    board.apply(update)
    assert board.state() == state
    assert board.element_count == 1


def test_out_of_order_update_waits_in_backlog() -> None:
    alice, bob = Client(1), Client(2)
    first = alice.add("a", rect(0, 0))
    bob.receive(first)
    dependent = bob.move("a", 7, 8)
    board = Board(LIMITS)
    board.apply(dependent)
    assert board.backlog_size == 1
    assert board.elements() == []
    board.apply(first)
    assert board.backlog_size == 0
    assert board.elements()[0]["x"] == 7


def test_backlog_is_bounded() -> None:
    alice = Client(1)
    alice.add("a", stroke(0, 0))
    later = [alice.move("a", i, i) for i in range(20)]
    board = Board(BoardLimits(max_backlog_bytes=100))
    with pytest.raises(BacklogFull):
        for update in later:
            board.apply(update)
    assert board.backlog_size < len(later)


def test_backlog_reserves_room_under_the_cap() -> None:
    """A parked update keeps its slot, so it can never overflow the cap when it lands."""
    alice, bob = Client(1), Client(2)
    first = alice.add("a", rect(0, 0))
    parked = alice.add("c", rect(0, 0))
    board = Board(BoardLimits(max_elements=3))
    board.apply(parked)  # alice's first update is missing
    board.apply(bob.add("b", rect(0, 0)))
    board.apply(bob.add("d", rect(0, 0)))
    with pytest.raises(BoardFull):
        board.apply(bob.add("e", rect(0, 0)))
    assert board.element_count == 2
    assert board.backlog_size == 1
    with pytest.raises(BoardFull):
        board.apply(first)  # "a" plus the reserved "c" would make four


def test_parked_update_lands_when_its_dependency_arrives_at_the_cap() -> None:
    alice, bob = Client(1), Client(2)
    first = alice.add("a", rect(0, 0))
    parked = alice.add("c", rect(0, 0))
    board = Board(BoardLimits(max_elements=3))
    board.apply(parked)
    board.apply(bob.add("b", rect(0, 0)))
    board.apply(first)
    assert sorted(e["id"] for e in board.elements()) == ["a", "b", "c"]
    assert board.backlog_size == 0


def test_state_from_fresh_doc_matches_for_late_joiner() -> None:
    alice = Client(1)
    for i in range(5):
        alice.add(f"s{i}", stroke(i, i, z=i))
    alice.move("s1", 100, 100)
    alice.delete("s3")
    board = board_with(alice)
    late: Doc[object] = Doc()
    late.apply_update(board.state())
    joined = Client(9)
    joined.receive(board.state())
    assert joined.elements() == board.elements() == alice.elements()
    copy = Board.from_state(board.state(), LIMITS)
    assert copy.elements() == board.elements()
    assert copy.state_vector() == board.state_vector()


def inconsistent(update: bytes) -> bytes:
    """Re-parent the element's "type" field onto a string item (clock 1)."""
    parent_of_field = b"\x28\x00\x01"
    head, _, tail = update.partition(parent_of_field)
    return head + parent_of_field + b"\x01" + tail[1:]


def test_rollback_after_journal_checkpoints() -> None:
    alice = Client(1)
    board = Board(LIMITS)
    board.apply(alice.add("e0", {"type": "pen"}))
    for i in range(700):  # well past the journal's 256 KiB checkpoint interval
        board.apply(alice.add(f"s{i}", stroke(i, i, n=30)))
    good = Client(5).add("e1", {"type": "pen"})
    bad = good.replace(b"\x28\x00\x05\x00\x04type", b"\x28\x00\x01\x01\x04type")
    assert bad != good
    before = snapshot(board)
    with pytest.raises(UpdateUndecodable):
        board.apply(bad)
    assert snapshot(board) == before


def test_inconsistent_parked_update_is_dropped_when_drained() -> None:
    alice = Client(1)
    first = alice.add("e0", {"type": "pen"})
    bad = inconsistent(alice.add("e1", {"type": "pen"}))
    board = Board(LIMITS)
    board.apply(bad)
    assert board.backlog_size == 1
    board.apply(first)
    assert board.backlog_size == 0
    assert [e["id"] for e in board.elements()] == ["e0"]


def test_from_state_rejects_garbage_and_keeps_client_id() -> None:
    with pytest.raises(UpdateUndecodable):
        Board.from_state(b"\x05\x01", LIMITS)
    board = Board.from_state(Board(LIMITS).state(), LIMITS, client_id=77)
    assert board.client_id == 77


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(["add", "move", "delete"]), st.integers(0, 9)),
        max_size=40,
    )
)
def test_cap_holds_and_rejections_leave_no_trace(ops: list[tuple[int, str, int]]) -> None:
    limits = BoardLimits(max_elements=4)
    board = Board(limits)
    clients = [Client(10 + i) for i in range(3)]
    fresh_ids = itertools.count(100)
    for who, op, n in ops:
        client = clients[who]
        keys = sorted(client.root.keys())
        if op == "add" or not keys:
            update = client.add(f"{who}-{n}", rect(n, n))
        elif op == "move":
            update = client.move(keys[n % len(keys)], n, n)
        else:
            update = client.delete(keys[n % len(keys)])
        before = snapshot(board)
        try:
            board.apply(update)
        except BoardFull:
            assert snapshot(board) == before
            clients[who] = Client(next(fresh_ids))  # a rejected client resyncs
            clients[who].receive(board.state())
        assert board.element_count <= limits.max_elements
        assert board.backlog_size == 0
