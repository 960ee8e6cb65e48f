import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.assignment import manual, mix, random_groups
from facilitation.encounters import Encounters
from facilitation.people import Person
from facilitation.self_select import SelfSelect
from tests.unit.facilitation.facilitation_helpers import colleague_pairs, flat, spread

FAST = settings(max_examples=150, deadline=None, database=None)


@st.composite
def meetings(draw: st.DrawFn) -> tuple[list[Person], int, int, Encounters]:
    """A roster, a valid group count, a seed and a history of earlier rounds."""
    counts = draw(st.lists(st.integers(1, 8), min_size=1, max_size=10))
    people = [Person(f"m{m}-{k}", f"m{m}") for m, count in enumerate(counts) for k in range(count)]
    group_count = draw(st.integers(1, len(people)))
    seed = draw(st.integers(0, 2**32))
    rounds = draw(st.integers(0, 3))
    history = Encounters()
    for r in range(rounds):
        history = history.merged(random_groups(people, group_count=group_count, seed=seed + r))
    return people, group_count, seed, history


@FAST
@given(meetings())
def test_everyone_placed_exactly_once_in_balanced_groups(
    meeting: tuple[list[Person], int, int, Encounters],
) -> None:
    people, group_count, seed, history = meeting
    groups = mix(people, group_count=group_count, seed=seed, encounters=history)
    sizes = [len(group) for group in groups]
    assert len(groups) == group_count
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)
    assert Counter(flat(groups)) == Counter(p.id for p in people)


@FAST
@given(meetings())
def test_no_colleagues_together_whenever_the_numbers_allow(
    meeting: tuple[list[Person], int, int, Encounters],
) -> None:
    people, group_count, seed, history = meeting
    largest = max(Counter(p.municipality for p in people).values())
    groups = mix(people, group_count=group_count, seed=seed, encounters=history)
    if largest <= group_count:
        assert colleague_pairs(groups, people) == 0


@FAST
@given(meetings())
def test_every_municipality_is_spread_evenly(
    meeting: tuple[list[Person], int, int, Encounters],
) -> None:
    people, group_count, seed, history = meeting
    groups = mix(people, group_count=group_count, seed=seed, encounters=history)
    for municipality in {p.municipality for p in people}:
        counts = spread(groups, people, municipality)
        assert max(counts) - min(counts) <= 1


@FAST
@given(meetings())
def test_same_seed_gives_same_groups(meeting: tuple[list[Person], int, int, Encounters]) -> None:
    people, group_count, seed, history = meeting
    first = mix(people, group_count=group_count, seed=seed, encounters=history)
    again = mix(list(people), group_count=group_count, seed=seed, encounters=history)
    assert first == again


@FAST
@given(meetings(), st.data())
def test_manual_keeps_the_mapping_and_places_everyone_else(
    meeting: tuple[list[Person], int, int, Encounters], data: st.DataObject
) -> None:
    people, group_count, seed, history = meeting
    mapped = data.draw(st.lists(st.sampled_from(people), unique=True))
    mapping = {p.id: data.draw(st.integers(0, group_count - 1)) for p in mapped}
    groups = manual(people, mapping, group_count, seed=seed, encounters=history)
    assert Counter(flat(groups)) == Counter(p.id for p in people)
    assert all(person_id in groups[index] for person_id, index in mapping.items())
    free_sizes = [len(group) for group in groups if not set(group) <= set(mapping)]
    if free_sizes:
        assert max(free_sizes) - min(len(group) for group in groups) <= 1


@FAST
@given(meetings(), st.data())
def test_self_select_keeps_choices_and_capacity(
    meeting: tuple[list[Person], int, int, Encounters], data: st.DataObject
) -> None:
    people, group_count, seed, history = meeting
    capacity = -(-len(people) // group_count) + data.draw(st.integers(0, 2))
    state = SelfSelect.open([p.id for p in people], group_count=group_count, capacity=capacity)
    for person in data.draw(st.lists(st.sampled_from(people), unique=True)):
        index = data.draw(st.integers(0, group_count - 1))
        if state.seats_left(index) > 0:
            state = state.choose(person.id, index)
    groups = state.finalize(people, seed=seed, encounters=history)
    assert Counter(flat(groups)) == Counter(p.id for p in people)
    assert all(len(group) <= capacity for group in groups)
    assert all(person_id in groups[index] for person_id, index in state.choices.items())


def test_groups_do_not_depend_on_the_hash_seed() -> None:
    script = (
        "from facilitation import Encounters, Person, mix, random_groups\n"
        "people = [Person(f'p{i}', f'm{i % 7}') for i in range(60)]\n"
        "history = Encounters.from_groups(random_groups(people, group_count=12, seed=1))\n"
        "print(mix(people, group_count=12, seed=3, encounters=history))\n"
    )
    root = Path(__file__).resolve().parents[3]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in (1, 2)
    }
    assert len(outputs) == 1
