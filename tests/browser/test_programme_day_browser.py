"""What broke on a whole programme day in the browser, each checked where people met it:
chat across a round, a second tab, the facilitator's own screen when showing a board,
errors after a language switch, the round form's own limits, the join page's meeting."""

from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import axe_violations, describe, join, poll
from tests.support import Client

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Several pages, a server and socket clients share two busy cores: wait longer."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


async def open_round(fia: Client, people: list[Client], **spec: object) -> None:
    assert (await fia.call("round.preview", {"group_count": 1, "duration_s": 600,
                                             **spec}))["ok"]
    assert (await fia.call("round.open"))["ok"]
    for c in people:
        await c.inbox.wait("event", lambda e: e["type"] == "round.opened")


async def send_chat(page: Page, text: str) -> None:
    await page.get_by_role("tab", name="Chatt").click()
    await page.get_by_label("Meddelande", exact=True).fill(text)
    await page.get_by_role("button", name="Skicka", exact=True).click()
    await expect(page.locator(".chat-log")).to_contain_text(text)


async def test_plenary_chat_is_kept_across_a_round(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of) -> None:
    meeting = await meeting_of(links)
    fia = await meeting.facilitator()
    cilla = await meeting.participant("Cilla Ek", "Raseborg")
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Borgå")
    await send_chat(anna, "Hej alla i plenum")
    await open_round(fia, [cilla])
    await expect(anna.locator(".room-badge")).to_have_text("Grupp 1")
    await expect(anna.locator(".chat-log")).not_to_contain_text("Hej alla i plenum")
    await send_chat(anna, "Hej gruppen")
    assert (await fia.call("chat", {"text": "Medan ni var i grupperna"}))["ok"]
    # The group's chat log is a list inside a log region (axe: no list-item errors).
    assert await axe_violations(anna) == [], describe(await axe_violations(anna))
    assert (await fia.call("round.close"))["ok"]
    await expect(anna.locator(".room-badge")).to_have_text("Plenum")
    await expect(anna.locator(".chat-log")).to_contain_text("Hej alla i plenum")
    await expect(anna.locator(".chat-log")).not_to_contain_text("Hej gruppen")
    # What was said in the plenary meanwhile is fetched on the way back, in order.
    await expect(anna.locator(".chat-text")).to_have_text(["Hej alla i plenum",
                                                           "Medan ni var i grupperna"])


async def test_unread_count_on_the_chat_tab(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of) -> None:
    meeting = await meeting_of(links)
    cilla = await meeting.participant("Cilla Ek", "Raseborg")
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Borgå")
    for text in ("ett", "två"):
        assert (await cilla.call("chat", {"text": text}))["ok"]
    tab = anna.get_by_role("tab", name="Chatt (2 olästa meddelanden)")
    await expect(tab).to_be_visible()
    await tab.click()
    await expect(anna.get_by_role("tab", name="Chatt", exact=True)).to_be_visible()
    await expect(anna.locator(".unread")).to_be_hidden()


@pytest.mark.webrtc  # two people's pages in one room connect their media
async def test_second_tab_continues_as_the_same_person_or_someone_else(  # type: ignore[no-untyped-def]
        links, new_context) -> None:
    ctx = await new_context()
    first = await ctx.new_page()
    await first.goto(links["participant"])
    await join(first, "Anna Berg", "Borgå")
    anna = await first.evaluate("window.ledarstig.store.me")
    second = await ctx.new_page()
    await second.goto(links["participant"])
    await expect(second.get_by_role("button", name="Fortsätt som Anna Berg")).to_be_visible()
    await expect(second.get_by_role("button", name="Jag är någon annan")).to_be_visible()
    assert await axe_violations(second) == [], describe(await axe_violations(second))
    await second.get_by_role("button", name="Fortsätt som Anna Berg").click()
    await expect(second.locator(".meeting")).to_be_visible()
    assert await second.evaluate("window.ledarstig.store.me") == anna
    # The newer tab takes over; the older one says so and stays quiet.
    replaced = first.get_by_role("heading", name="Mötet är öppet i en annan flik")
    await expect(replaced).to_be_visible()
    # Someone else sharing the computer and the link gets a form of their own.
    third = await ctx.new_page()
    await third.goto(links["participant"])
    await third.get_by_role("button", name="Jag är någon annan").click()
    await join(third, "Bo Lind", "Vasa")
    assert await third.evaluate("window.ledarstig.store.me") != anna
    assert await third.evaluate("window.ledarstig.store.participants.size") == 2


async def test_show_to_all_keeps_the_facilitators_console(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of) -> None:
    meeting = await meeting_of(links)
    people = [await meeting.participant(n, m) for n, m in (("Cilla Ek", "Raseborg"),
                                                          ("Dan Holm", "Pargas"))]
    fia = await open_page(links["facilitator"])
    await join(fia, "Fia Handledare", "Helsingfors")
    await fia.get_by_role("tab", name="Handledning").click()
    await fia.get_by_label("Antal", exact=True).fill("1")
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await fia.get_by_role("button", name="Öppna grupperna").click()
    await fia.get_by_role("button", name="Stäng grupperna nu").click()
    await fia.get_by_role("button", name="Visa för alla").click()
    shown = [await c.inbox.wait("event", lambda e: e["type"] == "board.shown") for c in people]
    await poll(lambda: fia.evaluate(f"window.ledarstig.store.seq >= {shown[0]['seq']}"),
               what="the facilitator's page has the event")
    # One more round trip of the page: a board.fetch the page sent for a dialog would be
    # answered (and the dialog opened) before this one is.
    await fia.evaluate("(room) => window.ledarstig.conn.request('board.fetch', {room})",
                       shown[0]["data"]["room"])
    await expect(fia.locator("dialog")).to_have_count(0)
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()  # not blocked


async def test_errors_follow_the_language_and_the_round_form_has_its_own_limits(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of) -> None:
    page = await open_page(links["facilitator"])
    await page.get_by_role("button", name="Gå med i mötet").click()
    await expect(page.locator(".form-error")).to_have_text("Skriv ditt namn.")
    await page.get_by_label("Språk").select_option("en")
    await expect(page.locator(".form-error")).to_have_text("Please enter your name.")
    # The join page names the meeting, and says that this link makes you a facilitator.
    await expect(page.locator(".join-meeting")).to_have_text("You are joining: Ledarstig – dag 1")
    await page.get_by_label("Language").select_option("sv")
    await expect(page.locator(".join-meeting")).to_have_text("Du går med i: Ledarstig – dag 1")
    await expect(page.locator(".join-role")).to_contain_text("handledare")
    await join(page, "Fia Handledare", "Helsingfors")
    meeting = await meeting_of(links)
    await meeting.participant("Cilla Ek", "Raseborg")
    await page.get_by_role("tab", name="Handledning").click()
    await page.get_by_label("Tid (minuter)").fill("0.25")
    await page.get_by_role("button", name="Förhandsgranska grupperna").click()
    problem = page.locator(".round-form .form-error")
    await expect(problem).to_have_text(
        "Tiden ska vara mellan 0,5 och 180 minuter (minst 30 sekunder).")
    await expect(page.get_by_label("Tid (minuter)")).to_have_attribute("aria-invalid", "true")
    assert await page.evaluate("window.ledarstig.store.round") is None
    await page.get_by_label("Språk").select_option("fi")
    await expect(problem).to_have_text(
        "Ajan on oltava 0,5–180 minuuttia (vähintään 30 sekuntia).")
    await page.get_by_label("Kieli").select_option("sv")
    await page.get_by_label("Antal", exact=True).fill("1")
    await page.get_by_label("Tid (minuter)").fill("0.5")
    await page.get_by_role("button", name="Förhandsgranska grupperna").click()
    await expect(page.get_by_role("button", name="Öppna grupperna")).to_be_visible()
    assert await page.evaluate("window.ledarstig.store.round.duration_s") == 30
