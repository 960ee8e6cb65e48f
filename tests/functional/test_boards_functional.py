"""Whiteboards end to end: real clients sending real Yjs (pycrdt) updates."""

import io
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
import socketio
from PIL import Image
from pycrdt import Array, Doc, Map

from server.keys import HUB, STORE
from tests.support import ADMIN_TOKEN, Meeting, start_server


class Replica:
    """A client's board document, as the browser keeps it with Yjs."""

    def __init__(self) -> None:
        self.doc: Doc = Doc()
        self.elements = self.doc.get("elements", type=Map)

    def add(self, element_id: str, **fields: Any) -> bytes:
        before = self.doc.get_state()
        self.elements[element_id] = Map({k: Array(v) if isinstance(v, list) else v
                                         for k, v in fields.items()})
        return self.doc.get_update(before)

    def apply(self, update: bytes) -> None:
        self.doc.apply_update(update)

    def ids(self) -> set[str]:
        return set(self.elements.keys())


def stroke(color: str = "#e11d48") -> dict[str, Any]:
    return {"type": "pen", "x": 10, "y": 20, "points": [0, 0, 30, 10, 60, 40],
            "color": color, "width": 3, "author": "t", "z": 1}



async def test_update_reaches_room_members_and_late_joiners(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    mine = Replica()
    await anna.ok("board.update", {"update": mine.add("s1", **stroke())})
    got = await bo.inbox.wait("event", lambda e: e["type"] == "board.updated")
    assert got["data"]["room"] == "plenary" and got["actor"] == anna.participant
    theirs = Replica()
    theirs.apply(got["data"]["update"])
    assert theirs.ids() == {"s1"}
    late = await meeting.participant("Cilla", "Borgå")
    state = await late.inbox.wait("board.state")
    fresh = Replica()
    fresh.apply(state["update"])
    assert fresh.ids() == {"s1"} and fresh.elements["s1"]["color"] == "#e11d48"


async def test_boards_are_per_room_and_gallery_after_the_round(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = [await meeting.participant(f"P{i}", m) for i, m in
              enumerate(["Vasa", "Borgå", "Esbo", "Pargas"])]
    await fia.ok("round.preview", {"group_count": 2, "prompts": ["Uppgift ett", "Uppgift två"]})
    await fia.ok("round.open")
    r = meeting.server.app[HUB].get(meeting.id).state.current()
    by_id = {c.participant: c for c in people}
    a, b = (by_id[pid] for pid in r.groups[0])
    c = by_id[r.groups[1][0]]
    seeded = await a.inbox.wait("event", lambda e: e["type"] == "board.updated"
                                and e["data"].get("origin") == "prompt")
    assert seeded["data"]["room"] == r.rooms[0]
    group_board = Replica()  # a new group's board starts empty; the seed is its first update
    group_board.apply(seeded["data"]["update"])
    assert "prompt" in group_board.ids()
    await a.ok("board.update", {"update": group_board.add("idea", type="sticky", x=5, y=5,
                                                           w=120, h=80, text="Mer tid",
                                                           color="#000000", width=1,
                                                           author="a", z=2)})
    await b.inbox.wait("event", lambda e: e["type"] == "board.updated"
                       and e["actor"] == a.participant)
    assert not [e for e in c.inbox.events("board.updated") if e["data"]["room"] == r.rooms[0]]
    denied = await c.call("board.fetch", {"room": r.rooms[0]})
    assert denied["error"]["code"] == "forbidden"
    await fia.ok("round.close")
    gallery = await c.ok("board.gallery")
    assert [g["room"] for g in gallery["boards"]] == r.rooms
    assert c.resume_token not in gallery["boards"][0]["svg"]  # links are safe to share
    export = gallery["boards"][0]["svg"].split("export=")[1]
    thief = meeting.server.client(meeting.tokens["participant"], resume=unquote(export))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await thief.connect()
    assert gallery["boards"][0]["elements"] == 2
    fetched = await c.ok("board.fetch", {"room": r.rooms[0]})
    copy = Replica()
    copy.apply(fetched["update"])
    assert copy.elements["idea"]["text"] == "Mer tid"
    async with aiohttp.ClientSession() as http:
        async with http.get(meeting.server.url + gallery["boards"][0]["svg"]) as resp:
            assert resp.status == 200
            svg = ET.fromstring(await resp.text())
            texts = "".join(svg.itertext())
            assert "Mer tid" in texts and "Uppgift ett" in texts
        async with http.get(meeting.server.url + gallery["boards"][0]["png"]) as resp:
            assert resp.status == 200 and resp.content_type == "image/png"
            image = Image.open(io.BytesIO(await resp.read())).convert("RGB")
            assert len(image.getcolors(maxcolors=1 << 16) or []) > 2
    await fia.ok("board.show", {"room": r.rooms[1]})
    await a.inbox.wait("event", lambda e: e["type"] == "board.shown")


async def test_bad_updates_are_refused_and_change_nothing(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    mine = Replica()
    await anna.ok("board.update", {"update": mine.add("s1", **stroke())})
    store = meeting.server.app[STORE]
    before = len(await store.read(meeting.id))
    for payload, code in [({"update": b"\x00\xff\x13garbage"}, "board_update_invalid"),
                          ({"update": b"\x01" * (70 * 1024)}, "invalid_payload"),
                          ({"update": "not bytes"}, "invalid_payload"),
                          ({"update": mine.add("s2", **stroke()), "room": "elsewhere"},
                           "invalid_payload")]:
        answer = await anna.call("board.update", payload)
        assert answer["ok"] is False, payload
        assert answer["error"]["code"] in (code, "board_update_too_large"), answer
    assert len(await store.read(meeting.id)) == before
    fetched = await bo.ok("board.fetch", {"room": "plenary"})
    copy = Replica()
    copy.apply(fetched["update"])
    assert copy.ids() == {"s1"}
    assert anna.sio.connected
    cleared = await bo.call("board.clear", {"room": "plenary"})
    assert cleared["error"]["code"] == "forbidden"


async def test_a_facilitator_clears_a_board_for_everyone(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    anna = await meeting.participant("Anna")
    mine = Replica()
    for i in range(2):
        await anna.ok("board.update", {"update": mine.add(f"s{i}", **stroke())})
    await fia.ok("board.clear", {"room": "plenary"})
    got = await anna.inbox.wait("event", lambda e: e["type"] == "board.updated"
                                and e["data"].get("origin") == "clear")
    mine.apply(got["data"]["update"])
    assert mine.ids() == set()
    fetched = await anna.ok("board.fetch", {"room": "plenary"})
    copy = Replica()
    copy.apply(fetched["update"])
    assert copy.ids() == set()


async def test_element_cap_and_size_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = await start_server(tmp_path / "d", board_max_elements=3,
                                board_max_update_bytes=2048)
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        mine = Replica()
        for i in range(3):
            await anna.ok("board.update", {"update": mine.add(f"s{i}", **stroke())})
        full = await anna.call("board.update", {"update": mine.add("s3", **stroke())})
        assert full["error"]["code"] == "board_full"
        big = Replica().add("big", type="text", x=0, y=0, w=10, h=10, text="x" * 4000,
                            color="#000000", width=1, author="a", z=1)
        too_big = await anna.call("board.update", {"update": big})
        assert too_big["error"]["code"] == "board_update_too_large"
    finally:
        await server.stop()


async def test_board_survives_a_restart_and_replays_to_any_moment(tmp_path, serializer) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    first = await start_server(data, serializer)
    m = await first.new_meeting()
    anna = await m.participant()
    mine = Replica()
    first_seq = (await anna.ok("board.update", {"update": mine.add("a", **stroke())}))["seq"]
    await anna.ok("board.update", {"update": mine.add("b", **stroke("#2563eb"))})
    await first.stop()
    second = await start_server(data, serializer, port=first.port)
    try:
        again = second.client(m.tokens["participant"], resume=anna.resume_token)
        await again.connect()
        await again.ok("join", {})
        state = await again.inbox.wait("board.state")
        copy = Replica()
        copy.apply(state["update"])
        assert copy.ids() == {"a", "b"}
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            url = f"{second.url}/api/meetings/{m.id}/boards/plenary.svg"
            async with http.get(url, params={"seq": str(first_seq)}) as resp:
                then = await resp.text()
            async with http.get(url) as resp:
                now = await resp.text()
            assert "#e11d48" in then and "#2563eb" not in then
            assert "#2563eb" in now
            async with http.get(f"{second.url}/api/meetings/{m.id}/log") as resp:
                log = await resp.json()
            types = [e["type"] for e in log["events"]]
            assert types.count("board.updated") == 2 and log["seq"] == len(types)
    finally:
        await second.stop()


async def test_review_state_at_any_moment(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = [await meeting.participant(f"P{i}", m) for i, m in enumerate(["Vasa", "Esbo"])]
    await fia.ok("round.preview", {"group_count": 2})
    opened = (await fia.ok("round.open"))["seq"]
    await fia.ok("round.close")
    status, during = await meeting.server.api("GET", f"/api/meetings/{meeting.id}/state"
                                              f"?seq={opened}")
    assert status == 200 and during["round"]["phase"] == "open"
    rooms = {p["id"]: p["room"] for p in during["participants"]}
    assert all(rooms[c.participant] != "plenary" for c in people)
    status, now = await meeting.server.api("GET", f"/api/meetings/{meeting.id}/state")
    assert now["round"]["phase"] == "closed"
    assert all(p["room"] == "plenary" for p in now["participants"])
