"""Joining from an invitation link, and what the page says when the link or meeting is bad."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import real_time
from tests.browser.helpers import axe_violations, describe, join, poll
from tests.support import Meeting, start_server

pytestmark = pytest.mark.browser


async def test_join_page_then_meeting(links, open_page, shot) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await expect(page.get_by_role("heading", name="Välkommen till mötet")).to_be_visible()
    await expect(page.locator(".preview-video")).to_be_visible()
    await shot(page, "01-join")
    assert await axe_violations(page) == [], describe(await axe_violations(page))
    await join(page, "Anna Berg", "Borgå", "Bildningsdirektör")
    await expect(page.locator(".person-name", has_text="Anna Berg")).to_be_visible()
    await expect(page.locator(".room-badge")).to_have_text("Plenum")
    await shot(page, "02-meeting-alone")
    assert await axe_violations(page) == [], describe(await axe_violations(page))


async def test_the_page_takes_its_first_peer_plan_from_the_welcome(  # type: ignore[no-untyped-def]
        links, open_page) -> None:
    """A join's welcome carries the connection's first peer plan, and no `peers` message
    follows it: the page must take it from there (alone in the plenary: nobody to call,
    but the plan says where and how)."""
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    plan = await poll(lambda: page.evaluate("window.ledarstig.store.peers"), 5,
                      what="the first peer plan")
    assert plan["room"] == "plenary" and plan["mode"] == "mesh" and plan["peers"] == []
    assert plan["publish"] is True


async def test_forged_link_says_what_to_do(links, open_page, shot) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"].split("?t=")[0] + "?t=not-a-real-token")
    await expect(page.get_by_role("heading", name="Länken fungerar inte")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("be handledaren om en ny länk")
    await shot(page, "10-forged-link")
    await page.get_by_label("Språk").select_option("fi")
    await expect(page.get_by_role("heading", name="Linkki ei toimi")).to_be_visible()


async def test_link_without_token(links, open_page) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"].split("?t=")[0])
    await expect(page.get_by_role("heading", name="Länken är ofullständig")).to_be_visible()


async def test_expired_link(tmp_path, open_page) -> None:  # type: ignore[no-untyped-def]
    expired = await start_server(tmp_path / "expired", "json", clock=real_time())
    try:
        meeting = await expired.create_meeting()
        token = (await expired.invites(meeting))["participant"]
        await expired.advance(expired.settings.invite_ttl_s + 1)  # two weeks later
        page = await open_page(f"{expired.url}/m/{meeting}?t={token}&lang=en")
        await expect(page.get_by_role("heading", name="The link has expired")).to_be_visible()
        await expect(page.get_by_role("alert")).to_contain_text("Ask your facilitator")
    finally:
        await expired.stop()


async def test_meeting_that_has_ended(server, links, open_page, shot) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    status, _ = await server.api("POST", f"/api/meetings/{links['meeting']}/end")
    assert status == 200
    await expect(page.get_by_role("heading", name="Mötet har avslutats")).to_be_visible()
    await shot(page, "11-meeting-ended")
    later = await open_page(links["participant"])
    await expect(later.get_by_role("heading", name="Mötet har avslutats")).to_be_visible()


async def test_denied_camera_still_lets_you_join(links, new_context, shot) -> None:  # type: ignore[no-untyped-def]
    ctx = await new_context()
    await ctx.add_init_script("""
      navigator.mediaDevices.getUserMedia = async () => {
        throw new DOMException('Permission denied', 'NotAllowedError') }""")
    page = await ctx.new_page()
    page.set_default_timeout(8000)
    await page.goto(links["participant"])
    await expect(page.locator(".preview-status")).to_contain_text("blockerat kameran")
    await expect(page.get_by_role("button", name="Försök igen")).to_be_visible()
    await shot(page, "12-camera-denied")
    await join(page, "Bo Lind", "Vasa")
    await expect(page.locator(".tile.no-video .avatar")).to_have_text("BL")
    await expect(page.get_by_role("button", name="Slå på mikrofonen")).to_be_disabled()


async def test_invalid_name_is_explained(links, open_page) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await page.get_by_role("button", name="Gå med i mötet").click()
    await expect(page.get_by_role("alert")).to_have_text("Skriv ditt namn.")
    await expect(page.get_by_label("Ditt namn")).to_be_focused()
    await page.get_by_label("Ditt namn").fill("Anna")
    await page.get_by_label("Kommun", exact=True).fill("porvoo")
    await page.get_by_role("button", name="Gå med i mötet").click()
    await expect(page.locator(".person-details")).to_have_text("Borgå")


async def test_reload_keeps_your_place(links, open_page) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    before = await page.evaluate("window.ledarstig.store.me")
    await page.reload()
    await expect(page.locator(".meeting")).to_be_visible()
    assert await page.evaluate("window.ledarstig.store.me") == before
    await expect(page.locator(".person")).to_have_count(1)


async def test_dropped_connection_resumes_and_catches_up(links, open_page, meeting_of) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    me = await page.evaluate("window.ledarstig.store.me")
    bo = await (await meeting_of(links)).participant("Bo Lind", "Vasa")
    await expect(page.locator(".person")).to_have_count(2)
    # Drop the connection and keep it down for a moment.
    await page.evaluate("""() => {
      const io = window.ledarstig.conn.socket.io
      io.reconnectionDelay(1500); io.reconnectionDelayMax(1500)
      io.engine.close() }""")
    await expect(page.locator(".conn-status")).to_have_text("Anslutningen bröts – ansluter igen …")
    await bo.inbox.wait("presence", lambda d: d["participant"] == me and not d["online"])
    answer = await bo.call("chat", {"text": "Hann du se det här?"})
    assert answer["ok"], answer
    await expect(page.locator(".conn-status")).to_have_text("", timeout=8000)
    await page.get_by_role("tab", name="Chatt").click()
    await expect(page.locator(".chat-text")).to_have_text("Hann du se det här?")
    assert await page.evaluate("window.ledarstig.store.me") == me
    await page.get_by_role("tab", name="Deltagare").click()
    await expect(page.locator(".person")).to_have_count(2)
    assert [e for e in bo.inbox.events("participant.joined") if e["data"]["id"] == me][1:] == []


async def test_second_tab_takes_over(links, new_context, shot) -> None:  # type: ignore[no-untyped-def]
    ctx = await new_context()
    first = await ctx.new_page()
    first.set_default_timeout(8000)
    await first.goto(links["participant"])
    await join(first, "Anna Berg", "Borgå")
    saved = await first.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    second = await ctx.new_page()
    second.set_default_timeout(8000)
    await second.add_init_script(f"""
      for (const [k, v] of Object.entries({saved})) sessionStorage.setItem(k, v)""")
    await second.goto(links["participant"])
    await expect(second.locator(".meeting")).to_be_visible()
    replaced = first.get_by_role("heading", name="Mötet är öppet i en annan flik")
    await expect(replaced).to_be_visible()
    await shot(first, "13-replaced")
    assert await first.evaluate("window.ledarstig.conn.socket.connected") is False


async def test_msgpack_server(tmp_path, open_page) -> None:  # type: ignore[no-untyped-def]
    """A server started with --serializer msgpack tells the page, which then speaks it."""
    packed = await start_server(tmp_path / "packed", "msgpack", clock=real_time())
    try:
        meeting_id = await packed.create_meeting()
        tokens = await packed.invites(meeting_id)
        page = await open_page(f"{packed.url}/m/{meeting_id}?t={tokens['participant']}")
        await join(page, "Anna Berg", "Borgå")
        bo = await Meeting(packed, meeting_id, tokens).participant("Bo Lind", "Vasa")
        await page.get_by_role("tab", name="Chatt").click()
        await page.get_by_role("textbox", name="Meddelande").fill("Hej från webbläsaren")
        await page.get_by_role("button", name="Skicka").click()
        await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
        await page.get_by_role("button", name="Visa tavlan").click()
        await page.get_by_role("button", name="Lapp").click()
        box = await page.locator(".board-surface").bounding_box()
        assert box is not None
        await page.mouse.click(box["x"] + 200, box["y"] + 150)
        await page.get_by_label("Text på lappen").fill("Binärt")
        await page.get_by_label("Text på lappen").press("Escape")
        update = await bo.inbox.wait("event", lambda e: e["type"] == "board.updated")
        assert isinstance(update["data"]["update"], bytes)
    finally:
        await packed.stop()


async def test_a_resume_retry_from_before_a_drop_does_not_join_again(  # type: ignore[no-untyped-def]
        links, open_page) -> None:
    """The store refused a resume (``store_unavailable``) and the page waits a second to
    try again; meanwhile the connection drops and comes back, and the new connection's
    own resume joins. The retry from before the drop must not join a second time on
    it (a second welcome, board and peer plan, the page's state rebuilt while in use)."""
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    await page.evaluate("""() => {
      const conn = window.ledarstig.conn
      const request = conn.request.bind(conn)
      window.joins = 0
      let refuse = 1
      conn.request = (event, data, opts) => {
        if (event === 'join') {
          window.joins += 1
          if (refuse > 0) {  // the store is down for this one resume
            refuse -= 1
            return Promise.reject(Object.assign(new Error('store down'),
                                                { code: 'store_unavailable' }))
          }
        }
        return request(event, data, opts)
      }
      const io = conn.socket.io
      io.reconnectionDelay(100); io.reconnectionDelayMax(100)
      io.engine.close() }""")
    await expect(page.locator(".conn-status")).to_have_text(
        "Servern kan inte spara just nu – ansluter igen …", timeout=5000)
    assert await page.evaluate("window.joins") == 1  # refused; a retry is due in 1 s
    await page.evaluate("window.ledarstig.conn.socket.io.engine.close()")  # a drop meanwhile
    await expect(page.locator(".conn-status")).to_have_text("", timeout=5000)  # resumed
    await page.wait_for_timeout(1500)  # past the retry's second
    assert await page.evaluate("window.joins") == 2
    await expect(page.locator(".meeting")).to_be_visible()
