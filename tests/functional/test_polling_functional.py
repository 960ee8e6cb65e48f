"""Long-polling only: every event family works without WebSockets, with both serializers.

A proxy that blocks WebSockets leaves Engine.IO's long-polling; the server's
pre-encoded broadcast path must serve those recipients too.
"""

import pytest

from server.keys import HUB
from tests.functional.test_boards_functional import Replica, stroke
from tests.support import Client, Meeting, RunningServer

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 10.77.0.1\r\ns=-\r\nt=0 0\r\n"}


@pytest.fixture
async def meeting(server: RunningServer) -> Meeting:
    server.transports = ("polling",)
    return await server.new_meeting()


def polling(*clients: Client) -> None:
    for c in clients:
        assert c.sio.transport() == "polling"


async def test_polling_join_gets_welcome_and_the_others_see_it(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    welcome = await anna.inbox.wait("welcome")
    assert welcome["snapshot"]["meeting"]["id"] == meeting.id
    bo = await meeting.participant("Bo", "Vasa")
    polling(anna, bo)
    await anna.inbox.wait("event", lambda e: e["type"] == "participant.joined"
                          and e["data"]["id"] == bo.participant)
    await bo.sio.disconnect()
    await anna.inbox.wait("presence", lambda d: d == {"participant": bo.participant,
                                                      "online": False})


async def test_polling_chat(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    polling(anna, bo)
    for i in range(3):
        await anna.ok("chat", {"text": f"hej {i} åäö"})
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                        and e["data"]["text"] == "hej 2 åäö")
    assert [e["data"]["text"] for e in bo.inbox.events("chat.sent")] == [
        f"hej {i} åäö" for i in range(3)]


async def test_polling_hands_and_reactions(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    anna = await meeting.participant("Anna")
    polling(fia, anna)
    await anna.ok("hand.raise")
    await fia.inbox.wait("event", lambda e: e["type"] == "hand.raised")
    await fia.ok("hands.clear")
    await anna.inbox.wait("event", lambda e: e["type"] == "hands.cleared")
    await anna.ok("react", {"emoji": "👏"})
    got = await fia.inbox.wait("event", lambda e: e["type"] == "reaction.sent")
    assert got["data"] == {"room": "plenary", "emoji": "👏"}


async def test_polling_rounds(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = [await meeting.participant(f"D {i}", m)
              for i, m in enumerate(["Vasa", "Borgå", "Esbo", "Pargas"])]
    polling(fia, *people)
    await fia.ok("round.preview", {"group_count": 2, "prompt": "Vad är en bra dag?"})
    await fia.ok("round.open")
    for c in people:
        opened = await c.inbox.wait("event", lambda e: e["type"] == "round.opened")
        assert c.participant in opened["data"]["moves"]
    await fia.ok("round.broadcast", {"text": "Fem minuter kvar!"})
    for c in people:
        await c.inbox.wait("event", lambda e: e["type"] == "round.broadcast")
    assert meeting.server.app[HUB].get(meeting.id).state.current() is not None


async def test_polling_boards_carry_binary(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    polling(anna, bo)
    mine = Replica()
    await anna.ok("board.update", {"update": mine.add("s1", **stroke())})
    got = await bo.inbox.wait("event", lambda e: e["type"] == "board.updated")
    theirs = Replica()
    theirs.apply(got["data"]["update"])
    assert theirs.ids() == {"s1"}
    late = await meeting.participant("Cilla", "Borgå")
    state = await late.inbox.wait("board.state")
    fresh = Replica()
    fresh.apply(state["update"])
    assert fresh.ids() == {"s1"}


async def test_polling_signalling(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    polling(anna, bo)
    await anna.inbox.wait("peers", lambda d: any(p["id"] == bo.participant for p in d["peers"]))
    await anna.ok("signal", {"to": bo.participant, "description": OFFER})
    assert await bo.inbox.wait("signal") == {"from": anna.participant, "description": OFFER}


async def test_polling_sync_returns_what_was_missed(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    polling(anna, bo)
    seen = bo.last_seq()
    await anna.ok("chat", {"text": "missat?"})
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    answer = await bo.ok("sync", {"last_seq": seen})
    missed = answer["welcome"].get("missed", [])
    assert [e["data"]["text"] for e in missed if e["type"] == "chat.sent"] == ["missat?"]
