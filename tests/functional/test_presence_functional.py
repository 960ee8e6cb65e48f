"""Join, presence, chat, hands and reactions with real clients."""

from server.keys import HUB
from tests.support import Meeting


async def test_join_gets_welcome_snapshot_and_others_see_it(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna", "Raseborg", title="Rektor")
    welcome = await anna.inbox.wait("welcome")
    assert welcome["participant"] == anna.participant
    snap = welcome["snapshot"]
    assert snap["meeting"]["id"] == meeting.id
    assert [p["name"] for p in snap["participants"]] == ["Anna"]
    assert snap["participants"][0]["title"] == "Rektor"

    bo = await meeting.participant("Bo", "Vasa")
    joined = await anna.inbox.wait("event", lambda e: e["type"] == "participant.joined"
                                   and e["data"]["id"] == bo.participant)
    assert joined["data"]["municipality"] == "Vasa"
    assert joined["seq"] > welcome["seq"]
    # The event says Bo is online: no presence follows a join (docs/protocol.md).
    await anna.ok("chat", {"text": "after Bo's join"})
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    assert not [d for d in anna.inbox.named("presence") if d["participant"] == bo.participant]
    assert not bo.inbox.named("presence")  # its welcome says it is online
    assert bo.participant in bo.inbox.named("welcome")[0]["online"]


async def test_chat_is_room_scoped_and_ordered(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    for i in range(5):
        answer = await anna.call("chat", {"text": f"hej {i}"})
        assert answer["ok"], answer
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                        and e["data"]["text"] == "hej 4")
    texts = [e["data"]["text"] for e in bo.inbox.events("chat.sent")]
    assert texts == [f"hej {i}" for i in range(5)]
    seqs = [e["seq"] for e in bo.inbox.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_hand_queue_order_and_facilitator_clear(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    assert (await bo.call("hand.raise"))["ok"]
    assert (await anna.call("hand.raise"))["ok"]
    again = await anna.call("hand.raise")
    assert again["error"]["code"] == "hand_already_raised"
    forbidden = await anna.call("hands.clear")
    assert forbidden == {"ok": False, "error": {"code": "forbidden",
                                                "message": "Only a facilitator may do that."}}
    other = await anna.call("hand.lower", {"participant": bo.participant})
    assert other["error"]["code"] == "forbidden"
    live = meeting.server.app[HUB].get(meeting.id).state.meeting
    assert live.hands == [bo.participant, anna.participant]
    assert (await fia.call("hand.lower", {"participant": bo.participant}))["ok"]
    assert live.hands == [anna.participant]
    assert (await fia.call("hands.clear"))["ok"]
    await anna.inbox.wait("event", lambda e: e["type"] == "hands.cleared")
    assert live.hands == []


async def test_reactions_go_to_the_room(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    assert (await anna.call("react", {"emoji": "👏"}))["ok"]
    got = await bo.inbox.wait("event", lambda e: e["type"] == "reaction.sent")
    assert got["data"] == {"room": "plenary", "emoji": "👏"}
    assert got["actor"] == anna.participant
    bad = await anna.call("react", {"emoji": "💣"})
    assert bad["error"]["code"] == "invalid_value"


async def test_leave_is_logged_and_seen(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    assert (await bo.call("leave"))["ok"]
    left = await anna.inbox.wait("event", lambda e: e["type"] == "participant.left")
    assert left["data"] == {"id": bo.participant, "reason": "left"}
    after = await bo.call("chat", {"text": "still here?"})
    assert after["error"]["code"] == "not_joined"


async def test_joining_again_on_the_same_connection_gets_a_plan_with_its_welcome(
        meeting: Meeting) -> None:
    """Leave, then join again without reconnecting: the connection's plan of before is
    forgotten at the leave, so its first plan comes in its new welcome, not before it (a
    plan before the welcome reaches a client with no meeting; the same plan then never
    came again)."""
    await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    assert (await bo.call("leave"))["ok"]
    before = len(bo.inbox.items)
    assert (await bo.call("join", {"name": "Bo", "municipality": "Vasa"}))["ok"]
    await bo.inbox.wait("peers", lambda d: d["peers"], timeout=3)
    names = [name for name, _ in bo.inbox.items[before:]]
    assert "welcome" in names and "peers" in names
    assert names.index("welcome") < names.index("peers"), names
    assert bo.inbox.named("welcome")[-1]["peers"]["peers"]
