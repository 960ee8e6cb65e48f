"""Retention with a workspace cohort: a meeting's recording passes the retention period
before its cohort ends. The recording goes (nothing of it readable in the data
directory), the pseudonymised encounter history that ``mix`` and the network figures
use survives for the cohort's later meetings; once the cohort ends, the meeting goes."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facilitation.history import cohort_encounters
from programmes import commands as pc
from server.keys import HUB
from server.organisers import WORKSPACE
from server.retention import DAY_MS, sweep
from tests.functional.test_erasure_functional import grep
from tests.support import start_server

NAME = "Xuvlandsson"  # a unique surname
SECRET = "kohortens-hemlighet-4471"
TASK = "hemlig-uppgift-8812"


async def test_a_cohorts_encounters_outlive_its_recordings_until_the_cohort_ends(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = await start_server(data, retention_days=30)
    try:
        workspace, hub = server.app[WORKSPACE], server.app[HUB]
        now = hub._clock.now_ms()
        today = datetime.fromtimestamp(now / 1000, UTC).date()
        ends_on = (today + timedelta(days=60)).isoformat()
        programme = await workspace.create_programme("ulla", "Ledarstig")
        await workspace.run(programme, "ulla", lambda p: pc.create_cohort(
            p, "kull", "Kull 1", ends_on))
        people = [("pfia", pc.PersonInput("Fia Lund", "Helsingfors", role="facilitator")),
                  ("pa", pc.PersonInput(f"Anna {NAME}", "Vasa")),
                  ("pb", pc.PersonInput("Bo Ek", "Esbo")),
                  ("pc", pc.PersonInput("Cia Mård", "Åbo")),
                  ("pd", pc.PersonInput("Dan Holm", "Borgå"))]
        await workspace.run(programme, "ulla", lambda p: pc.add_people(p, "kull", people))
        roster = workspace.cohort("kull")[1].people
        first = await hub.create("Träff 1", "2026-12-01T09:00:00+02:00", "kull")
        later = await hub.create("Träff 2", "2026-12-08T09:00:00+02:00", "kull")

        async def attend(meeting: str) -> dict[str, object]:
            clients = {}
            for pid, person in roster.items():
                c = server.client(workspace.personal_token(meeting, person), meeting=meeting)
                await c.connect()
                await c.join(person.name, person.municipality)
                clients[pid] = c
            return clients

        one = await attend(first.id)
        await one["pa"].ok("chat", {"text": SECRET})  # type: ignore[attr-defined]
        await one["pfia"].ok("round.preview", {  # type: ignore[attr-defined]
            "group_count": 1, "prompt": TASK})
        await one["pfia"].ok("round.open")  # type: ignore[attr-defined]
        await one["pfia"].ok("round.close")  # type: ignore[attr-defined]
        status, _ = await server.api("POST", f"/api/meetings/{first.id}/end")
        assert status == 200
        await attend(later.id)

        def met_in_later() -> dict[str, int]:
            """What ``mix`` sees for the later meeting: who met whom before."""
            state = hub.get(later.id).state
            encounters = cohort_encounters(state, hub.cohort_of(later.id))
            person = {p.id: p.person for p in state.meeting.participants.values()}
            return {f"{person[a]}-{person[b]}": encounters.count(a, b)
                    for a in person for b in person if str(person[a]) < str(person[b])}

        encounters_before = met_in_later()
        assert encounters_before["pa-pb"] == 1 and len(encounters_before) == 10
        status, network_before = await server.api("GET", f"/api/meetings/{later.id}/network")
        assert status == 200
        met_before = {p["person"]: p["people_met"] for p in network_before["participants"]}
        assert met_before["pa"] == 3  # Bo, Cia, Dan (the facilitator is in no group)
        for needle in (NAME, SECRET, TASK):
            assert grep(data, needle), needle

        # Past the retention period, the cohort still on: the recording goes.
        done = await sweep(server.app, now + 31 * DAY_MS)
        assert done == {"stripped": [first.id], "removed": []}
        for needle in (SECRET, TASK):  # only the first meeting held these
            assert grep(data, needle) == [], needle
        status, log = await server.api("GET", f"/api/meetings/{first.id}/log")
        assert status == 200
        # Anna's name stays on the roster and in the later meeting, not in this one.
        assert NAME not in json.dumps(log) and NAME in json.dumps(
            (await server.api("GET", f"/api/meetings/{later.id}/log"))[1])
        types = [e["type"] for e in log["events"]]
        assert "chat.sent" not in types and types[-1] == "recording.deleted"
        joined = [e["data"] for e in log["events"] if e["type"] == "participant.joined"]
        assert all(d["name"].startswith("Deltagare ") for d in joined)  # pseudonymised
        # ... and the encounter history the later meeting uses is unchanged.
        assert met_in_later() == encounters_before
        status, network_after = await server.api("GET", f"/api/meetings/{later.id}/network")
        assert {p["person"]: p["people_met"] for p in network_after["participants"]} \
            == met_before

        # The cohort ends: then the meeting goes entirely (the later one is still on).
        done = await sweep(server.app, now + 62 * DAY_MS)
        assert done == {"stripped": [], "removed": [first.id]}
        status, _ = await server.api("GET", f"/api/meetings/{first.id}")
        assert status == 404
        assert grep(data, first.id) == []
        status, _ = await server.api("GET", f"/api/meetings/{later.id}")
        assert status == 200
    finally:
        await server.stop()
