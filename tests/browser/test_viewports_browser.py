"""A scripted programme day at three screen sizes: a facilitator and 8 participants
(Chromium pages and Socket.IO clients). In every state people meet (join, plenary,
breakout, closing, console, gallery): no horizontal scrolling, every control on screen
and reachable by keyboard, and axe finds nothing critical or serious (WCAG 2.1 AA).
Screenshots of each state are kept in artifacts/screenshots/."""

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import axe_violations, describe, join
from tests.support import Client, Meeting

pytestmark = [pytest.mark.browser, pytest.mark.webrtc]


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Several pages, a server and socket clients share two busy cores: wait longer."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)

MUNIS = ["Raseborg", "Pargas", "Vasa", "Kimitoön", "Lovisa", "Esbo", "Kristinestad"]

# Every visible control: inside the viewport's width and in the tab order.
CONTROLS = """() => {
  const vw = document.documentElement.clientWidth
  const what = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ` +
    `"${(el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30)}"`
  const bad = []
  const all = 'button, a[href], input, select, textarea, summary, [tabindex], ' +
    '.room-badge, .countdown, .meeting-title'
  for (const el of document.querySelectorAll(all)) {
    if (el.closest('.board-layer, .visually-hidden') || el.disabled) continue
    const r = el.getBoundingClientRect()
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue
    if (r.left < -1 || r.right > vw + 1) {
      bad.push(`${what(el)} is off-screen (${Math.round(r.left)}..${Math.round(r.right)})`)
    }
    if (el.tabIndex < 0 && !el.closest('[role=tablist]') && !el.matches('span')) {
      bad.push(`${what(el)} cannot be reached by keyboard`)
    }
  }
  return {width: vw, scroll: document.documentElement.scrollWidth, bad}
}"""


async def check(page: Page, size: str, state: str) -> None:
    found = await page.evaluate(CONTROLS)
    assert found["scroll"] <= found["width"], (state, found)
    assert found["bad"] == [], (state, found["bad"])
    violations = await axe_violations(page)
    assert violations == [], (state, describe(violations))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"day-{size}-{state}.png"))


async def in_room(page: Page, badge: str) -> None:
    await expect(page.locator(".room-badge")).to_have_text(badge)


@pytest.mark.parametrize("width,height,heavy", [(1440, 900, True), (768, 1024, False),
                                                 (320, 640, False)],
                         ids=["1440x900", "768x1024", "320x640"])
async def test_programme_day(width: int, height: int, heavy: bool,  # type: ignore[no-untyped-def]
                             links, new_context, meeting_of) -> None:
    size = f"{width}x{height}"

    async def page_for(url: str) -> Page:
        ctx = await new_context()
        page = await ctx.new_page()
        await page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(15_000)
        await page.goto(url)
        return page

    fia = await page_for(links["facilitator"])
    await expect(fia.locator(".join-role")).to_be_visible()
    await check(fia, size, "join")
    if width < 400:  # the accessibility statement the join page links to
        href = await fia.get_by_role("link", name="Tillgänglighetsutlåtande").get_attribute("href")
        statement = await fia.context.new_page()
        await statement.goto(urljoin(fia.url, href or ""))
        await expect(statement.get_by_role("heading", level=1)).to_have_text(
            "Tillgänglighetsutlåtande")
        await check(statement, size, "statement")
        await statement.close()
    await join(fia, "Fia Handledare", "Helsingfors")
    pages = [await page_for(links["participant"]) for _ in range(2 if heavy else 1)]
    for page, name in zip(pages, ["Anna Berg", "Bo Lind"], strict=False):
        await join(page, name, "Borgå" if name == "Anna Berg" else "Vasa")
    anna = pages[0]
    meeting: Meeting = await meeting_of(links)
    clients: list[Client] = [await meeting.participant(f"Deltagare {i + 1}", MUNIS[i])
                             for i in range(8 - len(pages) if heavy else 2)]
    await expect(anna.locator(".people-count")).to_contain_text(
        f"{1 + len(pages) + len(clients)} deltagare")

    # Plenary: chat and a raised hand.
    await anna.get_by_role("tab", name="Chatt").click()
    await anna.get_by_label("Meddelande", exact=True).fill("God morgon!")
    await anna.get_by_role("button", name="Skicka", exact=True).click()
    await anna.get_by_role("button", name="Räck upp handen").click()
    await expect(fia.locator(".hand-queue li")).to_have_count(1)
    await check(anna, size, "plenary")

    # The console (beside the videos on a wide screen).
    await fia.get_by_role("tab", name="Handledning").click()
    if width >= 1200:
        await expect(fia.locator(".video-grid")).to_be_visible()
    await fia.get_by_label("Antal", exact=True).fill("3" if heavy else "2")
    await fia.get_by_label("Tid (minuter)").fill("5")
    await fia.get_by_label("Nedräkning tillbaka till plenum (sekunder)").fill("3")
    await fia.get_by_label("Uppgift till grupperna").fill("Vad gör en bra arbetsdag för ert team?")
    if heavy:
        await fia.get_by_label("Deltagarna får byta grupp och gå tillbaka till plenum").check()
    await check(fia, size, "console")
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await fia.get_by_role("button", name="Öppna grupperna").click()
    await expect(anna.locator(".banner .prompt")).to_contain_text("Vad gör en bra arbetsdag")
    await expect(fia.locator(".hand-queue li")).to_have_count(0)  # the plenary's hands wait
    groups = await anna.evaluate("window.ledarstig.store.round.groups")
    me = await anna.evaluate("window.ledarstig.store.me")
    mine = next(i for i, g in enumerate(groups) if me in g)
    await in_room(anna, f"Grupp {mine + 1}")
    await expect(fia.locator(".group.live, .groups.live .group").first).to_be_visible()
    await check(fia, size, "console-live")

    if heavy:
        # The facilitator moves Bo into Anna's group, and writes to that group only.
        bo = pages[1]
        bo_id = await bo.evaluate("window.ledarstig.store.me")
        if bo_id not in groups[mine]:
            await fia.get_by_label("Grupp för Bo Lind").select_option(str(mine))
        await in_room(bo, f"Grupp {mine + 1}")
        await fia.get_by_label("Meddelande till en grupp").select_option(str(mine))
        await fia.get_by_label("Meddelandets text").fill("Dags att sammanfatta")
        await fia.get_by_role("button", name="Skicka till gruppen").click()
        await expect(anna.locator(".banner .broadcast")).to_contain_text("Dags att sammanfatta")
        await bo.get_by_role("button", name="Be om hjälp").click()
        await expect(fia.locator(".group.needs-help")).to_have_count(1)
        # The round lets people move: Anna goes back to the plenary and returns.
        await anna.locator(".banner").get_by_role("button", name="Tillbaka till plenum").click()
        await in_room(anna, "Plenum")
        await anna.get_by_role("button", name=f"Gå till grupp {mine + 1}").click()
        await in_room(anna, f"Grupp {mine + 1}")
    await anna.get_by_role("tab", name="Chatt").click()
    await anna.get_by_label("Meddelande", exact=True).fill("Hej gruppen")
    await anna.get_by_role("button", name="Skicka", exact=True).click()
    await check(anna, size, "breakout")
    if width < 400:  # a common phone as well
        await anna.set_viewport_size({"width": 390, "height": 844})
        await check(anna, "390x844", "breakout")
        await anna.set_viewport_size({"width": width, "height": height})

    # Closing early with the countdown: the banner counts down, then everyone is back.
    await fia.get_by_role("button", name=re.compile("^Stäng med nedräkning")).click()
    await expect(anna.locator(".banner .timer-label")).to_have_text("Tillbaka till plenum om")
    await check(anna, size, "closing")
    await meeting.server.advance(3)  # the three seconds of countdown, without waiting them
    await in_room(anna, "Plenum")
    for c in clients:
        await c.inbox.wait("event", lambda e: e["type"] == "round.closed")

    # Afterwards: the gallery of boards, your own group's to download.
    await expect(anna.get_by_role("link", name="Ladda ner er grupps tavla (PNG)")).to_be_visible()
    await expect(anna.locator(".chat-log")).to_contain_text("God morgon!")
    await check(anna, size, "gallery")
    await expect(fia.get_by_role("heading", name="Gruppernas tavlor")).to_be_visible()
    await fia.get_by_role("button", name=re.compile("^Återställ handkön")).first.click()
    await expect(fia.locator(".hand-queue li")).to_have_text(re.compile("Anna Berg"))
    await check(fia, size, "console-gallery")
    if heavy:  # the console in Finnish and English, for the facilitators' guide
        for code, label in (("fi", "Språk"), ("en", "Kieli")):
            await fia.get_by_label(label).select_option(code)
            await expect(fia.locator(".view-tabs [aria-selected=true]")).not_to_have_text(
                "Handledning")
            await fia.screenshot(path=str(SCREENSHOTS / f"day-{size}-console-gallery-{code}.png"))
