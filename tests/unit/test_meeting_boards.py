"""Boards inside the live meeting: folded in the same commit, read from the log once,
snapshotted by the hub's one policy. In memory (MemoryStore), no server."""

import asyncio
from collections.abc import Sequence

import pytest

from facilitation import breakouts as b
from rooms import PLENARY, SYSTEM, Draft, Event, Role
from rooms.board import BoardFull, BoardLimits, prompt_update
from rooms.events import BoardUpdated
from server import boards as boards_module
from server.boards import snapshot_key
from server.hub import Hub
from server.store import MemoryStore
from tests.unit.ports import Nowhere

T0 = 1_800_000_000_000


class Clock:
    def now_ms(self) -> int:
        return T0

    def monotonic(self) -> float:
        return 0.0


class GatedStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.gate: asyncio.Event | None = None

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await super().append(meeting, events)


def note(i: int, origin: str | None = None) -> Draft:
    update = prompt_update(f"n{i}", "x", f"e{i}")
    if origin == "prompt":
        return BoardUpdated(room=PLENARY, update=update, origin="prompt")
    return BoardUpdated(room=PLENARY, update=update)


async def meeting(store: MemoryStore, limits: BoardLimits | None = None) -> tuple[Hub, str]:
    hub = Hub(store, Nowhere(), Clock(), board_limits=limits)
    m = (await hub.create("T", "2026-12-01", "A")).id
    await hub.execute(m, "p", lambda s: b.join(s, "p", Role.PARTICIPANT, name="P",
                                                municipality="Vasa"))
    return hub, m


async def test_an_update_is_on_the_board_in_the_same_commit() -> None:
    hub, m = await meeting(MemoryStore())
    board = await hub.get(m).boards.of(PLENARY)
    await hub.execute(m, "p", lambda s: [note(1)])
    assert board.element_count == 1


async def test_an_update_the_board_refuses_is_not_committed() -> None:
    hub, m = await meeting(MemoryStore(), BoardLimits(max_elements=1))
    live = hub.get(m)
    await live.boards.of(PLENARY)
    await hub.execute(m, "p", lambda s: [note(1)])
    seq = live.state.seq
    with pytest.raises(BoardFull):
        await hub.execute(m, "p", lambda s: [note(2)])
    assert live.state.seq == seq and live.state.board_updates[PLENARY] == 1
    assert not live.broken
    # The server's own updates are not held to the client limits.
    await hub.execute(m, SYSTEM, lambda s: [note(3, origin="prompt")])
    assert (await live.boards.of(PLENARY)).element_count == 2


async def test_a_board_read_while_an_update_is_in_flight_holds_it() -> None:
    store = GatedStore()
    hub, m = await meeting(store)
    store.gate = asyncio.Event()
    writing = asyncio.create_task(hub.execute(m, SYSTEM, lambda s: [note(1, "prompt")]))
    await asyncio.sleep(0)  # committed, not durable: the store holds it back
    board = await hub.get(m).boards.of(PLENARY)
    assert board.element_count == 1
    store.gate.set()
    await writing


async def test_board_snapshots_follow_the_hub_and_a_reload_reads_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boards_module, "SNAPSHOT_EVERY", 3)
    store = MemoryStore()
    hub, m = await meeting(store)
    await hub.get(m).boards.of(PLENARY)
    for i in range(4):
        await hub.execute(m, "p", lambda s, i=i: [note(i)])  # type: ignore[misc]
    snap = await store.latest_snapshot(snapshot_key(m, PLENARY))
    assert snap is not None and snap[0] == hub.get(m).state.seq - 1
    again = Hub(store, Nowhere(), Clock())
    await again.recover()
    assert (await again.get(m).boards.of(PLENARY)).element_count == 4


async def test_a_clear_is_computed_without_touching_the_board_then_folded() -> None:
    store = MemoryStore()
    hub, m = await meeting(store, BoardLimits(max_update_bytes=64))  # a clear may exceed it
    board = await hub.get(m).boards.of(PLENARY)
    for i in range(2):
        await hub.execute(m, SYSTEM, lambda s, i=i: [note(i, "prompt")])  # type: ignore[misc]
    clear = board.cleared()
    assert board.element_count == 2  # deciding changes nothing
    await hub.execute(m, "f", lambda s: [BoardUpdated(
        room=PLENARY, update=clear, origin="clear")])
    assert board.element_count == 0
    again = Hub(store, Nowhere(), Clock())
    await again.recover()
    assert (await again.get(m).boards.of(PLENARY)).element_count == 0
