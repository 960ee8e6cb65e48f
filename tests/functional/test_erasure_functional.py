"""Forgetting: erase one participant so that nothing of them stays readable in the
data directory (WAL included) or in a new export; delete a recording."""

from pathlib import Path

import aiohttp

from tests.functional.test_boards_functional import Replica, stroke
from tests.support import ADMIN_TOKEN, RunningServer, start_server

TOKEN = "Qzvrwokkel"  # a unique name token
SECRET_CHAT = "hemligheten-om-Vasa-9731"
BOARD_TEXT = "lapp-text-5512"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def grep(data: Path, needle: str) -> list[str]:
    return [str(f) for f in data.rglob("*") if f.is_file()
            and needle.encode() in f.read_bytes()]


async def fetch(server: RunningServer, method: str, path: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.request(
            method, server.url + path, headers=ADMIN) as resp:
        return resp.status, await resp.read()


async def test_erased_participant_leaves_nothing_readable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = await start_server(data)
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        erased = await m.participant(f"Anna {TOKEN}", "Vasa", title=f"Rektor {TOKEN}")
        bo = await m.participant("Bo", "Esbo")
        await erased.ok("chat", {"text": SECRET_CHAT})
        await bo.ok("chat", {"text": "Bo stannar kvar"})
        mine = Replica()
        await erased.ok("board.update", {"update": mine.add(
            "n1", type="sticky", x=1, y=2, w=100, h=80, color="#fde68a",
            text=f"{BOARD_TEXT} {TOKEN}", author=TOKEN, z=1)})
        await erased.ok("board.update", {"update": mine.add("s1", **stroke())})
        await bo.ok("board.update", {"update": mine.add(
            "n2", type="text", x=5, y=5, w=50, h=20, text="Bos text", z=2)})
        status, before = await fetch(server, "GET",
                                     f"/api/meetings/{m.id}/participants/"
                                     f"{erased.participant}/data")
        assert status == 200 and TOKEN.encode() in before and SECRET_CHAT.encode() in before
        assert grep(data, TOKEN)  # the probe finds it before erasure
        # Erasing waits for the meeting's end; an unknown person changes nothing.
        status, body = await fetch(server, "POST", f"/api/meetings/{m.id}/participants/"
                                   f"{erased.participant}/erase")
        assert status == 409 and b"meeting_not_ended" in body
        status, _ = await fetch(server, "POST", f"/api/meetings/{m.id}/end")
        assert status == 200
        status, log_before = await fetch(server, "GET", f"/api/meetings/{m.id}/log")
        status, body = await fetch(server, "POST",
                                   f"/api/meetings/{m.id}/participants/nobody/erase")
        assert status == 404
        status, log_after = await fetch(server, "GET", f"/api/meetings/{m.id}/log")
        assert log_after == log_before
        status, body = await fetch(server, "POST", f"/api/meetings/{m.id}/participants/"
                                   f"{erased.participant}/erase")
        assert status == 200, body
        for needle in (TOKEN, SECRET_CHAT, BOARD_TEXT):
            assert grep(data, needle) == [], needle
        for path in (f"/review/{m.id}/timeline.jsonl", f"/review/{m.id}/timeline.msgpack",
                     f"/review/{m.id}/summary.csv", f"/review/{m.id}/boards/plenary.svg",
                     f"/review/{m.id}"):
            status, out = await fetch(server, "GET", path)
            assert status == 200 and TOKEN.encode() not in out, path
            assert SECRET_CHAT.encode() not in out and BOARD_TEXT.encode() not in out
        # The structure stays: Bo's chat and text, the erased person's stroke and note.
        status, svg = await fetch(server, "GET", f"/review/{m.id}/boards/plenary.svg")
        assert b">Bos<" in svg and b"#e11d48" in svg and b"#fde68a" in svg
        status, jsonl = await fetch(server, "GET", f"/review/{m.id}/timeline.jsonl")
        assert b"Bo stannar kvar" in jsonl and b"Deltagare " in jsonl
        assert fia.participant is not None
    finally:
        await server.stop()
    again = await start_server(data)  # a restart folds the rewritten log
    try:
        status, out = await fetch(again, "GET", f"/review/{m.id}/timeline.jsonl")
        assert status == 200 and TOKEN.encode() not in out
        assert grep(data, TOKEN) == []
    finally:
        await again.stop()


async def test_deleting_a_recording_keeps_the_pseudonymised_encounters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = await start_server(data)
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        a = await m.participant(f"Anna {TOKEN}", "Vasa")
        b = await m.participant("Bo", "Esbo")
        await a.ok("chat", {"text": SECRET_CHAT})
        await fia.ok("round.preview", {"group_count": 1, "prompt": "hemlig uppgift"})
        await fia.ok("round.open")
        await fia.ok("round.close")
        status, net_before = await server.api("GET", f"/api/meetings/{m.id}/network")
        await server.api("POST", f"/api/meetings/{m.id}/end")
        status, body = await fetch(server, "DELETE", f"/api/meetings/{m.id}/recording")
        assert status == 200, body
        for needle in (TOKEN, SECRET_CHAT, "hemlig uppgift"):
            assert grep(data, needle) == [], needle
        status, net = await server.api("GET", f"/api/meetings/{m.id}/network")
        assert [r["group_sizes"] for r in net["rounds"]] == \
            [r["group_sizes"] for r in net_before["rounds"]]
        met = {p["id"]: p["people_met"] for p in net["participants"]}
        assert met[a.participant] == met[b.participant] >= 1
    finally:
        await server.stop()


async def test_retention_deletes_recordings_then_the_meeting(tmp_path: Path) -> None:
    from server.keys import HUB
    from server.retention import DAY_MS, sweep

    data = tmp_path / "data"
    server = await start_server(data, retention_days=30)
    try:
        old = await server.new_meeting(cohort="")
        a = await old.participant(f"Anna {TOKEN}")
        await a.ok("chat", {"text": SECRET_CHAT})
        running = await server.new_meeting()
        cohort = await server.new_meeting(cohort="2026-A")
        b = await cohort.participant(f"Bo {TOKEN}")
        await b.ok("chat", {"text": SECRET_CHAT})
        await server.api("POST", f"/api/meetings/{old.id}/end")
        await server.api("POST", f"/api/meetings/{cohort.id}/end")
        now = server.app[HUB]._clock.now_ms()
        assert await sweep(server.app, now + 29 * DAY_MS) == {"stripped": [], "removed": []}
        assert grep(data, SECRET_CHAT)
        done = await sweep(server.app, now + 31 * DAY_MS)
        # Without a cohort nothing needs the encounters; a cohort's are kept, pseudonymised.
        assert done == {"stripped": [old.id, cohort.id], "removed": [old.id]}
        assert grep(data, SECRET_CHAT) == [] and grep(data, TOKEN) == []
        status, _ = await server.api("GET", f"/api/meetings/{old.id}")
        assert status == 404
        status, _ = await server.api("GET", f"/api/meetings/{running.id}")
        assert status == 200  # not ended: kept
        status, log = await server.api("GET", f"/api/meetings/{cohort.id}/log")
        assert [e["type"] for e in log["events"]][-1] == "recording.deleted"
        assert not any(e["type"] == "chat.sent" for e in log["events"])
    finally:
        await server.stop()
