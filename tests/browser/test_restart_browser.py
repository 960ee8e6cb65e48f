"""A server restart (SIGTERM, then the same port and data again) as a person sees it:
a calm notice, then the meeting goes on by itself, no error screen."""

import signal
from pathlib import Path

from playwright.async_api import expect

from tests.browser.helpers import join
from tests.functional.test_operations_functional import free_port
from tests.functional.test_restart_functional import rest, serve


async def test_the_page_resumes_by_itself_after_a_restart(tmp_path: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    port, data = free_port(), tmp_path / "d"
    proc = await serve(data, port)
    try:
        meeting = (await rest(port, "POST", "/api/meetings", {
            "title": "Omstart", "starts_at": "2026-12-01T09:00:00Z"}))["id"]
        token = (await rest(port, "POST", f"/api/meetings/{meeting}/invites"))["participant"]
        page = await open_page(f"http://127.0.0.1:{port}/m/{meeting}?t={token['token']}")
        await join(page, "Anna Berg", "Borgå")
        me = await page.evaluate("window.ledarstig.store.me")
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        status = page.locator(".conn-status")
        await expect(status).to_have_text("Servern startar om – du är strax tillbaka …")
        proc = await serve(data, port)
        await expect(status).to_have_text("", timeout=8000)
        await expect(page.locator(".meeting")).to_be_visible()
        assert await page.evaluate("window.ledarstig.store.me") == me
        await page.get_by_role("tab", name="Chatt").click()
        await page.get_by_role("textbox", name="Meddelande").fill("Tillbaka efter omstarten")
        await page.get_by_role("button", name="Skicka").click()
        await expect(page.locator(".chat-text")).to_have_text("Tillbaka efter omstarten")
        log = await rest(port, "GET", f"/api/meetings/{meeting}/log")
        chats = [e for e in log["events"] if e["type"] == "chat.sent"]
        assert [(e["actor"], e["data"]["text"]) for e in chats] == [
            (me, "Tillbaka efter omstarten")]
        joins = [e for e in log["events"] if e["type"] == "participant.joined"]
        assert len(joins) == 1  # resumed, not joined again
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
