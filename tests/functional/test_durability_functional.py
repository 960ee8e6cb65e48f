"""Operations when the disk or the process goes away: health, review API edges."""

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.disks import fill
from tests.support import ADMIN_TOKEN, start_server


async def test_healthz_is_503_while_the_disk_is_full(small_disk: Path) -> None:
    server = await start_server(small_disk / "data")
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        await anna.ok("chat", {"text": "före"})
        assert (await server.api("GET", "/healthz", token=None))[0] == 200
        fill(small_disk / "filler")
        # A chat is taken while its record fits the journal's last page (already on the
        # disk); the first that needs a page more is refused, and nothing after it.
        taken = []
        for n in range(200):
            answer = await anna.call("chat", {"text": f"under {n}"})
            if "error" in answer:
                break
            taken.append(f"under {n}")
        assert answer["error"]["code"] == "store_unavailable", answer
        status, body = await server.api("GET", "/healthz", token=None)
        assert status == 503 and body["status"] == "failing"
        (small_disk / "filler").unlink()
        status, body = await server.api("GET", "/healthz", token=None)
        assert status == 200 and body["status"] == "ok"
        await anna.ok("chat", {"text": "efter"})
        status, log = await server.api("GET", f"/api/meetings/{m.id}/log?limit=1000")
        chats = [e["data"]["text"] for e in log["events"] if e["type"] == "chat.sent"]
        assert chats == ["före", *taken, "efter"]
    finally:
        await server.stop()


async def test_rest_edge_cases_get_a_4xx_with_the_error_body(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "d")
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        await anna.ok("chat", {"text": "hej"})
        async with aiohttp.ClientSession() as http:
            for path, headers, status in [
                    ("/api/meetings", {"Authorization": ADMIN_TOKEN}, 401),
                    ("/api/meetings", {"Authorization": f"Basic {ADMIN_TOKEN}"}, 401),
                    (f"/api/meetings/{m.id}/state?seq=%C2%B2", None, 400),
                    (f"/api/meetings/{m.id}/state?seq=-1", None, 400),
                    (f"/api/meetings/{m.id}/log?limit=-1", None, 400),
                    (f"/api/meetings/{m.id}/log?after=%EF%BC%91", None, 400),
                    (f"/api/meetings/{m.id}/boards/plenary.svg?seq=%C2%B2", None, 400)]:
                async with http.get(server.url + path, headers=headers or {
                        "Authorization": f"Bearer {ADMIN_TOKEN}"}) as resp:
                    body = await resp.json()
                    assert resp.status == status, (path, body)
                    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
        status, log = await server.api("GET", f"/api/meetings/{m.id}/log?limit=0")
        assert status == 200 and log["events"] == []
        status, log = await server.api("GET", f"/api/meetings/{m.id}/log")
        assert [e["seq"] for e in log["events"]] == list(range(1, log["seq"] + 1))
    finally:
        await server.stop()


async def test_an_overlong_request_line_gets_the_error_body_and_logs_no_token(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    server = await start_server(tmp_path / "d")
    secret = "invite-token-that-must-stay-secret"
    try:
        with caplog.at_level(logging.DEBUG):
            for request in (f"GET /m/abc?t={secret}{'A' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
                            f"GET /api/meetings HTTP/1.1\r\nHost: x\r\n"
                            f"Authorization: Bearer {secret}{'A' * 9000}\r\n\r\n"):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(request.encode())
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 5)
                writer.close()
                assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
                head, _, body = answer.partition(b"\r\n\r\n")
                assert b"application/json" in head, head
                assert json.loads(body)["error"]["code"] == "invalid_request", body
                assert secret[:10].encode() not in answer  # nothing of the line comes back
        lines = [caplog_text(r) for r in caplog.records]
        assert not any(secret[:10] in line for line in lines), lines
        assert any("unparsable HTTP request" in line for line in lines)
    finally:
        await server.stop()


def caplog_text(record: logging.LogRecord) -> str:
    formatter = logging.Formatter()
    return formatter.format(record) + str(record.exc_info or "")


async def test_home_page_shows_nothing_private(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "d")
    try:
        meeting = await server.create_meeting("Hemlig ledningsgrupp")
        for token in (None, "wrong", ADMIN_TOKEN):
            status, page = await server.api("GET", "/", token=token)
            assert status == 200
            assert "Hemlig ledningsgrupp" not in page and meeting not in page, token
            assert "personliga länk" in page, token
    finally:
        await server.stop()
