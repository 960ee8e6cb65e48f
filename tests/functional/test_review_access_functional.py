"""Who may review a meeting of a workspace cohort: an organiser (signed in), the admin
token, or a roster person who facilitates that meeting, through their personal link;
anyone else 401 (no key, a dead one) or 403, with nothing of the meeting disclosed."""

import re
from pathlib import Path

import aiohttp

from programmes import commands as pc
from rooms import commands as cmd
from server.keys import HUB
from server.organisers import WORKSPACE
from tests.organisers import Organiser, make_organiser
from tests.support import ADMIN_TOKEN, RunningServer, start_server

TITLE = "Hemlig träff 7421"


async def status_of(server: RunningServer, path: str, key: str | None = None) -> int:
    url = server.url + path + (f"?key={key}" if key is not None else "")
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        body = await resp.text()
        if resp.status != 200:
            assert TITLE not in body and "hemligt" not in body
        return resp.status


async def test_review_access_by_organiser_or_roster_facilitator_of_that_meeting(
        tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")
    try:
        workspace, hub = server.app[WORKSPACE], server.app[HUB]
        programme = await workspace.create_programme("ulla", "Ledarstig")
        for cohort, people in (("ca", [("pfia", pc.PersonInput("Fia Lund", "Vasa",
                                                               role="facilitator")),
                                       ("pbo", pc.PersonInput("Bo Ek", "Esbo")),
                                       ("pann", pc.PersonInput("Ann Berg", "Åbo"))]),
                               ("cb", [("pcia", pc.PersonInput("Cia Mård", "Borgå",
                                                               role="facilitator"))])):
            await workspace.run(programme, "ulla", lambda p, c=cohort: pc.create_cohort(
                p, c, c.upper(), "2099-06-30"))
            await workspace.run(programme, "ulla", lambda p, c=cohort, q=people: pc.add_people(
                p, c, q))
        one = await hub.create(TITLE, "2026-12-01T09:00:00+02:00", "ca")
        two = await hub.create("Träff 2", "2026-12-08T09:00:00+02:00", "ca")
        other = await hub.create("Träff B", "2026-12-01T09:00:00+02:00", "cb")
        await hub.execute(one.id, "ulla", lambda s: cmd.update_meeting(
            s.meeting, facilitators=["pbo"]))  # Bo facilitates this meeting only
        roster = {**workspace.cohort("ca")[1].people, **workspace.cohort("cb")[1].people}
        link = {pid: workspace.cohort_token("cb" if pid == "pcia" else "ca", p)
                for pid, p in roster.items()}
        personal = workspace.personal_token(one.id, roster["pfia"])
        anna = server.client(workspace.personal_token(one.id, roster["pann"]), meeting=one.id)
        await anna.connect()
        await anna.join("Ann Berg", "Åbo")
        await anna.ok("chat", {"text": "hemligt"})
        fia = server.client(personal, meeting=one.id)
        await fia.connect()
        await fia.join("Fia Lund", "Vasa")
        base = f"/review/{one.id}/state.json"

        assert await status_of(server, base) == 401  # no key
        assert await status_of(server, base, "not-a-key") == 401
        # Roster facilitators of this meeting, by their personal links.
        assert await status_of(server, base, link["pfia"]) == 200
        assert await status_of(server, base, personal) == 200
        assert await status_of(server, f"/review/{one.id}", link["pfia"]) == 200
        assert await status_of(server, base, link["pbo"]) == 200  # named for this meeting
        # Facilitators of another meeting, a participant: refused.
        assert await status_of(server, f"/review/{two.id}/state.json", link["pbo"]) == 403
        assert await status_of(server, base, link["pcia"]) == 403  # another cohort's
        assert await status_of(server, f"/review/{other.id}/state.json", link["pcia"]) == 200
        assert await status_of(server, base,
                               workspace.personal_token(two.id, roster["pfia"])) == 403
        assert await status_of(server, base, link["pann"]) == 403
        assert await status_of(server, base, anna.resume_token) == 403
        # In a workspace cohort the roster decides: a resume token is not enough.
        assert await status_of(server, base, fia.resume_token) == 403
        # A revoked link stops working for review too.
        await workspace.run(programme, "ulla", lambda p: pc.revoke_link(p, "ca", "pbo"))
        assert await status_of(server, base, link["pbo"]) == 401
        # The admin token and a signed-in organiser.
        async with aiohttp.ClientSession() as http, http.get(
                server.url + base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as r:
            assert r.status == 200
        await make_organiser(server)
        async with Organiser(server) as ulla:
            await ulla.sign_in()
            assert "hemligt" in await ulla.get(f"/review/{one.id}")

        # The way in: the personal link's page lists the meetings one facilitates.
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/p/{link['pfia']}?review=1") as resp:
                page = await resp.text()
                assert resp.status == 200
            hrefs = re.findall(r'href="(/review/[^"]+)"', page)
            assert {h.split("?")[0] for h in hrefs} == {f"/review/{one.id}",
                                                        f"/review/{two.id}"}
            for href in hrefs:
                async with http.get(server.url + href.replace("&amp;", "&")) as resp:
                    assert resp.status == 200
            async with http.get(f"{server.url}/p/{link['pann']}?review=1") as resp:
                assert resp.status == 403 and TITLE not in await resp.text()
    finally:
        await server.stop()
