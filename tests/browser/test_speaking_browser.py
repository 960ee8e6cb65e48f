"""Who is talking, in the facilitator's live overview: a participant's own browser
measures its microphone (Chromium's fake device beeps) and the console names them."""

import pytest
from playwright.async_api import expect

from tests.browser.helpers import join

pytestmark = pytest.mark.browser


async def test_console_names_who_is_talking_in_a_group(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of) -> None:
    meeting = await meeting_of(links)
    fia = await open_page(links["facilitator"])
    await join(fia, "Fia Handledare", "Helsingfors")
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Borgå")
    bo = await meeting.participant("Bo Lind", "Vasa")  # silent: no microphone at all
    await fia.get_by_role("tab", name="Handledning").click()
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await fia.get_by_role("button", name="Öppna grupperna").click()
    await bo.inbox.wait("event", lambda e: e["type"] == "round.opened")
    await expect(anna.locator(".room-badge")).to_have_text("Grupp 1")
    await expect(anna.get_by_role("button", name="Stäng av mikrofonen")).to_be_visible()

    talking = fia.locator(".group[data-group='0'] .group-speaking")
    await expect(talking).to_have_text("Talar: Anna Berg", timeout=10000)

    await anna.get_by_role("button", name="Stäng av mikrofonen").click()
    await expect(talking).to_have_text("Ingen talar just nu")
