"""Review: a scripted session with real clients, replayed after a restart; access;
exports; the summary."""

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import msgpack  # type: ignore[import-untyped]
import msgspec

from server.keys import HUB
from tests.functional.test_boards_functional import Replica, stroke
from tests.organisers import Organiser, make_organiser
from tests.support import ADMIN_TOKEN, RunningServer, start_server

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def get(server: RunningServer, path: str, headers: dict[str, str] | None = None,
              ) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(server.url + path,
                                                         headers=headers) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.read()


async def test_review_after_restart_equals_what_clients_saw_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = await start_server(data)  # Bo's reconnect is well within the debounce
    m = await first.new_meeting()
    fia = await m.facilitator()
    anna = await m.participant("Anna", "Vasa")
    bo = await m.participant("Bo", "Esbo")
    cilla = await m.participant("Cilla", "Borgå")
    dan = await m.participant("Dan", "Åbo")
    await anna.ok("chat", {"text": "god morgon alla"})
    await dan.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    # Round 1: two groups, a chat and a drawing in Anna's group.
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 600,
                                   "prompt": "Vad är en bra dag?"})
    r1 = (await fia.ok("round.open"))["seq"]
    where = {}
    for c in (anna, bo, cilla, dan):
        opened = await c.inbox.wait("event", lambda e: e["type"] == "round.opened")
        where[c.participant] = opened["data"]["moves"][c.participant]
    mates = [c for c in (bo, cilla, dan) if where[c.participant] == where[anna.participant]]
    said = (await anna.ok("chat", {"text": "i gruppen: hej"}))["seq"]
    for c in mates:
        await c.inbox.wait("event", lambda e: e["data"].get("text") == "i gruppen: hej")
    board = Replica()
    drawn = (await anna.ok("board.update", {"update": board.add("s1", **stroke("#e11d48"))}))
    # A reconnect during the round.
    await bo.close()
    bo2 = first.client(m.tokens["participant"], meeting=m.id, resume=bo.resume_token)
    await bo2.connect()
    await bo2.ok("join", {})
    moment_in_round = drawn["seq"]
    live_chat = [e["data"]["text"] for e in anna.inbox.events("chat.sent")
                 if e["seq"] <= moment_in_round and e["data"]["room"] == where[anna.participant]]
    await anna.ok("board.update", {"update": board.add("s2", **stroke("#2563eb"))})
    await fia.ok("round.close")
    await anna.inbox.wait("event", lambda e: e["type"] == "round.closed")
    # Round 2.
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 300})
    r2 = (await fia.ok("round.open"))["seq"]
    opened2 = await anna.inbox.wait("event", lambda e: e["type"] == "round.opened"
                                    and e["seq"] == r2)
    await fia.ok("round.close")
    await first.stop()

    second = await start_server(data, port=first.port)
    try:
        for seq, expect in ((r1, where), (r2, opened2["data"]["moves"])):
            status, view = await get(second, f"/review/{m.id}/state.json?seq={seq}", ADMIN)
            assert status == 200, view
            rooms = {p["id"]: r["id"] for r in view["rooms"] for p in r["members"]}
            for pid, room in expect.items():
                assert rooms[pid] == room
            assert view["round"]["phase"] == "open" and view["clock"]["remaining_ms"] > 0
        status, view = await get(second, f"/review/{m.id}/state.json?seq={moment_in_round}",
                                 ADMIN)
        group = next(r for r in view["rooms"] if r["id"] == where[anna.participant])
        assert [c["text"] for c in group["chat"]] == live_chat == ["i gruppen: hej"]
        plenary = next(r for r in view["rooms"] if r["id"] == "plenary")
        assert [c["text"] for c in plenary["chat"]] == ["god morgon alla"]
        members = {p["id"] for r in view["rooms"] for p in r["members"]}
        assert members == set(where) | {fia.participant}
        assert set(view["online"]) == members  # Bo came back within the debounce
        status, svg = await get(second, f"/review/{m.id}/boards/{group['id']}.svg"
                                f"?seq={moment_in_round}", ADMIN)
        assert status == 200 and b"#e11d48" in svg and b"#2563eb" not in svg
        # Chat just before Anna spoke in the group: not there yet.
        status, before = await get(second, f"/review/{m.id}/state.json?seq={said - 1}", ADMIN)
        group = next(r for r in before["rooms"] if r["id"] == where[anna.participant])
        assert group["chat"] == []
        # The player page renders the same moment server-side.
        status, html = await get(second, f"/review/{m.id}?seq={moment_in_round}", ADMIN)
        assert status == 200 and b"i gruppen: hej" in html and b"Anna" in html
    finally:
        await second.stop()


async def test_review_access_and_bad_input(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        anna = await m.participant("Anna")
        await anna.ok("chat", {"text": "hemligt"})
        base = f"/review/{m.id}"
        for path in ("", "/state.json", "/events.json", "/timeline.jsonl", "/timeline.msgpack",
                     "/summary", "/summary.csv", "/boards/plenary.svg", "/boards/plenary.ybin",
                     "/moment", "/next.json?kind=chat"):
            status, body = await get(server, base + path)
            assert status == 401, path
            assert b"hemligt" not in msgspec.json.encode(body) if isinstance(body, dict) \
                else b"hemligt" not in body
            status, _ = await get(server, base + path + ("&" if "?" in path else "?")
                                  + f"key={anna.resume_token}")
            assert status == 403, path
        status, _ = await get(server, "/review/nosuchmeeting/state.json")
        assert status == 401  # nothing disclosed, not even whether it exists
        status, body = await get(server, "/review/nosuchmeeting/state.json", ADMIN)
        assert status == 404 and body["error"]["code"] == "meeting_not_found"
        status, body = await get(server, f"{base}/state.json?key={fia.resume_token}")
        assert status == 200 and body["rooms"][0]["chat"][0]["text"] == "hemligt"
        for bad in ("seq=0", "seq=999999", "seq=x", "at=5", "at=abc"):
            status, body = await get(server, f"{base}/state.json?{bad}", ADMIN)
            assert status == 400 and body["error"]["code"] == "moment_outside", bad
        for board in ("plenary.svg", "plenary.ybin"):
            for bad in ("seq=0", "seq=999999", "seq=x"):
                status, body = await get(server, f"{base}/boards/{board}?{bad}", ADMIN)
                assert status == 400 and body["error"]["code"] == "moment_outside", (board, bad)
        for board in ("nowhere.svg", "nowhere.ybin"):
            status, body = await get(server, f"{base}/boards/{board}", ADMIN)
            assert status == 404 and body["error"]["code"] == "unknown_room", board
        for bad in ("types=chat,nope", "limit=0", "after=-1"):
            status, body = await get(server, f"{base}/events.json?{bad}", ADMIN)
            assert status == 400 and body["error"]["code"] == "invalid_filter", bad
        status, body = await get(server, f"{base}/next.json?kind=dance", ADMIN)
        assert status == 400
        status, body = await get(server, f"{base}/events.json?types=chat", ADMIN)
        assert [e["text"] for e in body["events"]] == ["hemligt"]
        await make_organiser(server)
        async with Organiser(server) as ulla:
            await ulla.sign_in()
            page = await ulla.get(base)
            assert "hemligt" in page and 'id="scrub"' in page
    finally:
        await server.stop()


async def test_exports_are_streamed_versioned_and_complete(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    try:
        m = await server.new_meeting()
        anna = await m.participant("Anna")
        board = Replica()
        for i in range(30):
            await anna.ok("chat", {"text": f"rad {i}"})
        await anna.ok("board.update", {"update": board.add("s1", **stroke())})
        status, log = await server.api("GET", f"/api/meetings/{m.id}/log")
        status, raw = await get(server, f"/review/{m.id}/timeline.jsonl", ADMIN)
        assert status == 200
        lines = raw.decode().splitlines()
        header = msgspec.json.decode(lines[0])
        assert header["format"] == "ledarstig-timeline" and header["version"] == 1
        events = [msgspec.json.decode(x) for x in lines[1:]]
        assert [e["seq"] for e in events] == list(range(1, log["seq"] + 1))
        assert header["events"] == log["seq"]
        status, raw = await get(server, f"/review/{m.id}/timeline.msgpack", ADMIN)
        decoded = list(msgpack.Unpacker(io.BytesIO(raw), raw=False))  # a stream of maps
        assert decoded[0]["version"] == 1
        assert [e["seq"] for e in decoded[1:]] == [e["seq"] for e in events]
        update = next(e for e in decoded[1:] if e["type"] == "board.updated")["data"]["update"]
        assert isinstance(update, bytes)
        status, raw = await get(server, f"/review/{m.id}/summary.csv", ADMIN)
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        assert rows[0]["name"] == "Anna" and rows[0]["chat_messages"] == "30"
        status, raw = await get(server, f"/review/{m.id}/summary?print=1", ADMIN)
        assert status == 200 and b"Anna" in raw
    finally:
        await server.stop()


async def test_summary_counts_help_hands_encounters_and_attendance(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        anna = await m.participant("Anna", "Vasa")
        bo = await m.participant("Bo", "Esbo")
        await anna.ok("hand.raise")
        await fia.ok("round.preview", {"group_count": 1, "prompt": "Vad lär vi oss?"})
        await fia.ok("round.open")
        await anna.inbox.wait("event", lambda e: e["type"] == "round.opened")
        await anna.ok("help.request")
        await fia.ok("help.answer", {"participant": anna.participant})
        await fia.ok("round.close")
        await server.advance(90)  # a minute and a half in the meeting
        await server.api("POST", f"/api/meetings/{m.id}/end")
        status, raw = await get(server, f"/review/{m.id}/summary.csv", ADMIN)
        rows = {r["name"]: r for r in csv.DictReader(io.StringIO(raw.decode()))}
        assert rows["Anna"]["hands"] == "1" and rows["Bo"]["hands"] == "0"
        assert rows["Anna"]["new_colleagues"] == "Bo" and rows["Bo"]["new_colleagues"] == "Anna"
        assert rows["Anna"]["new_municipalities"] == "Esbo"
        ended = server.app[HUB].get(m.id).state
        assert ended.online == {} and ended.attended_ms[anna.participant] == 90_000  # join → end
        assert rows["Anna"]["minutes"] == str(round(
            ended.attended_ms[anna.participant] / 60000, 1))
        status, page = await get(server, f"/review/{m.id}/summary", ADMIN)
        text = page.decode()
        assert "Vad lär vi oss?" in text and "Anna, Bo" in text
        assert "Hjälpbegäran" in text and "obesvarad" not in text
        del bo
    finally:
        await server.stop()
