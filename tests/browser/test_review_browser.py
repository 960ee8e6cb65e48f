"""Done-when for review: an organiser scrubs the player to a moment inside a round and
sees the room map, the chat and the board as they were then. Screenshots go to
artifacts/screenshots/."""


from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from server.keys import HUB
from tests.browser.helpers import axe_violations, describe, join
from tests.functional.test_boards_functional import Replica
from tests.organisers import PASSWORD, make_organiser
from tests.support import RunningServer

pytestmark = pytest.mark.browser


@pytest.mark.timeout(120)
async def test_scrub_to_a_moment_inside_a_round(server: RunningServer, new_context,  # type: ignore[no-untyped-def]
                                                shot) -> None:
    m = await server.new_meeting("Granskningsdag")
    fia = await m.facilitator()
    anna = await m.participant("Anna", "Vasa")
    bo = await m.participant("Bo", "Esbo")
    cia = await m.participant("Cia", "Åbo")
    dan = await m.participant("Dan", "Borgå")
    await anna.ok("chat", {"text": "god morgon"})
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 600, "prompt": "En bra dag"})
    await fia.ok("round.open")
    opened = await anna.inbox.wait("event", lambda e: e["type"] == "round.opened")
    room = opened["data"]["moves"][anna.participant]
    mates = {p for p, r in opened["data"]["moves"].items() if r == room}
    await anna.ok("chat", {"text": "i gruppen nu"})
    board = Replica()
    moment = (await anna.ok("board.update", {"update": board.add(
        "n1", type="sticky", x=10, y=10, w=160, h=90, color="#fde68a", text="Idé",
        author="Anna", z=1)}))["seq"]
    events = await server.app[HUB]._store.read(m.id)
    at = next(e.ts for e in events if e.seq == moment)
    await server.advance(0.02)  # a later millisecond: what follows is after the moment
    await anna.ok("chat", {"text": "efteråt"})
    await anna.ok("board.update", {"update": board.add(
        "n2", type="sticky", x=200, y=10, w=160, h=90, color="#bfdbfe", text="Senare",
        author="Anna", z=2)})
    await fia.ok("round.close")
    del bo, cia, dan

    await make_organiser(server)
    ctx = await new_context(bypass_csp=True)  # axe is injected as an inline script
    page = await ctx.new_page()
    page.set_default_timeout(10000)
    await page.goto(f"{server.url}/m/{m.id}?t={m.tokens['participant']}")
    await expect(page.locator(".join-recorded")).to_contain_text("tidslinje sparas")
    await page.goto(server.url)
    await page.get_by_label("Användarnamn").fill("ulla")
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await expect(page.get_by_role("heading", name="Program", exact=True)).to_be_visible()

    await page.goto(f"{server.url}/review/{m.id}")
    await expect(page.get_by_role("heading", name="Granskning: Granskningsdag")).to_be_visible()
    await page.get_by_label("Tidpunkt").fill(str(at))
    await page.get_by_label("Tidpunkt").dispatch_event("change")
    await expect(page.locator("#moment")).to_have_attribute("data-seq", str(moment))
    assert f"at={at}" in page.url
    group = page.locator(f'[data-room="{room}"]')
    for pid in mates:
        await expect(group.locator(f'[data-participant="{pid}"]')).to_be_visible()
    await expect(group).to_contain_text("Anna")
    chat = page.locator(f'[data-chat="{room}"]')
    await expect(chat).to_contain_text("i gruppen nu")
    await expect(chat).not_to_contain_text("efteråt")
    await expect(page.locator("[data-round]")).to_contain_text("Runda 1")
    img = page.locator(f'img[data-board="{room}"]')
    await expect(img).to_be_visible()
    svg = await (await page.request.get(server.url + (await img.get_attribute("src")))).text()
    assert "Idé" in svg and "Senare" not in svg
    await shot(page, "r01-review-moment")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    # The moment's URL opens the same moment for a colleague.
    await page.goto(page.url)
    await expect(page.locator(f'[data-chat="{room}"]')).to_contain_text("i gruppen nu")
    await expect(page.locator(f'[data-chat="{room}"]')).not_to_contain_text("efteråt")
    # Jump to the next chat message.
    await page.get_by_role("button", name="Nästa chattmeddelande").click()
    await expect(page.locator(f'[data-chat="{room}"]')).to_contain_text("efteråt")
    # The event list, filtered to chat.
    for name in ("rundor", "närvaro", "händer", "reaktioner", "tavlor", "media", "hjälp"):
        await page.get_by_label(name, exact=True).uncheck()
    await expect(page.locator("#events li")).to_have_count(3)
    await page.goto(f"{server.url}/review/{m.id}/summary")
    await expect(page.get_by_role("heading", name="Närvaro")).to_be_visible()
    await shot(page, "r02-review-summary")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)


@pytest.mark.timeout(120)
async def test_a_facilitator_opens_the_review_from_the_console(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of, server: RunningServer) -> None:
    meeting = await meeting_of(links)
    anna = await meeting.participant("Anna", "Vasa")
    await anna.ok("chat", {"text": "hej från Anna"})
    fia = await open_page(links["facilitator"])
    await join(fia, "Fia Handledare", "Helsingfors")
    await fia.get_by_role("tab", name="Handledning").click()
    link = fia.get_by_role("link", name="Granska mötets tidslinje")
    await link.focus()
    href = await link.get_attribute("href")
    assert href and "?key=" in href
    review = await open_page(server.url + href)
    await expect(review.locator('[data-chat="plenary"]')).to_contain_text("hej från Anna")
    # A participant's own key is refused.
    status = (await review.request.get(
        f"{server.url}/review/{meeting.id}/state.json?key={anna.resume_token}")).status
    assert status == 403


@pytest.mark.timeout(120)
async def test_play_advances_the_moment_at_the_chosen_speed(  # type: ignore[no-untyped-def]
        tmp_path, new_context, shot) -> None:
    """Play moves the moment on by the speed each second of the player's clock
    (Playwright's fake clock drives the player's timer: no waiting in real time)."""
    from bench.bench_review import MEETING, make_log
    from server.store import SQLiteStore
    from tests.support import ADMIN_TOKEN, start_server

    events = make_log(600)  # three hours: an event every ~18 s
    data = tmp_path / "data"
    async with SQLiteStore(data / "ledarstig.sqlite3") as store:
        await store.append(MEETING, events)
    server = await start_server(data)
    try:
        ctx = await new_context(extra_http_headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        page = await ctx.new_page()
        page.set_default_timeout(10000)
        await page.clock.install()
        start = events[100].ts
        await page.goto(f"{server.url}/review/{MEETING}?at={start}")
        moment = page.locator("#moment")
        await expect(moment).to_have_attribute("data-at", str(start))
        # The player's own time stands still (a datetime: a plain number would be seconds).
        await page.clock.pause_at(datetime(2030, 3, 17, tzinfo=UTC))
        await page.get_by_role("button", name="Spela").click()
        await expect(page.get_by_role("button", name="Paus")).to_be_visible()
        await page.clock.run_for(1000)  # one tick at 1×: one second of the session
        await expect(moment).to_have_attribute("data-at", str(start + 1000))
        await page.get_by_label("Hastighet").select_option("16")
        await page.clock.run_for(3000)  # three ticks at 16×
        await expect(moment).to_have_attribute("data-at", str(start + 1000 + 3 * 16_000))
        assert f"at={start + 1000 + 3 * 16_000}" in page.url
        later = start + 1000 + 3 * 16_000
        expected_seq = max(e.seq for e in events if e.ts <= later)
        await expect(moment).to_have_attribute("data-seq", str(expected_seq))
        await expect(page.locator("#scrub")).to_have_value(str(later))
        await shot(page, "r03-review-playing")
        # Pause: the clock runs on, the moment stays.
        await page.get_by_role("button", name="Paus").click()
        await page.clock.run_for(5000)
        await expect(moment).to_have_attribute("data-at", str(later))
    finally:
        await server.stop()
