"""The browser client where WebSockets are blocked, and when it idles before joining."""

import pytest
from playwright.async_api import expect

from server.keys import HUB
from tests.browser.conftest import real_time
from tests.browser.helpers import join
from tests.support import start_server

pytestmark = pytest.mark.browser


async def test_page_falls_back_to_long_polling_when_websockets_are_blocked(  # type: ignore[no-untyped-def]
        links, new_context, meeting_of) -> None:
    ctx = await new_context()
    # As behind a firewall that refuses WebSockets: every WebSocket the page opens goes to
    # a closed loopback port instead, and fails as a refused upgrade does (error, 1006).
    await ctx.add_init_script("""(() => {
      const Real = window.WebSocket
      window.wsTried = []
      window.WebSocket = class extends Real {
        constructor(url, protocols) {
          window.wsTried.push(String(url))
          super(String(url).replace(/^(wss?:[/][/])[^/]+/, '$1127.0.0.1:9'), protocols)
        }
      }
    })()""")
    page = await ctx.new_page()
    page.set_default_timeout(10000)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/socket.io/" in r.url else None)
    await page.goto(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    assert await page.evaluate("window.wsTried.length"), "the page never tried a WebSocket"
    # every request names the meeting, for nginx's routing by meeting (docs/deploy.md)
    meeting_id = links["meeting"]
    tried = await page.evaluate("window.wsTried")
    assert polls and all(f"meeting={meeting_id}" in u for u in [*polls, *tried]), (polls, tried)
    assert await page.evaluate("window.ledarstig.conn.socket.io.engine.transport.name") == \
        "polling"
    bo = await (await meeting_of(links)).participant("Bo Lind", "Vasa")
    await expect(page.locator(".person")).to_have_count(2)
    await page.get_by_role("tab", name="Chatt").click()
    await page.get_by_role("textbox", name="Meddelande").fill("Hej via polling")
    await page.get_by_role("button", name="Skicka").click()
    got = await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    assert got["data"]["text"] == "Hej via polling"
    await bo.ok("chat", {"text": "Svar till dig"})
    await expect(page.locator(".chat-text", has_text="Svar till dig")).to_be_visible()


async def test_join_form_left_open_past_the_join_timeout_still_joins(  # type: ignore[no-untyped-def]
        tmp_path, open_page) -> None:
    server = await start_server(tmp_path / "d", "json", clock=real_time())
    try:
        m = await server.new_meeting()
        page = await open_page(f"{server.url}/m/{m.id}?t={m.tokens['participant']}")
        await expect(page.get_by_label("Ditt namn")).to_be_visible()
        await expect(page.locator(".join-meeting")).to_contain_text("Ledarstig 1")
        # The title came after the connection was admitted: its join timer is running.
        await server.advance(server.settings.limits.join_timeout_s)  # a quarter of an hour
        await page.wait_for_function("window.ledarstig.conn.idleClosed === true", timeout=5000)
        await page.wait_for_function("!window.ledarstig.conn.socket.connected")
        await join(page, "Anna Berg", "Borgå")
        await expect(page.locator(".person-name", has_text="Anna Berg")).to_be_visible()
        assert await page.evaluate("window.ledarstig.conn.socket.connected") is True
        people = server.app[HUB].get(m.id).state.meeting.participants.values()
        assert [p.name for p in people] == ["Anna Berg"]
    finally:
        await server.stop()
