"""The v1 update walker: decoding, dependencies and the new-key bound."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from rooms.board import ELEMENTS_KEY, StateVectorInvalid, UpdateUndecodable
from rooms.board.update_v1 import decode_state_vector, summarize_update
from tests.unit.board.board_helpers import Client, as_map, rect, stroke


def clocks_of(update: bytes) -> dict[int, int]:
    ends: dict[int, int] = {}
    for run in summarize_update(update, ELEMENTS_KEY).ranges:
        if not run.skip:
            ends[run.client] = max(ends.get(run.client, 0), run.clock + run.length)
    return ends


def test_ranges_of_a_full_state_match_its_state_vector() -> None:
    alice, bob = Client(1), Client(2)
    bob.receive(alice.add("a", stroke(0, 0)))
    bob.move("a", 3, 4)
    bob.set_text("a", "naïve ☃ 😀 text")
    bob.add("b", {**rect(1, 1), "tags": {"nested": [1, None, True, "x", b"\x00"]}})
    bob.delete("b")
    state = bob.doc.get_update()
    assert clocks_of(state) == decode_state_vector(bob.doc.get_state())


def test_new_element_has_key_bound_one() -> None:
    alice = Client(1)
    summary = summarize_update(alice.add("a", stroke(0, 0)), ELEMENTS_KEY)
    assert summary.key_bound == 1
    assert (1, 0) in summary.references  # fields name the element map as parent
    assert summary.is_ready({})  # and everything they name is in the update


def test_nested_edit_depends_on_its_origin() -> None:
    alice = Client(1)
    alice.add("a", stroke(0, 0))
    summary = summarize_update(alice.move("a", 1, 2), ELEMENTS_KEY)
    assert summary.key_bound == 2  # anchored items could be top-level keys
    assert not summary.is_ready({})
    assert summary.is_ready(decode_state_vector(alice.doc.get_state()))


def test_other_roots_do_not_count() -> None:
    doc: Doc[object] = Doc(client_id=3)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    doc.get("chat", type=Map)["k"] = 1
    assert summarize_update(updates[0], ELEMENTS_KEY).key_bound == 0


@pytest.mark.parametrize("cut", [1, 3, 10, -1])
def test_truncated_updates_are_undecodable(cut: int) -> None:
    update = Client(1).add("a", stroke(0, 0))
    with pytest.raises(UpdateUndecodable):
        summarize_update(update[:cut], ELEMENTS_KEY)


def test_overlong_varint_is_undecodable() -> None:
    with pytest.raises(UpdateUndecodable):
        summarize_update(b"\xff" * 11, ELEMENTS_KEY)


def test_state_vector_round_trip_and_garbage() -> None:
    alice = Client(7)
    alice.add("a", rect(0, 0))
    assert decode_state_vector(alice.doc.get_state()) == {7: 11}
    with pytest.raises(StateVectorInvalid):
        decode_state_vector(b"\x02\x01")


operations = st.lists(
    st.tuples(st.sampled_from(["add", "move", "delete", "text"]), st.integers(0, 5)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(setup=operations, batch=operations)
def test_key_bound_covers_keys_actually_added(
    setup: list[tuple[str, int]], batch: list[tuple[str, int]]
) -> None:
    alice = Client(1)
    for op in setup:
        alice.change(lambda op=op: apply_op(alice.root, op))
    before = set(alice.root.keys())
    update = alice.change(lambda: [apply_op(alice.root, op) for op in batch])
    added = set(alice.root.keys()) - before
    assert summarize_update(update, ELEMENTS_KEY).key_bound >= len(added)


def apply_op(root: Map[object], op: tuple[str, int]) -> None:
    kind, n = op
    key = f"k{n}"
    if kind == "add" or key not in root:
        root[key] = as_map(rect(n, n))
    elif kind == "move":
        root[key]["x"] = float(n)  # type: ignore[index]
    elif kind == "delete":
        del root[key]
    else:
        root[key]["text"] = f"t{n}"  # type: ignore[index]
