"""Breakout rounds end to end: real server, real Socket.IO clients."""

import asyncio
from typing import Any

from server.clock import FakeClock
from server.keys import HUB
from tests.support import Client, Meeting, start_server

MUNIS = ["Vasa", "Borgå", "Raseborg", "Esbo", "Helsingfors", "Kimitoön", "Pargas", "Lovisa"]


def session_of(meeting: Meeting) -> Any:
    return meeting.server.app[HUB].get(meeting.id).state


async def crowd(meeting: Meeting, n: int) -> list[Client]:
    return [await meeting.participant(f"Deltagare {i}", MUNIS[i % len(MUNIS)]) for i in range(n)]



async def test_open_moves_each_participant_to_a_mixed_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 8)
    preview = await fia.ok("round.preview", {"group_size": 4, "duration_s": 600,
                                              "prompts": ["Uppgift A", "Uppgift B"]})
    assert sorted(len(g) for g in preview["groups"]) == [4, 4]
    await fia.ok("round.open")
    r = session_of(meeting).current()
    for client in people:
        opened = await client.inbox.wait("event", lambda e: e["type"] == "round.opened")
        group = next(i for i, g in enumerate(opened["data"]["groups"]) if client.participant in g)
        assert opened["data"]["moves"][client.participant] == opened["data"]["rooms"][group]
        assert [o["id"] for o in opened["data"]["opens"]] == opened["data"]["rooms"]
        assert opened["data"]["deadline"] == r.deadline
    muni = {c.participant: MUNIS[i % len(MUNIS)] for i, c in enumerate(people)}
    for group in r.groups:
        assert len({muni[pid] for pid in group}) == len(group)
    assert session_of(meeting).meeting.participants[fia.participant].room == "plenary"


async def test_group_chat_stays_in_the_group_and_broadcast_reaches_all(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await fia.ok("round.preview", {"group_count": 2, "prompt": "Vad är en bra dag?"})
    await fia.ok("round.open")
    r = session_of(meeting).current()
    by_id = {c.participant: c for c in people}
    a, b = (by_id[pid] for pid in r.groups[0])
    c = by_id[r.groups[1][0]]
    await a.inbox.wait("event", lambda e: e["type"] == "round.opened")
    await a.ok("chat", {"text": "bara för grupp 1"})
    await b.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    await fia.ok("round.broadcast", {"text": "Fem minuter kvar!"})
    for client in people:
        await client.inbox.wait("event", lambda e: e["type"] == "round.broadcast")
    assert c.inbox.events("chat.sent") == []
    assert fia.inbox.events("chat.sent") == []


async def test_participant_cannot_steer_rounds(meeting: Meeting) -> None:
    await meeting.facilitator()
    people = await crowd(meeting, 3)
    seq = session_of(meeting).seq
    for event, data in [("round.preview", {"group_count": 2}), ("round.open", {}),
                        ("round.close", {}), ("round.extend", {"delta_s": 60}),
                        ("round.broadcast", {"text": "x"}), ("round.visit", {"group": 0}),
                        ("agenda.set", {"template": "self_leadership"}), ("network", {})]:
        answer = await people[0].call(event, data)
        assert answer["error"]["code"] == "forbidden", (event, answer)
    assert session_of(meeting).seq == seq


async def test_impossible_parameters_get_clear_codes(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    await crowd(meeting, 3)
    cases = [({"group_count": 0}, "invalid_group_count"),
             ({"group_count": 4}, "too_many_groups"),
             ({"group_count": 2, "duration_s": 10}, "invalid_duration"),
             ({"group_count": 2, "duration_s": 99999}, "invalid_duration"),
             ({"strategy": "manual", "group_count": 2, "mapping": {"ghost": 0}},
              "unknown_participant"),
             ({"strategy": "keep"}, "no_previous_round"),
             ({"strategy": "nonsense"}, "invalid_payload")]
    for spec, code in cases:
        answer = await fia.call("round.preview", spec)
        assert answer["error"]["code"] == code, (spec, answer)
    assert (await fia.call("round.close"))["error"]["code"] == "no_round"
    assert session_of(meeting).rounds == []


async def test_deadline_closing_countdown_and_return(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 60, "closing_s": 1,
                                    "warning_s": 1})
    await fia.ok("round.open")
    await fia.ok("round.extend", {"delta_s": -58})  # the deadline is 2 s away
    server = meeting.server
    await server.advance(0.999)
    assert fia.inbox.events("round.warned") == []
    for step, kind in [(0.001, "round.warned"), (1, "round.closing"), (1, "round.closed")]:
        await server.advance(step)
        for client in people:
            await client.inbox.wait("event", lambda e, kind=kind: e["type"] == kind)  # type: ignore[misc]
    for client in people:
        warned, closing, closed = (client.inbox.events(kind)[0] for kind in (
            "round.warned", "round.closing", "round.closed"))
        assert warned["seq"] < closing["seq"] < closed["seq"]
        assert closed["data"]["reason"] == "deadline" and closed["actor"] == "system"
        assert closed["data"]["moves"][client.participant] == "plenary"
        assert closed["ts"] == closing["data"]["closes_at"]  # on time, to the millisecond
    assert all(p.room == "plenary" for p in session_of(meeting).meeting.present())


async def test_concurrent_open_and_close_give_one_each(meeting: Meeting) -> None:
    fia = await meeting.facilitator("Fia")
    fred = await meeting.facilitator("Fred", "Vasa")
    await crowd(meeting, 4)
    await fia.ok("round.preview", {"group_count": 2})
    opens = await asyncio.gather(fia.call("round.open"), fred.call("round.open"))
    assert sorted(a["ok"] for a in opens) == [False, True]
    assert next(a for a in opens if not a["ok"])["error"]["code"] == "round_already_open"
    closes = await asyncio.gather(fia.call("round.close"), fred.call("round.close"))
    assert sorted(a["ok"] for a in closes) == [False, True]
    assert next(a for a in closes if not a["ok"])["error"]["code"] == "round_already_closed"
    log = session_of(meeting)
    assert len([r for r in log.rounds if r.opened_at]) == 1


async def test_late_joiner_and_returning_participant_land_in_a_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await fia.ok("round.preview", {"group_count": 2})
    await fia.ok("round.open")
    late = await meeting.participant("Sen", "Jakobstad")
    welcome = await late.inbox.wait("welcome")
    r = session_of(meeting).current()
    me = next(p for p in welcome["snapshot"]["participants"] if p["id"] == late.participant)
    assert me["room"] == r.room_of(late.participant)
    assert welcome["snapshot"]["round"]["phase"] == "open"
    bo = people[0]
    room = r.room_of(bo.participant)
    await bo.sio.disconnect()
    back = meeting.server.client(meeting.tokens["participant"], resume=bo.resume_token)
    await back.connect()
    await back.ok("join", {})
    assert session_of(meeting).meeting.participants[bo.participant].room == room
    await back.ok("chat", {"text": "tillbaka i gruppen"})
    mates = [c for c in people if c.participant in r.groups[r.group_of(bo.participant)]
             and c is not bo]
    await mates[0].inbox.wait("event", lambda e: e["type"] == "chat.sent"
                              and e["data"]["text"] == "tillbaka i gruppen")


async def test_help_visit_and_leave(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await fia.ok("round.preview", {"group_count": 2})
    await fia.ok("round.open")
    asker = people[0]
    await asker.inbox.wait("event", lambda e: e["type"] == "round.opened")
    await asker.ok("help.request")
    seen = await fia.inbox.wait("event", lambda e: e["type"] == "help.requested")
    assert seen["data"]["participant"] == asker.participant
    await fia.ok("round.visit", {"group": seen["data"]["group"]})
    answered = await asker.inbox.wait("event", lambda e: e["type"] == "help.answered")
    assert answered["data"]["by"] == fia.participant
    await fia.ok("chat", {"text": "Hej, jag är här"})
    await asker.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                           and e["actor"] == fia.participant)
    await fia.ok("round.visit", {"group": None})
    assert session_of(meeting).meeting.participants[fia.participant].room == "plenary"


async def test_restart_mid_round_ends_at_the_same_deadline(tmp_path, serializer) -> None:  # type: ignore[no-untyped-def]
    data, clock = tmp_path / "data", FakeClock()
    first = await start_server(data, serializer, grace_s=30, clock=clock)
    m = await first.new_meeting()
    fia = await m.facilitator()
    await crowd(m, 4)
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 60, "closing_s": 0,
                                    "warning_s": 0})
    await fia.ok("round.open")
    await fia.ok("round.extend", {"delta_s": -58})
    deadline = first.app[HUB].get(m.id).state.current().deadline
    await first.stop()
    await first.advance(1)  # the server is down for a second
    second = await start_server(data, serializer, grace_s=30, port=first.port, clock=clock)
    try:
        m2 = Meeting(second, m.id, m.tokens)
        fia2 = second.client(m.tokens["facilitator"], resume=fia.resume_token)
        await fia2.connect()
        await fia2.ok("join", {})
        await second.advance(0.999)
        assert second.app[HUB].get(m.id).state.current().phase == "open"
        await second.advance(0.001)
        closed = await fia2.inbox.wait("event", lambda e: e["type"] == "round.closed")
        assert closed["actor"] == "system"
        assert closed["ts"] == deadline
        assert all(p.room == "plenary" for p in session_of(m2).meeting.present())
    finally:
        await second.stop()


async def test_restart_after_the_deadline_closes_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data, clock = tmp_path / "data", FakeClock()
    first = await start_server(data, grace_s=30, clock=clock)
    m = await first.new_meeting()
    fia = await m.facilitator()
    await crowd(m, 2)
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 60, "closing_s": 0})
    await fia.ok("round.open")
    await fia.ok("round.extend", {"delta_s": -59})
    await first.stop()
    await first.advance(1.2)  # the server is down while the deadline passes
    second = await start_server(data, grace_s=30, clock=clock)  # its time stands still
    try:
        again = second.client(m.tokens["facilitator"], resume=fia.resume_token)
        await again.connect()
        await again.ok("join", {})
        welcome = await again.inbox.wait("welcome")
        if welcome["snapshot"]["round"]["phase"] != "closed":
            await again.inbox.wait("event", lambda e: e["type"] == "round.closed")
        assert second.app[HUB].get(m.id).state.rounds[-1].phase == "closed"
    finally:
        await second.stop()


async def test_network_report_counts_who_met_whom(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 6)
    for _ in range(2):
        await fia.ok("round.preview", {"group_count": 2})
        await fia.ok("round.open")
        await fia.ok("round.close")
    report = await fia.ok("network")
    assert [r["number"] for r in report["rounds"]] == [1, 2]
    assert all(r["same_municipality_pairs"] == 0 for r in report["rounds"])
    met = {p["id"]: p["people_met"] for p in report["participants"]}
    assert all(met[c.participant] >= 2 for c in people)
    status, rest = await meeting.server.api("GET", f"/api/meetings/{meeting.id}/network")
    assert status == 200 and rest == report


async def test_agenda_template_prefills_a_round(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    templates = await fia.ok("agenda.templates")
    ids = {t["id"] for t in templates["templates"]}
    assert {"resident_experience", "creativity_problem_solving", "self_leadership",
            "conflict_management"} <= ids
    await fia.ok("agenda.set", {"template": "conflict_management", "lang": "fi"})
    agenda = session_of(meeting).agenda
    index = next(i for i, a in enumerate(agenda.activities) if a["kind"] == "breakout")
    await fia.ok("agenda.start", {"index": index})
    started = await fia.inbox.wait("event", lambda e: e["type"] == "agenda.started")
    activity = started["data"]["activity"]
    assert activity["prompt"] and activity["kind"] == "breakout"
    bad = await fia.call("agenda.start", {"index": 999})
    assert bad["error"]["code"] == "invalid_activity_index"


async def test_regroup_manual_self_select_and_keep(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 6)
    ids = [c.participant for c in people]
    await fia.ok("round.preview", {"group_count": 2})
    preview = session_of(meeting).current()
    mover = preview.groups[0][0]
    await fia.ok("round.regroup", {"participant": mover, "group": 1})
    assert mover in session_of(meeting).current().groups[1]
    mapping = {ids[0]: 0, ids[1]: 0, ids[2]: 1}
    await fia.ok("round.preview", {"strategy": "manual", "group_count": 2, "mapping": mapping})
    groups = session_of(meeting).current().groups
    assert {ids[0], ids[1]} <= set(groups[0]) and ids[2] in groups[1]
    await fia.ok("round.preview", {"strategy": "self-select", "group_count": 3, "capacity": 2})
    await people[0].ok("round.choose", {"group": 2})
    await people[1].ok("round.choose", {"group": 2})
    full = await people[2].call("round.choose", {"group": 2})
    assert full["error"]["code"] == "group_full"
    not_allowed = await fia.call("round.choose", {"group": 0})
    assert not_allowed["error"]["code"] == "unknown_participant"
    await fia.ok("round.open")
    chosen = session_of(meeting).current()
    assert set(chosen.groups[2]) == {ids[0], ids[1]}
    assert sorted(len(g) for g in chosen.groups) == [2, 2, 2]
    await fia.ok("round.close")
    await fia.ok("round.preview", {"strategy": "keep"})
    await fia.ok("round.open")
    assert session_of(meeting).current().groups == chosen.groups
