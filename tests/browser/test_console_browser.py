"""The facilitator's console with an agenda, visits, and the automatic return when time is up."""

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from server.keys import HUB
from tests.browser.conftest import real_time
from tests.browser.helpers import axe_violations, describe, join
from tests.support import Meeting, start_server

pytestmark = pytest.mark.browser

MUNIS = ["Raseborg", "Pargas", "Vasa", "Kimitoön"]


async def test_agenda_prefills_the_round_and_the_facilitator_visits(  # type: ignore[no-untyped-def]
        links, open_page, meeting_of, shot) -> None:
    meeting = await meeting_of(links)
    people = [await meeting.participant(f"Deltagare {i + 1}", m) for i, m in enumerate(MUNIS)]
    fia = await open_page(links["facilitator"])
    await join(fia, "Fia Handledare", "Helsingfors")
    await fia.get_by_role("tab", name="Handledning").click()
    await fia.get_by_label("Mall").select_option("self_leadership")
    await fia.get_by_role("button", name="Använd").click()
    step = fia.locator(".agenda-list li", has_text="När kliver jag in?")
    await step.get_by_role("button").click()
    await expect(fia.get_by_label("Uppgift till grupperna")).to_have_value(
        re.compile("^Berätta om en situation"))
    await expect(fia.get_by_label("Tid (minuter)")).to_have_value("20")
    await expect(fia.get_by_label("Grupper", exact=True)).to_have_value("size")
    await expect(step).to_have_attribute("aria-current", "step")
    await shot(fia, "14-console-agenda")
    assert await axe_violations(fia) == [], describe(await axe_violations(fia))

    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await fia.get_by_role("button", name="Öppna grupperna").click()
    await expect(fia.get_by_role("heading", name="Grupperna pågår (omgång 1)")).to_be_visible()
    for person in people:
        await person.inbox.wait("event", lambda e: e["type"] == "round.opened")
    await fia.get_by_role("button", name="Besök grupp 1").click()
    await expect(fia.locator(".room-badge")).to_have_text("Grupp 1")
    await expect(fia.locator(".console .info-box")).to_contain_text("Du besöker grupp 1.")
    await fia.get_by_role("tab", name="Möte").click()
    await expect(fia.locator(".banner .prompt")).to_contain_text("Berätta om en situation")
    await shot(fia, "15-facilitator-visiting")
    await fia.locator(".banner").get_by_role("button", name="Tillbaka till plenum").click()
    await expect(fia.locator(".room-badge")).to_have_text("Plenum")
    assert await axe_violations(fia) == [], describe(await axe_violations(fia))


async def test_time_up_brings_everyone_back(links, open_page, meeting_of, shot) -> None:  # type: ignore[no-untyped-def]
    meeting = await meeting_of(links)
    fia = await meeting.facilitator()
    pages = [await open_page(links["participant"]) for _ in range(2)]
    await pages[0].clock.install()  # time flows on; the test can stop and jump it
    people = [("Anna Berg", "Borgå"), ("Bo Lind", "Vasa")]
    for page, (name, muni) in zip(pages, people, strict=True):
        await join(page, name, muni)
    answer = await fia.call("round.preview", {"group_count": 1, "duration_s": 60, "closing_s": 3,
                                              "prompt": "Tre saker som fungerar bra"})
    assert answer["ok"], answer
    assert (await fia.call("round.open"))["ok"]
    for page in pages:
        await expect(page.locator(".banner .prompt")).to_contain_text("Tre saker som fungerar bra")
    anna = pages[0]
    # The countdown runs on the page's clock: stopped, then half a minute later at once.
    # pause_at takes a datetime: a plain number would be read as seconds, not milliseconds,
    # and send the page's clock some 55,000 years ahead.
    stop = await anna.evaluate("Date.now()") + 2000
    await anna.clock.pause_at(datetime.fromtimestamp(stop / 1000, UTC))
    await anna.clock.fast_forward(1000)  # one tick, drawn at the stopped time
    assert await anna.evaluate("Date.now()") == stop + 1000
    countdown = anna.locator(".banner .countdown")
    await expect(countdown).to_have_text(re.compile(r"^(1:00|0:5\d)$"))  # a minute's round
    before = seconds(await countdown.text_content())
    await anna.clock.fast_forward("00:30")
    await expect(countdown).to_have_text(f"0:{before - 30:02d}")
    await anna.clock.resume()
    assert (await fia.call("round.extend", {"delta_s": -58}))["ok"]
    await expect(anna.locator(".banner.last-minute")).to_be_visible()
    await meeting.server.advance(2)  # the deadline: three seconds of closing countdown
    await expect(anna.locator(".banner .timer-label")).to_have_text("Tillbaka till plenum om")
    await expect(anna.locator("#announcer-assertive")).to_contain_text("Tiden är ute")
    await shot(anna, "16-closing-countdown")
    await meeting.server.advance(3)
    for page in pages:
        await expect(page.locator(".room-badge")).to_have_text("Plenum")
        await expect(page.locator(".banner")).to_be_hidden()
    await expect(anna.locator("#announcer-polite")).to_have_text("Ni är tillbaka i plenum.")


def seconds(mm_ss: str | None) -> int:
    minutes, secs = (mm_ss or "").split(":")
    return int(minutes) * 60 + int(secs)


async def test_stage_mode_when_the_room_is_large(tmp_path, open_page) -> None:  # type: ignore[no-untyped-def]
    """Above the publisher cap only facilitators and people on stage send video."""
    staged = await start_server(tmp_path / "stage", "json", publisher_cap=2, clock=real_time())
    try:
        meeting_id = await staged.create_meeting()
        tokens = await staged.invites(meeting_id)
        url = f"{staged.url}/m/{meeting_id}?t="
        fia = await open_page(url + tokens["facilitator"])
        await join(fia, "Fia Handledare", "Helsingfors")
        meeting = Meeting(staged, meeting_id, tokens)
        await meeting.participant("Cilla Ek", "Raseborg")
        anna = await open_page(url + tokens["participant"])
        await join(anna, "Anna Berg", "Borgå")
        await expect(anna.locator(".mode-note")).to_have_text(re.compile("^Scenläge: du ser"))
        await fia.locator(".person", has_text="Anna Berg").get_by_role(
            "button", name="Till scenen").click()
        await expect(anna.locator(".mode-note")).to_have_text(
            "Scenläge: du syns och hörs för alla.")
        await expect(fia.locator(".person", has_text="Anna Berg").get_by_role(
            "button", name="Från scenen")).to_be_visible()
    finally:
        await staged.stop()


async def test_mixing_wishes_plan_and_people_away_in_the_console(  # type: ignore[no-untyped-def]
        tmp_path, open_page) -> None:
    server = await start_server(tmp_path / "mix", "json", grace_s=120.0,  # away, not gone
                                clock=real_time())
    try:
        meeting_id = await server.create_meeting()
        tokens = await server.invites(meeting_id)
        meeting = Meeting(server, meeting_id, tokens)
        fia = await open_page(f"{server.url}/m/{meeting_id}?t={tokens['facilitator']}")
        await mixing_console(server, meeting, fia)
    finally:
        await server.stop()


async def mixing_console(server, meeting, fia) -> None:  # type: ignore[no-untyped-def]
    people = [await meeting.participant(f"Deltagare {i + 1}", m) for i, m in enumerate(MUNIS * 2)]
    await join(fia, "Fia Handledare", "Helsingfors")
    await fia.get_by_role("tab", name="Handledning").click()
    wishes = fia.locator(".mix-card")
    await wishes.get_by_label("Person").select_option(people[0].participant)
    await wishes.get_by_label("och").select_option(people[1].participant)
    await wishes.get_by_role("button", name="Håll isär").click()
    await expect(wishes.locator(".mix-pairs")).to_contain_text(
        "Deltagare 1 och Deltagare 2 hålls isär")
    await wishes.get_by_label("Rättvis turordning för platserna i de större grupperna").check()
    state = server.app[HUB].get(meeting.id).state
    await people[2].inbox.wait("event", lambda e: e["type"] == "mix.constrained"
                               and e["data"]["fair_seats"])
    assert state.constraints.apart == [[people[0].participant, people[1].participant]]

    await people[7].sio.disconnect()
    await people[0].inbox.wait("presence", lambda d: d["participant"] == people[7].participant
                               and d["online"] is False)
    await fia.get_by_label("Antal", exact=True).fill("3")
    await fia.get_by_label("Planera omgångar").fill("3")
    await fia.get_by_role("button", name="Förhandsgranska grupperna").click()
    await expect(fia.locator(".mix-info")).to_contain_text(
        re.compile(r"Plan för 3 omgångar: \d+ upprepade par \(minst möjliga: 0\)"))
    await expect(fia.locator(".mix-info")).to_contain_text("Deltagare 8")
    await fia.get_by_role("button", name="Ta med dem ändå").click()
    await expect(fia.locator(".groups")).to_contain_text("Deltagare 8")
    assert all(not {people[0].participant, people[1].participant} <= set(g)
               for g in state.current().groups)
    assert await axe_violations(fia) == [], describe(await axe_violations(fia))
