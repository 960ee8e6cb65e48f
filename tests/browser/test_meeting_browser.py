"""The whole path in the browser: two people see each other, the facilitator opens two
groups from the console, each group works on its board, and everyone comes back."""

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import axe_violations, describe, join, poll, video_flowing
from tests.support import Client

pytestmark = [pytest.mark.browser, pytest.mark.webrtc]
IMAGES_LOADED = """() => [...document.querySelectorAll('.gallery img')]
  .every((img) => img.complete && img.naturalWidth > 0)"""


async def me(page: Page) -> str:
    return str(await page.evaluate("window.ledarstig.store.me"))


async def draw_stroke(page: Page, x0: float, y0: float) -> None:
    box = await page.locator(".board-surface").bounding_box()
    assert box is not None
    await page.get_by_role("button", name="Penna").click()
    await page.mouse.move(box["x"] + x0, box["y"] + y0)
    await page.mouse.down()
    for i in range(1, 12):
        await page.mouse.move(box["x"] + x0 + i * 12, box["y"] + y0 + (i % 3) * 9)
    await page.mouse.up()


async def add_sticky(page: Page, text: str, x: float, y: float) -> None:
    box = await page.locator(".board-surface").bounding_box()
    assert box is not None
    await page.get_by_role("button", name="Lapp").click()
    await page.mouse.click(box["x"] + x, box["y"] + y)
    editor = page.get_by_label("Text på lappen")
    await editor.fill(text)
    await editor.press("Escape")


async def test_meet_break_out_and_come_back(links, open_page, meeting_of, shot) -> None:  # type: ignore[no-untyped-def]
    fia = await open_page(links["facilitator"])
    await join(fia, "Fia Handledare", "Helsingfors")
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Borgå", "Bildningsdirektör")
    bo = await open_page(links["participant"])
    await join(bo, "Bo Lind", "Vasa")

    # Two participants see and hear each other in the plenary.
    seen = await asyncio.gather(video_flowing(anna), video_flowing(bo))
    assert all(s["width"] > 0 and s["frames"] > 0 for s in seen), seen
    await expect(anna.locator(".person-name", has_text="Bo Lind")).to_be_visible()
    await shot(anna, "03-plenary-video")
    assert await axe_violations(anna) == [], describe(await axe_violations(anna))
    # Hands and reactions reach the others.
    await bo.get_by_role("button", name="Räck upp handen").click()
    await expect(fia.locator(".hand-queue li")).to_have_text(re.compile("Bo Lind"))
    await fia.locator(".hand-queue").get_by_role("button", name="Ta ner").click()
    await expect(bo.get_by_role("button", name="Räck upp handen")).to_be_visible()
    await anna.get_by_text("Reaktioner").click()
    await anna.get_by_role("button", name="Applåd").click()
    await expect(bo.locator(".reaction-bubble")).to_contain_text("👏")
    # A shared screen is a second stream: renegotiated, shown as its own tile.
    await anna.get_by_role("button", name="Dela skärmen").click()
    await expect(bo.locator(".tile-screen video")).to_have_count(1)
    await poll(lambda: bo.evaluate("document.querySelector('.tile-screen video').videoWidth"), 10,
               what="shared screen")
    await shot(bo, "03b-screen-shared")
    await anna.get_by_role("button", name="Sluta dela").click()
    await expect(bo.locator(".tile-screen")).to_have_count(0)

    # Two more people (socket clients) so that two groups of two can be made.
    meeting = await meeting_of(links)
    extra: list[Client] = [await meeting.participant("Cilla Ek", "Raseborg"),
                           await meeting.participant("Dan Holm", "Pargas")]
    anna_id, bo_id = await me(anna), await me(bo)

    # The facilitator prepares a round in the console.
    await fia.get_by_role("tab", name="Handledning").click()
    await expect(fia.get_by_role("heading", name="Ny gruppomgång")).to_be_visible()
    await fia.get_by_label("Indelning").select_option("mix")
    await fia.get_by_label("Grupper", exact=True).select_option("count")
    await fia.get_by_label("Antal", exact=True).fill("2")
    await fia.get_by_label("Tid (minuter)").fill("15")
    await fia.get_by_label("Uppgift till grupperna").fill("Vad gör en bra arbetsdag för ert team?")
    assert await axe_violations(fia) == [], describe(await axe_violations(fia))
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await expect(fia.locator(".group.drop")).to_have_count(2)
    # Anna and Bo in group 1, the others in group 2 (moving people as a facilitator does).
    for pid, group in [(anna_id, "0"), (bo_id, "0"), (extra[0].participant, "1"),
                       (extra[1].participant, "1")]:
        chip = fia.locator(f".chip[data-id='{pid}']")
        if await chip.locator("select").input_value() != group:
            await chip.locator("select").select_option(group)
            moved_chip = fia.locator(f".group.drop[data-group='{group}'] .chip[data-id='{pid}']")
            await expect(moved_chip).to_be_visible()
    await shot(fia, "04-console-preview")
    assert await axe_violations(fia) == [], describe(await axe_violations(fia))
    await fia.get_by_role("button", name="Öppna grupperna").click()

    # Each participant sees the group's task and a running countdown.
    for page in (anna, bo):
        await expect(page.locator(".room-badge")).to_have_text("Grupp 1")
        await expect(page.locator(".banner .prompt")).to_contain_text("Vad gör en bra arbetsdag")
        await expect(page.locator(".banner .countdown")).to_have_text(lambda_regex())
        await expect(page.locator(".board-surface")).to_be_visible()
    # (That it counts down: test_console_browser, on the page's own clock.)
    for client in extra:
        await client.inbox.wait("event", lambda e: e["type"] == "round.opened")

    # Each draws on the group's board and the other sees it.
    await draw_stroke(anna, 120, 120)
    await expect(bo.locator(".board-layer [data-type=pen]")).to_have_count(1)
    await add_sticky(bo, "Tydliga mål", 420, 150)
    await expect(anna.locator(".board-sticky-text", has_text="Tydliga mål")).to_be_visible()
    await expect(anna.locator(".board-layer [data-type=pen]")).to_have_count(1)
    # Undo of one's own stroke travels too.
    await anna.get_by_role("button", name="Ångra").click()
    await expect(bo.locator(".board-layer [data-type=pen]")).to_have_count(0)
    await draw_stroke(anna, 140, 300)
    await expect(bo.locator(".board-layer [data-type=pen]")).to_have_count(1)
    await shot(anna, "05-breakout-board")

    # Help request reaches the facilitator's live view.
    await bo.get_by_role("button", name="Be om hjälp").click()
    await expect(fia.locator(".group.needs-help")).to_have_count(1)
    await expect(fia.locator(".help-request")).to_contain_text("Bo Lind")
    await expect(fia.locator("#announcer-assertive")).to_have_text(
        "Bo Lind i grupp 1 ber om hjälp.")
    await expect(bo.get_by_role("button", name="Handledaren har fått din fråga")).to_be_disabled()
    await shot(fia, "06-console-live")
    await fia.get_by_label("Meddelande till alla grupper").fill("Fem minuter kvar!")
    await fia.get_by_role("button", name="Skicka", exact=True).click()
    await expect(anna.locator(".banner .broadcast")).to_contain_text("Fem minuter kvar!")

    # The facilitator closes the round: everyone is back in the plenary.
    await fia.get_by_role("button", name="Stäng grupperna nu").click()
    for page in (anna, bo):
        await expect(page.locator(".room-badge")).to_have_text("Plenum")
        await expect(page.locator(".banner")).to_be_hidden()
    for client in extra:
        await client.inbox.wait("event", lambda e, c=client: moved(e, c.participant, "plenary"))
    await expect(fia.get_by_role("heading", name="Gruppernas tavlor")).to_be_visible()
    await expect(fia.locator(".gallery img")).to_have_count(2)
    await poll(lambda: fia.evaluate(IMAGES_LOADED), 5, what="gallery images loaded")
    await shot(fia, "07-console-gallery")
    await fia.get_by_role("button", name="Visa för alla").first.click()
    shown = anna.get_by_role("dialog", name="Handledaren visar tavlan från grupp 1.")
    await expect(shown).to_be_visible()
    await poll(lambda: anna.evaluate("document.querySelector('.shown-board img').naturalWidth"),
               5, what="shown board loaded")
    await shot(anna, "07b-board-shown")
    await shown.get_by_role("button", name="Stäng").click()
    await expect(shown).to_be_hidden()
    back = await asyncio.gather(video_flowing(anna), video_flowing(bo))
    assert all(s["frames"] > 0 for s in back), back
    await shot(bo, "08-back-in-plenary")

    # The language switch changes the whole page.
    await anna.get_by_label("Språk").select_option("en")
    await expect(anna.locator(".room-badge")).to_have_text("Plenary")
    await expect(anna.get_by_role("tab", name="Participants")).to_be_visible()
    await expect(anna.get_by_role("button", name="Raise hand")).to_be_visible()
    await anna.get_by_label("Language").select_option("fi")
    await expect(anna.locator(".room-badge")).to_have_text("Täysistunto")
    await expect(anna.get_by_role("button", name="Nosta käsi")).to_be_visible()
    assert await anna.evaluate("document.documentElement.lang") == "fi"
    await shot(anna, "09-finnish")


def moved(event: dict[str, Any], participant: str | None, room: str) -> bool:
    """One participant moved by itself, or many at once when a round opens or closes."""
    data = event["data"]
    if event["type"] == "participant.moved":
        return bool(data["id"] == participant and data["room"] == room)
    return bool(data.get("moves", {}).get(participant) == room)


def lambda_regex() -> Any:
    return re.compile(r"^1[45]:\d\d$")
