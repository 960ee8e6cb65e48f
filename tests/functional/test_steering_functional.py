"""Steering a programme day: moving people during a round, a message to one group,
closing with the countdown, 30-second warm-ups, hands around a round, the join page's
meeting info and the favicon. Real server, real Socket.IO clients."""

from typing import Any

import aiohttp

from server.keys import HUB
from tests.support import Client, Meeting

MUNIS = ["Vasa", "Borgå", "Raseborg", "Esbo", "Helsingfors", "Kimitoön"]


def session_of(meeting: Meeting) -> Any:
    return meeting.server.app[HUB].get(meeting.id).state


async def crowd(meeting: Meeting, n: int) -> list[Client]:
    return [await meeting.participant(f"Deltagare {i}", MUNIS[i % len(MUNIS)]) for i in range(n)]


async def open_round(fia: Client, people: list[Client], **spec: Any) -> Any:
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 600, **spec})
    await fia.ok("round.open")
    for c in people:
        await c.inbox.wait("event", lambda e: e["type"] == "round.opened")


def room_of(meeting: Meeting, client: Client) -> str:
    return str(session_of(meeting).meeting.participants[client.participant].room)


async def test_facilitator_moves_a_person_to_another_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await open_round(fia, people)
    r = session_of(meeting).current()
    mover = next(c for c in people if c.participant == r.groups[0][0])
    await fia.ok("round.move", {"participant": mover.participant, "group": 1})
    moved = await people[-1].inbox.wait("event", lambda e: e["type"] == "round.moved")
    assert moved["data"]["moves"] == {mover.participant: r.rooms[1]}
    assert moved["data"]["by"] == fia.participant and moved["data"]["group"] == 1
    assert mover.participant in session_of(meeting).current().groups[1]
    assert mover.participant not in session_of(meeting).current().groups[0]
    assert room_of(meeting, mover) == r.rooms[1]
    # ...and to the plenary; the board of the new room follows the move.
    await mover.inbox.wait("board.state", lambda d: d["room"] == r.rooms[1])
    await fia.ok("round.move", {"participant": mover.participant, "group": None})
    assert room_of(meeting, mover) == "plenary"
    # Participants cannot move others; a facilitator cannot be moved; bad groups.
    seq = session_of(meeting).seq
    assert (await people[1].call("round.move", {"participant": mover.participant, "group": 0})
            )["error"]["code"] == "forbidden"
    assert (await fia.call("round.move", {"participant": fia.participant, "group": 0})
            )["error"]["code"] == "unknown_participant"
    assert (await fia.call("round.move", {"participant": mover.participant, "group": 7})
            )["error"]["code"] == "invalid_group_index"
    assert session_of(meeting).seq == seq


async def test_participant_changes_group_only_when_the_round_allows_it(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await open_round(fia, people)
    answer = await people[0].call("round.go", {"group": None})
    assert answer["error"]["code"] == "round_not_roaming"
    await fia.ok("round.close")
    await open_round(fia, people, roaming=True)
    r = session_of(meeting).current()
    assert r.roaming
    me = people[0]
    other = 1 - r.group_of(me.participant)
    await me.ok("round.go", {"group": other})
    assert room_of(meeting, me) == r.rooms[other]
    await me.ok("round.go", {"group": None})
    assert room_of(meeting, me) == "plenary"
    assert r.group_of(me.participant) is None
    # The round's close brings the rest back; the one in the plenary stays there.
    await fia.ok("round.close")
    assert all(room_of(meeting, c) == "plenary" for c in people)


async def test_message_to_one_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await open_round(fia, people)
    r = session_of(meeting).current()
    await fia.ok("round.message", {"group": 0, "text": "Grupp 1: sammanfatta nu"})
    got = await fia.inbox.wait("event", lambda e: e["type"] == "round.messaged")
    assert got["data"]["room"] == r.rooms[0]
    for c in people:
        if c.participant in r.groups[0]:
            await c.inbox.wait("event", lambda e: e["type"] == "round.messaged")
    outside = [c for c in people if c.participant in r.groups[1]]
    await fia.ok("round.broadcast", {"text": "alla"})  # later than the message
    for c in outside:
        await c.inbox.wait("event", lambda e: e["type"] == "round.broadcast")
        assert c.inbox.events("round.messaged") == []
    assert (await people[0].call("round.message", {"group": 0, "text": "x"})
            )["error"]["code"] == "forbidden"


async def test_close_early_with_the_countdown_and_short_rounds(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 2)
    await fia.ok("round.preview", {"group_count": 1, "duration_s": 30, "closing_s": 1,
                                   "warning_s": 10})
    await fia.ok("round.open")
    await fia.ok("round.close", {"countdown": True})
    closing = await people[0].inbox.wait("event", lambda e: e["type"] == "round.closing")
    assert closing["actor"] == fia.participant
    await meeting.server.advance(0.999)
    assert session_of(meeting).current().phase == "closing"
    await meeting.server.advance(0.001)  # the countdown's second is over
    closed = await people[0].inbox.wait("event", lambda e: e["type"] == "round.closed")
    assert closed["data"]["reason"] == "deadline"
    assert closed["ts"] == closing["data"]["closes_at"]
    answer = await fia.call("round.preview", {"group_count": 1, "duration_s": 29})
    assert answer["error"]["code"] == "invalid_duration"


async def test_hands_are_put_aside_by_a_round_and_restored_after(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 3)
    for c in (people[2], people[0]):
        await c.ok("hand.raise")
    await fia.ok("round.preview", {"group_count": 1, "duration_s": 60})
    await fia.ok("round.open")
    cleared = await people[1].inbox.wait("event", lambda e: e["type"] == "hands.cleared")
    assert cleared["data"] == {"reason": "round", "hands": [people[2].participant,
                                                            people[0].participant]}
    assert session_of(meeting).meeting.hands == []
    assert (await fia.call("hands.restore"))["error"]["code"] == "invalid_round"
    await fia.ok("round.close")
    await people[1].ok("hand.raise")
    assert (await people[1].call("hands.restore"))["error"]["code"] == "forbidden"
    await fia.ok("hands.restore")
    assert session_of(meeting).meeting.hands == [people[2].participant, people[0].participant,
                                                  people[1].participant]
    assert (await fia.call("hands.restore"))["error"]["code"] == "no_hands_to_restore"


async def test_invite_info_before_joining_and_favicon(meeting: Meeting) -> None:
    for role in ("facilitator", "participant"):
        c = meeting.server.client(meeting.tokens[role], meeting=meeting.id)
        await c.connect()
        info = await c.ok("invite.info")
        assert info == {"title": "Ledarstig 1", "starts_at": "2026-12-01T09:00:00+02:00",
                        "role": role}
    async with aiohttp.ClientSession() as http, http.get(
            meeting.server.url + "/favicon.ico") as resp:
        assert resp.status == 200
        assert (await resp.read())[:4] == b"\x00\x00\x01\x00"  # an ICO file


async def test_console_overview_sees_every_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 4)
    await open_round(fia, people, prompt="Vad gör en bra dag?")  # its seed is no edit
    r = session_of(meeting).current()
    someone = next(c for c in people if c.participant == r.groups[1][0])
    await someone.ok("media", {"mic": True, "camera": False})
    changed = await fia.inbox.wait("event", lambda e: e["type"] == "media.changed")
    assert changed["data"]["room"] == r.rooms[1] and changed["data"]["mic"] is True
    await someone.ok("board.update", {"update": b"\x00\x00"})
    overview = await fia.ok("round.overview")
    assert overview["rooms"] == {r.rooms[0]: {"board_edits": 0},
                                 r.rooms[1]: {"board_edits": 1}}
    assert (await someone.call("round.overview"))["error"]["code"] == "forbidden"


async def test_accessibility_statement_in_three_languages(meeting: Meeting) -> None:
    async with aiohttp.ClientSession() as http:
        for query, header, heading in (("?lang=fi", "", "Saavutettavuusseloste"),
                                       ("", "en-GB,en;q=0.8", "Accessibility statement"),
                                       ("", "", "Tillgänglighetsutlåtande")):
            async with http.get(meeting.server.url + "/accessibility" + query,
                                headers={"Accept-Language": header} if header else {}) as r:
                assert r.status == 200 and r.content_type == "text/html"
                page = await r.text()
            assert f"<h1>{heading}</h1>" in page and "WCAG 2.1" in page


async def test_chat_said_while_you_were_in_a_group(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = await crowd(meeting, 2)
    seen = (await fia.ok("chat", {"text": "före"}))["seq"]  # the last the client has
    await open_round(fia, people)
    await fia.ok("chat", {"text": "medan ni var borta"})
    await people[0].ok("chat", {"text": "i gruppen"})
    history = await people[0].ok("chat.history")
    assert [m["text"] for m in history["messages"]] == ["i gruppen"]
    await fia.ok("round.close")
    back = await people[0].ok("chat.history", {"after": seen})
    assert back["room"] == "plenary"
    assert [m["text"] for m in back["messages"]] == ["medan ni var borta"]
    assert [m["text"] for m in (await people[0].ok("chat.history"))["messages"]] == [
        "före", "medan ni var borta"]
