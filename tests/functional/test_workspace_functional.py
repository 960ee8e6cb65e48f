"""The organiser's workspace end to end over HTTP and Socket.IO: roster import,
personal links, identity across meetings, revocation, guests, safe exports."""

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.keys import HUB
from server.organisers import WORKSPACE
from tests.organisers import Organiser, make_organiser
from tests.support import RunningServer, start_server

ROSTER = "\n".join([
    "Namn;Kommun;Titel;E-post;Roll",
    "Anna Berg;Vasa;Rektor;anna.berg@vasa.fi;deltagare",
    "Anna Berg;vaasa;Kurator;anna.berg2@vasa.fi;deltagare",
    "Bo Ek; ESBO ;Chef;;",
    "=HYPERLINK(\"http://evil\");Helsinki;;;",
    "Fia Lund;Helsinkki;Handledare;fia@example.fi;handledare",
]) + "\n"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data")
    yield running
    await running.stop()


async def cohort_with_roster(server: RunningServer, org: Organiser) -> str:
    await make_organiser(server)
    await org.sign_in()
    await org.get("/o")
    _, location, _ = await org.post("/o/programmes", {"name": "Kommunens ledarstig 2026–27"})
    await org.get(location)
    _, location, _ = await org.post(location + "/cohorts", {"name": "Grupp A",
                                                           "ends_on": "2099-06-30"})
    cohort = location.rsplit("/", 1)[1]
    await org.get(location)
    raw = ROSTER.encode("utf-8-sig")
    status, _, page = await org.post(f"/o/c/{cohort}/import",
                                     {"file": ("roster.csv", raw)})
    assert status == 200 and "Helsinkki" in page and "Helsingfors" in page
    assert server.app[WORKSPACE].cohort(cohort)[1].roster() == []  # a preview stores nothing
    status, location, _ = await org.post(f"/o/c/{cohort}/import/confirm", {
        "text": ROSTER, "muni:Helsinkki": "Helsingfors"})
    assert status == 303, location
    return cohort


async def new_meeting(org: Organiser, cohort: str, title: str, day: str) -> str:
    await org.get(f"/o/c/{cohort}")
    status, location, text = await org.post(f"/o/c/{cohort}/meetings", {
        "title": title, "starts_local": f"{day}T09:00", "zone": "Europe/Helsinki"})
    assert status == 303, text
    return location.rsplit("/", 1)[1]


async def links(org: Organiser, cohort: str, meeting: str = "") -> dict[str, str]:
    """Name -> personal link, from the mail-merge export."""
    async with org.http.get(f"{org.server.url}/o/c/{cohort}/links.csv",
                            params={"meeting": meeting} if meeting else {}) as resp:
        assert resp.status == 200
        text = (await resp.read()).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    return {row[0]: row[-1] for row in rows[1:]}


async def test_roster_import_previews_then_stores_all_or_nothing(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        roster = server.app[WORKSPACE].cohort(cohort)[1].roster()
        assert len(roster) == 5
        by_name = {p.name: p for p in roster}
        assert by_name["Bo Ek"].municipality == "Esbo"
        assert by_name["Fia Lund"].municipality == "Helsingfors"
        assert by_name["Fia Lund"].role == "facilitator"
        # A duplicate row and a bad address: named, and nothing of the file stored.
        bad = ("Name;Municipality;Email\nCia;Borgå;cia@x.fi\nAnna;Vasa;ANNA.BERG@vasa.fi\n"
               "Dan;Lovisa;not-mail\n")
        await org.get(f"/o/c/{cohort}")
        status, _, page = await org.post(f"/o/c/{cohort}/import/confirm", {"text": bad})
        assert status == 200 and "dubblett" in page and "not-mail" in page
        assert len(server.app[WORKSPACE].cohort(cohort)[1].roster()) == 5
        # Windows-1252 reads alike; a binary file is refused with a message.
        status, _, page = await org.post(f"/o/c/{cohort}/import", {
            "file": ("r.csv", "Namn;Kommun\nÅsa Öberg;Närpes\n".encode("cp1252"))})
        assert status == 200 and "Åsa Öberg" in page
        status, _, page = await org.post(f"/o/c/{cohort}/import", {
            "file": ("r.xlsx", b"PK\x03\x04\x00\x00binary")})
        assert status == 400 and "CSV" in page


async def test_exports_defuse_formulas(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        names = await links(org, cohort)
    # Scripts read the same with the admin token; a browser session is not enough.
    status, body = await server.api("GET", f"/api/cohorts/{cohort}/links")
    assert status == 200 and len(body) == 5 and body[0]["url"].startswith(server.url + "/p/")
    status, programmes = await server.api("GET", "/api/programmes")
    assert programmes[0]["cohorts"][0]["people"] == 5
    status, _ = await server.api("GET", f"/api/cohorts/{cohort}/links?meeting=nope")
    assert status == 404
    assert (await server.api("GET", "/api/programmes", token=None))[0] == 401
    assert "'=HYPERLINK(\"http://evil\")" in names
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)


async def test_a_personal_link_is_one_person_across_meetings(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        first = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        second = await new_meeting(org, cohort, "Träff 2", "2026-12-08")
        one, two = await links(org, cohort, first), await links(org, cohort, second)
    token = one["Bo Ek"].split("?t=")[1]
    tab1 = server.client(token, meeting=first)
    await tab1.connect()
    joined = (await tab1.join("Bo Ek", "Esbo"))["data"]["participant"]
    tab2 = server.client(token, meeting=first)  # a second tab: resumes, never duplicates
    await tab2.connect()
    assert (await tab2.join("Bosse", "Esbo"))["data"]["participant"] == joined
    assert await tab1.disconnected()
    state = server.app[HUB].get(first).state
    assert len(state.meeting.participants) == 1
    # The next meeting: typed differently, still the same roster person.
    again = server.client(two["Bo Ek"].split("?t=")[1], meeting=second)
    await again.connect()
    await again.join("B. Ek", "espoo")
    hub = server.app[HUB]
    p1 = hub.get(first).state.meeting.participants[joined]
    p2 = hub.get(second).state.meeting.participants[again.participant]
    assert p1.person == p2.person is not None and (p1.name, p2.name) == ("Bo Ek", "B. Ek")
    assert p2.municipality == "Esbo"
    # The facilitator on the roster comes in as a facilitator.
    fia = server.client(one["Fia Lund"].split("?t=")[1], meeting=first)
    await fia.connect()
    welcome = await fia.join("Fia", "Helsingfors")
    assert hub.get(first).state.meeting.participants[
        welcome["data"]["participant"]].role.value == "facilitator"


async def test_revoked_links_are_refused_and_reissued(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        old = (await links(org, cohort, meeting))["Bo Ek"]
        old_cohort = (await links(org, cohort))["Bo Ek"]
        bo = next(p for p in server.app[WORKSPACE].cohort(cohort)[1].roster()
                  if p.name == "Bo Ek")
        await org.get(f"/o/c/{cohort}/people/{bo.id}")
        status, location, _ = await org.post(f"/o/c/{cohort}/people/{bo.id}/revoke")
        assert status == 303
        new = (await links(org, cohort, meeting))["Bo Ek"]
        assert new != old
        async with org.http.get(old_cohort, allow_redirects=False) as resp:
            assert resp.status == 403
        async with org.http.get((await links(org, cohort))["Bo Ek"],
                                allow_redirects=False) as resp:
            assert resp.status == 303 and f"/m/{meeting}?t=p." in resp.headers["Location"]
    refused = server.client(old.split("?t=")[1], meeting=meeting)
    with pytest.raises(Exception):  # noqa: B017 - socketio.exceptions.ConnectionError
        await refused.connect()
    assert refused.connect_error["data"]["code"] == "token_revoked"
    fresh = server.client(new.split("?t=")[1], meeting=meeting)
    await fresh.connect()
    await fresh.join("Bo Ek", "Esbo")


async def test_two_guests_with_one_name_are_two_people(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        await org.get(f"/o/m/{meeting}")
        status, _, page = await org.post(f"/o/m/{meeting}/guest-link")
        assert status == 200
    url = page.split('id="guest" class="link" readonly value="')[1].split('"')[0]
    token = url.split("?t=")[1].replace("&amp;", "&")
    a, b = server.client(token, meeting=meeting), server.client(token, meeting=meeting)
    for c in (a, b):
        await c.connect()
        await c.join("Anna Berg", "Vasa")
    assert a.participant != b.participant
    hub = server.app[HUB]
    people = hub.get(meeting).state.meeting.participants
    assert people[a.participant].person is None and people[b.participant].person is None


async def test_programmes_survive_a_restart_in_their_own_namespace(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
    await server.stop()
    again = await start_server(tmp_path / "data")
    try:
        hub = again.app[HUB]
        assert [live.id for live in hub.all()] == [meeting]  # programme logs are no meetings
        assert len(again.app[WORKSPACE].cohort(cohort)[1].roster()) == 5
        async with Organiser(again) as org:
            assert (await org.sign_in()).status == 303  # the account was kept too
    finally:
        await again.stop()


async def test_a_facilitator_ends_the_meeting_from_the_console(server: RunningServer) -> None:
    meeting = await server.new_meeting()
    fia, anna = await meeting.facilitator(), await meeting.participant()
    refused = await anna.call("meeting.end")
    assert refused["error"]["code"] == "forbidden"
    assert (await fia.call("meeting.end"))["ok"]
    await anna.inbox.wait("event", lambda e: e["type"] == "meeting.ended")
    await server.advance(0.5)  # everyone is let go half a second later
    assert await anna.disconnected(timeout=5)
    assert server.app[HUB].get(meeting.id).state.meeting.ended


async def test_a_meeting_is_prepared_before_the_day(server: RunningServer) -> None:
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        bo = next(p for p in server.app[WORKSPACE].cohort(cohort)[1].roster()
                  if p.name == "Bo Ek")
        await org.get(f"/o/m/{meeting}")
        status, _, text = await org.post(f"/o/m/{meeting}", [
            ("title", "Träff 1: konflikter"), ("starts_local", "2026-12-01T13:30"),
            ("zone", "Europe/Stockholm"), ("facilitators", bo.id),
            ("facilitators", "not-on-the-roster")])
        assert status == 303, text
        m = server.app[HUB].get(meeting).state.meeting
        assert (m.title, m.starts_at, m.facilitators) == (
            "Träff 1: konflikter", "2026-12-01T13:30:00+01:00", [bo.id])
        await org.post(f"/o/m/{meeting}/agenda/template", {"template": "conflict_management"})
        await org.post(f"/o/m/{meeting}/agenda/add", {
            "title": "Egen runda", "kind": "breakout", "focus_area": "self_leadership",
            "prompt": "Vad tar du med dig?", "minutes": "20", "strategy": "random",
            "group_size": "3"})
        agenda = server.app[HUB].get(meeting).state.agenda
        assert agenda is not None and agenda.activities[-1]["strategy"] == "random"
        count = len(agenda.activities)
        status, _, text = await org.post(f"/o/m/{meeting}/agenda/add", {
            "title": "Too short", "kind": "breakout", "minutes": "0", "strategy": "mix"})
        assert status == 400 and len(server.app[HUB].get(meeting).state.agenda.activities) == count
        await org.post(f"/o/m/{meeting}/agenda/remove", {"index": "0"})
        assert len(server.app[HUB].get(meeting).state.agenda.activities) == count - 1
        bo_link = (await links(org, cohort, meeting))["Bo Ek"]
    c = server.client(bo_link.split("?t=")[1], meeting=meeting)
    await c.connect()
    await c.join("Bo", "Esbo")
    assert server.app[HUB].get(meeting).state.meeting.participants[c.participant].role.value \
        == "facilitator"
    async with Organiser(server) as org:
        await org.sign_in()
        page = await org.get(f"/o/m/{meeting}")
        assert "Bo Ek" in page and "Personlig" in page
        status, location, _ = await org.post(f"/o/m/{meeting}/end")
        assert status == 303
    assert await c.disconnected()
    assert server.app[HUB].get(meeting).state.meeting.ended


async def test_personal_links_end_with_their_cohort(server: RunningServer) -> None:
    from programmes import commands as pc

    workspace = server.app[WORKSPACE]
    programme = await workspace.create_programme("ulla", "Ledarstig 2019")
    await workspace.run(programme, "ulla", lambda p: pc.create_cohort(p, "old", "A", "2020-06-30"))
    await workspace.run(programme, "ulla", lambda p: pc.add_people(
        p, "old", [("pbo", pc.PersonInput("Bo Ek", "Esbo"))]))
    live = await server.app[HUB].create("Träff", "2020-05-01T09:00:00+03:00", "old")
    bo = workspace.cohort("old")[1].people["pbo"]
    late = server.client(workspace.personal_token(live.id, bo), meeting=live.id)
    with pytest.raises(Exception):  # noqa: B017 - socketio.exceptions.ConnectionError
        await late.connect()
    assert late.connect_error["data"]["code"] == "token_expired"
    status, page = await server.api("GET", f"/p/{workspace.cohort_token('old', bo)}",
                                    token=None)
    assert status == 403 and "fungerar inte" in page


async def second_cohort(server: RunningServer, cohort: str, cohort_id: str = "grupp-b") -> str:
    """Another cohort of the same programme, with one person on its roster."""
    from programmes import commands as pc

    workspace = server.app[WORKSPACE]
    programme = workspace.cohort(cohort)[0].id
    await workspace.run(programme, "ulla", lambda p: pc.create_cohort(
        p, cohort_id, "Grupp B", "2099-06-30"))
    await workspace.run(programme, "ulla", lambda p: pc.add_people(
        p, cohort_id, [("pcia", pc.PersonInput("Cia Mård", "Åbo"))]))
    return cohort_id


async def test_a_meeting_moves_to_another_cohort_of_its_programme(
        server: RunningServer) -> None:
    hub, workspace = server.app[HUB], server.app[WORKSPACE]
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        other = await second_cohort(server, cohort)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        there = await new_meeting(org, other, "Träff B", "2026-11-20")
        bo = next(p for p in workspace.cohort(cohort)[1].roster() if p.name == "Bo Ek")
        await org.post(f"/o/m/{meeting}", [
            ("title", "Träff 1"), ("starts_local", "2026-12-01T09:00"),
            ("zone", "Europe/Helsinki"), ("facilitators", bo.id)])
        old_link = (await links(org, cohort, meeting))["Bo Ek"]
        old_cohort_link = (await links(org, cohort))["Bo Ek"]
        page = await org.get(f"/o/m/{meeting}")
        assert f'action="/o/m/{meeting}/cohort"' in page and "Grupp B" in page
        status, location, text = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other})
        assert (status, location) == (303, f"/o/m/{meeting}"), text
        m = hub.get(meeting).state.meeting
        assert (m.cohort, m.facilitators) == (other, [])  # old cohort's people cleared
        # The programme view: the meeting is listed under its new cohort only.
        assert f"/o/m/{meeting}" in await org.get(f"/o/c/{other}")
        assert f"/o/m/{meeting}" not in await org.get(f"/o/c/{cohort}")
        # The network picture and the mix history follow the new cohort.
        assert [s.id for s in hub.cohort_of(meeting)] == [there]
        assert [s.id for s in workspace.meetings(other)] == [there, meeting]
        assert f'value="{meeting}"' in await org.get(f"/o/c/{other}/network")
        assert f'value="{meeting}"' not in await org.get(f"/o/c/{cohort}/network")
        new_link = (await links(org, other, meeting))["Cia Mård"]
        # The old cohort's link for the whole cohort no longer leads to this meeting.
        async with org.http.get(old_cohort_link, allow_redirects=False) as resp:
            assert resp.status == 200 and meeting not in resp.headers.get("Location", "")
    refused = server.client(old_link.split("?t=")[1], meeting=meeting)
    with pytest.raises(Exception):  # noqa: B017 - socketio.exceptions.ConnectionError
        await refused.connect()
    assert refused.connect_error["data"]["code"] == "token_revoked"
    cia = server.client(new_link.split("?t=")[1], meeting=meeting)
    await cia.connect()
    await cia.join("Cia", "Åbo")
    assert hub.get(meeting).state.meeting.participants[cia.participant].person == "pcia"


async def test_moving_a_meeting_is_refused_when_it_may_not_move(
        server: RunningServer) -> None:
    from programmes import commands as pc

    hub, workspace = server.app[HUB], server.app[WORKSPACE]
    foreign = await workspace.create_programme("ulla", "Ett annat program")
    await workspace.run(foreign, "ulla", lambda p: pc.create_cohort(p, "x", "X", ""))
    async with Organiser(server) as org:
        cohort = await cohort_with_roster(server, org)
        other = await second_cohort(server, cohort)
        meeting = await new_meeting(org, cohort, "Träff 1", "2026-12-01")
        await org.get(f"/o/m/{meeting}")
        for target in ("no-such-cohort", "x"):  # unknown; in another programme
            status, _, text = await org.post(f"/o/m/{meeting}/cohort", {"cohort": target})
            assert status == 400 and "samma program" in text, (target, text)
        status, _, _ = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other}, csrf="")
        assert status == 403
        status, _, _ = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other},
                                      csrf="forged")
        assert status == 403
        assert hub.get(meeting).state.meeting.cohort == cohort
        bo_link = (await links(org, cohort, meeting))["Bo Ek"]
        bo = server.client(bo_link.split("?t=")[1], meeting=meeting)
        await bo.connect()
        await bo.join("Bo Ek", "Esbo")
        status, _, text = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other})
        assert status == 400 and "är tom" in text, text  # someone is in it
        await bo.close()
        await org.post(f"/o/m/{meeting}/end")
        status, _, text = await org.post(f"/o/m/{meeting}/cohort", {"cohort": other})
        assert status == 400 and "avslutats" in text, text
        assert hub.get(meeting).state.meeting.cohort == cohort
        assert f'action="/o/m/{meeting}/cohort"' not in await org.get(f"/o/m/{meeting}")
