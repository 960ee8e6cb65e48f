"""Who is talking: a participant's browser sends its own `speaking` state; the server
forwards it to the meeting's facilitators only, never logs it, and refuses garbage.
Real server, real Socket.IO clients (json and msgpack; websocket and long-polling)."""

from typing import Any

import pytest

from server.keys import HUB
from tests.support import Client, Meeting


def listen(*clients: Client) -> None:
    for c in clients:
        c.sio.on("speaking", c._recorder("speaking"))


async def settle(*clients: Client) -> None:
    """A round trip per client: whatever the server emitted to it before is in its inbox."""
    for c in clients:
        await c.ok("ice.refresh", {})


def seq_of(meeting: Meeting) -> int:
    return int(meeting.server.app[HUB].get(meeting.id).state.seq)


async def group_round(meeting: Meeting) -> tuple[Client, list[Client]]:
    fia = await meeting.facilitator()
    people = [await meeting.participant(n, m) for n, m in
              [("Anna", "Vasa"), ("Bo", "Esbo"), ("Cy", "Borgå"), ("Di", "Raseborg")]]
    listen(fia, *people)
    await fia.ok("round.preview", {"group_count": 2, "duration_s": 600})
    await fia.ok("round.open")
    for c in people:
        await c.inbox.wait("event", lambda e: e["type"] == "round.opened")
    return fia, people


async def check_reaches_facilitators_only(meeting: Meeting) -> None:
    fia, people = await group_round(meeting)
    other = await meeting.server.new_meeting("Annat möte")
    stranger = await other.facilitator("Ulla", "Vasa")
    listen(stranger)
    session = meeting.server.app[HUB].get(meeting.id).state
    anna = people[0]
    room = session.meeting.participants[anna.participant].room
    assert room != "plenary"
    before = seq_of(meeting)

    assert await anna.ok("speaking", {"on": True}) == {}
    got = await fia.inbox.wait("speaking", lambda d: d["on"] is True)
    assert got == {"participant": anna.participant, "room": room, "on": True}
    assert await anna.ok("speaking", {"on": False}) == {}
    await fia.inbox.wait("speaking", lambda d: d["on"] is False)

    await settle(*people, stranger)
    assert [c.inbox.named("speaking") for c in [*people, stranger]] == [[]] * 5
    assert seq_of(meeting) == before  # not logged
    status, log = await meeting.server.api("GET", f"/api/meetings/{meeting.id}/log")
    assert status == 200 and "speaking" not in str(log)


async def test_speaking_reaches_the_facilitators_only(meeting: Meeting) -> None:
    await check_reaches_facilitators_only(meeting)


async def test_speaking_over_long_polling(meeting: Meeting) -> None:
    meeting.server.transports = ("polling",)
    await check_reaches_facilitators_only(meeting)
    assert meeting.server.clients[0].sio.transport() == "polling"


@pytest.mark.parametrize("payload", [
    {}, {"on": "yes"}, {"on": 1}, {"on": None}, {"on": True, "participant": "x"},
    {"on": True, "room": "plenary"}, "on", None, [True], {"on": [True]},
])
async def test_garbage_is_refused_and_changes_nothing(meeting: Meeting, payload: Any) -> None:
    fia = await meeting.facilitator()
    anna = await meeting.participant()
    listen(fia)
    before = seq_of(meeting)
    answer = await anna.call("speaking", payload)
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_payload", answer
    await settle(fia)
    assert fia.inbox.named("speaking") == [] and seq_of(meeting) == before


async def test_not_before_joining_and_rate_limited(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    listen(fia)
    lurker = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id)
    await lurker.connect()
    early = await lurker.call("speaking", {"on": True})
    assert early["ok"] is False and early["error"]["code"] == "not_joined", early
    anna = await meeting.participant()
    answers = [await anna.call("speaking", {"on": i % 2 == 0}) for i in range(9)]
    assert [a["ok"] for a in answers] == [True] * 8 + [False]
    assert answers[-1]["error"]["code"] == "rate_limited"
    await settle(fia)
    assert len(fia.inbox.named("speaking")) == 8
