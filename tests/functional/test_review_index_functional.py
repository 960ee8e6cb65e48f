"""The review index: built when a meeting ends (or, after a restart, in the background
for an ended meeting without one), stored, and read back after a restart instead of
folding the log again; boards at a moment from stored checkpoints; building gives the
event loop back."""

import asyncio
import gc
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from bench.bench_review import make_log
from facilitation.session import Session, fold
from rooms import Event
from server import review as review_module
from server.keys import STORE
from server.review import Replica, review_view
from server.review_pages import REVIEW
from server.store import SQLiteStore
from tests.functional.test_boards_functional import Replica as Drawing
from tests.functional.test_boards_functional import stroke
from tests.support import ADMIN_TOKEN, RunningServer, start_server

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def get(server: RunningServer, path: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(server.url + path,
                                                         headers=ADMIN) as resp:
        return resp.status, await resp.read()


def expected_view(events: list[Event], seq: int) -> Any:
    """What the live fold said after event ``seq``: the review must say the same."""
    state = Session()
    fold(events[:seq], state)
    return msgspec.json.decode(msgspec.json.encode(review_view(state, events[seq - 1].ts)))


def expected_board(events: list[Event], room: str, seq: int) -> list[dict[str, Any]]:
    board = Replica()
    for e in events[:seq]:
        if e.type == "board.updated" and e.data["room"] == room:
            board.apply(e.data["update"])
    return board.elements()


def board_of(updates: list[bytes]) -> list[dict[str, Any]]:
    board = Replica()
    for update in reversed(updates):  # any order makes the same document
        board.apply(update)
    return board.elements()


async def test_index_is_stored_when_the_meeting_ends_and_read_back_after_a_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_module, "CHECKPOINT_EVERY", 7)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_MIN", 3)
    data = tmp_path / "data"
    first = await start_server(data)
    m = await first.new_meeting()
    fia = await m.facilitator()
    anna = await m.participant("Anna", "Vasa")
    bo = await m.participant("Bo", "Esbo")
    drawing = Drawing()
    for i in range(8):
        await anna.ok("board.update", {"update": drawing.add(f"s{i}", **stroke("#e11d48"))})
        await bo.ok("chat", {"text": f"hej {i}"})
    await fia.ok("round.preview", {"group_count": 1, "duration_s": 600})
    await fia.ok("round.open")
    await anna.ok("chat", {"text": "i gruppen"})
    await fia.ok("round.close")
    status, _ = await first.api("POST", f"/api/meetings/{m.id}/end")
    assert status == 200
    await asyncio.wait_for(first.app[REVIEW].settled(), 10)
    store = first.app[STORE]
    events = await store.read(m.id)
    stored = await store.latest_snapshot(f"{m.id}#review#index")
    assert stored is not None and stored[0] == events[-1].seq  # built at the end, no request
    assert await store.latest_snapshot(f"{m.id}#review#state#7") is not None
    await first.stop()

    def no_folding(*args: object) -> None:
        raise AssertionError("the restarted server folded the log again")
    monkeypatch.setattr(review_module.Review, "_grow", no_folding)
    second = await start_server(data, port=first.port)
    try:
        for seq in (1, 6, 7, 8, 15, 22, len(events) - 1, len(events)):
            status, body = await get(second, f"/review/{m.id}/state.json?seq={seq}")
            assert status == 200, body
            assert msgspec.json.decode(body) == expected_view(events, seq), seq
        drawn = [e.seq for e in events if e.type == "board.updated"]
        assert len(drawn) == 8
        # Before the first checkpoint, on one, between and after: the board as it was.
        for seq in (drawn[1], drawn[2], drawn[4], drawn[6], events[-1].seq):
            status, body = await get(second, f"/review/{m.id}/boards/plenary.ybin?seq={seq}")
            assert status == 200
            assert board_of(msgspec.msgpack.decode(body)) == \
                expected_board(events, "plenary", seq), seq
        status, svg = await get(second, f"/review/{m.id}/boards/plenary.svg?seq={drawn[4]}")
        assert status == 200 and svg.count(b"#e11d48") == 5
    finally:
        await second.stop()


def ended_log(n: int) -> list[Event]:
    events = make_log(n)
    last = events[-1]
    return [*events, Event(last.seq + 1, last.ts + 1, "system", "meeting.ended", {})]


async def test_an_ended_meeting_without_an_index_gets_one_in_the_background(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    events = ended_log(3000)
    async with SQLiteStore(data / "ledarstig.sqlite3") as store:
        await store.append("benchreview1", events)
    server = await start_server(data, retention_days=36_500)  # the log is dated 2026-05
    try:
        await asyncio.wait_for(server.app[REVIEW].settled(), 30)
        stored = await server.app[STORE].latest_snapshot("benchreview1#review#index")
        logged = await server.app[STORE].read("benchreview1")  # and what a restart adds
        assert len(logged) >= len(events)
        assert stored is not None and stored[0] == len(logged)
    finally:
        await server.stop()


async def test_building_the_index_gives_the_event_loop_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    events = make_log(12_000)  # a live meeting: built on the first request
    async with SQLiteStore(data / "ledarstig.sqlite3") as store:
        await store.append("benchreview1", events)
    server = await start_server(data)
    gaps: list[float] = []
    done = asyncio.Event()
    # The server's GC policy (``gc_freeze``, off in tests) keeps long-lived objects out
    # of full collections; do the same for the test's own, so a collection scanning them
    # is not taken for the build holding the loop.
    gc.collect()
    gc.freeze()

    async def tick() -> None:
        # CPU time of the event loop's thread between two ticks: how long it ran other
        # code without coming back (on a loaded machine, wall time is mostly waiting).
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.thread_time()
            gaps.append(now - last)
            last = now
    ticker = asyncio.create_task(tick())
    try:
        status, body = await get(server, f"/review/benchreview1/state.json?seq={len(events)}")
        assert status == 200, body
        done.set()
        await ticker
        assert msgspec.json.decode(body) == expected_view(events, len(events))
        assert max(gaps) < 0.05, f"the event loop was held {max(gaps) * 1000:.0f} ms"
    finally:
        gc.unfreeze()
        done.set()
        await server.stop()


async def test_erasure_leaves_nothing_in_the_stored_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.functional.test_erasure_functional import BOARD_TEXT, SECRET_CHAT, TOKEN, grep

    monkeypatch.setattr(review_module, "CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_EVERY", 1)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_MIN", 1)
    data = tmp_path / "data"
    server = await start_server(data)
    try:
        m = await server.new_meeting()
        await m.facilitator()
        anna = await m.participant(f"Anna {TOKEN}", "Vasa")
        bo = await m.participant("Bo", "Esbo")
        await anna.ok("chat", {"text": SECRET_CHAT})
        drawing = Drawing()
        await anna.ok("board.update", {"update": drawing.add(
            "n1", type="sticky", x=1, y=2, w=100, h=80, color="#fde68a",
            text=f"{BOARD_TEXT} {TOKEN}", author=TOKEN, z=1)})
        for i in range(4):
            await bo.ok("chat", {"text": f"Bo {i}"})
        status, _ = await server.api("POST", f"/api/meetings/{m.id}/end")
        assert status == 200
        review = server.app[REVIEW]
        await asyncio.wait_for(review.settled(), 10)
        store = server.app[STORE]
        events = await store.read(m.id)
        drawn = next(e.seq for e in events if e.type == "board.updated")
        held = await store.latest_snapshot(f"{m.id}#review#board#plenary#{drawn}")
        assert held is not None and BOARD_TEXT.encode() in zlib.decompress(held[1])
        last = max(s for s in range(3, len(events) + 1, 3))
        held = await store.latest_snapshot(f"{m.id}#review#state#{last}")
        assert held is not None and SECRET_CHAT.encode() in zlib.decompress(held[1])
        status, _ = await server.api(
            "POST", f"/api/meetings/{m.id}/participants/{anna.participant}/erase")
        assert status == 200
        for needle in (TOKEN, SECRET_CHAT, BOARD_TEXT):
            assert grep(data, needle) == [], needle
        # The index is built again from the rewritten log, and it has none of it.
        await asyncio.wait_for(review.settled(), 10)
        assert await store.latest_snapshot(f"{m.id}#review#index") is not None
        for needle in (TOKEN, SECRET_CHAT, BOARD_TEXT):
            assert grep(data, needle) == [], needle
        with sqlite3.connect(data / "ledarstig.sqlite3") as db:  # stored compressed
            blobs = [zlib.decompress(b) for (b,) in db.execute(
                "SELECT blob FROM snapshots WHERE meeting LIKE ?", (f"{m.id}#review#%",))]
        assert len(blobs) > 3 and any(b"Bos" in b or b"\xa2Bo" in b for b in blobs)
        for needle in (TOKEN, SECRET_CHAT, BOARD_TEXT):
            assert not any(needle.encode() in b for b in blobs), needle
        status, body = await get(server, f"/review/{m.id}/state.json?seq={len(events)}")
        assert status == 200 and b"Bo 3" in body and SECRET_CHAT.encode() not in body
        status, body = await get(server, f"/review/{m.id}/boards/plenary.ybin?seq={drawn}")
        assert status == 200 and BOARD_TEXT.encode() not in body
        assert board_of(msgspec.msgpack.decode(body))[0]["color"] == "#fde68a"  # kept
    finally:
        await server.stop()


async def test_a_stored_index_of_a_live_meeting_grows_after_a_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_module, "CHECKPOINT_EVERY", 4)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(review_module, "BOARD_CHECKPOINT_MIN", 2)
    monkeypatch.setattr(review_module, "MANIFEST_EVERY", 5)
    data = tmp_path / "data"
    first = await start_server(data, grace_s=30.0)
    m = await first.new_meeting()
    anna = await m.participant("Anna", "Vasa")
    drawing = Drawing()
    for i in range(5):
        await anna.ok("board.update", {"update": drawing.add(f"s{i}", **stroke("#e11d48"))})
        await anna.ok("chat", {"text": f"före {i}"})
    status, _ = await get(first, f"/review/{m.id}/state.json")  # grows it; stored
    assert status == 200
    assert await first.app[STORE].latest_snapshot(f"{m.id}#review#index") is not None
    await first.stop()
    second = await start_server(data, port=first.port, grace_s=30.0)
    try:
        bo = await (await second.new_meeting()).participant("Bo")  # another meeting
        del bo
        again = second.client(m.tokens["participant"], meeting=m.id, resume=anna.resume_token)
        await again.connect()
        await again.ok("join", {})
        for i in range(5, 8):
            await again.ok("board.update", {"update": drawing.add(f"s{i}",
                                                                 **stroke("#2563eb"))})
            await again.ok("chat", {"text": f"efter {i}"})
        events = await second.app[STORE].read(m.id)
        for seq in (3, 9, 14, len(events) - 2, len(events)):
            status, body = await get(second, f"/review/{m.id}/state.json?seq={seq}")
            assert status == 200 and msgspec.json.decode(body) == expected_view(events, seq)
            status, body = await get(second, f"/review/{m.id}/boards/plenary.ybin?seq={seq}")
            assert board_of(msgspec.msgpack.decode(body)) == \
                expected_board(events, "plenary", seq), seq
    finally:
        await second.stop()
