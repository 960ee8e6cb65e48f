"""Joining from an invitation link, and what the page says when the link or meeting is bad."""

import pytest
from playwright.async_api import expect

from tests.browser.helpers import axe_violations, describe, join

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
