"""Resuming within the grace period, second tabs, catch-up and restarts."""

import asyncio
from typing import Any

import pytest

from server.keys import GATEWAY, HUB
from tests.support import Meeting, RunningServer, start_server


def state_of(meeting: Meeting):  # type: ignore[no-untyped-def]
    return meeting.server.app[HUB].get(meeting.id).state.meeting


async def test_resume_within_grace_keeps_the_participant(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    await bo.sio.disconnect()
    await anna.inbox.wait("presence", lambda d: d["participant"] == bo.participant
                          and d["online"] is False)
    back = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                 resume=bo.resume_token, last_seq=bo.last_seq())
    await back.connect()
    answer = await back.call("join", {})
    assert answer["ok"] and answer["data"]["participant"] == bo.participant
    await anna.inbox.wait("presence", lambda d: d["participant"] == bo.participant
                          and d["online"] is True)
    await meeting.server.advance(meeting.server.settings.grace_s + 1)  # past the grace period
    assert anna.inbox.events("participant.left") == []
    bos = [p for p in state_of(meeting).participants.values() if p.name == "Bo"]
    assert len(bos) == 1 and bos[0].present


async def test_dropped_participant_leaves_after_grace(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    await bo.sio.disconnect()
    await anna.inbox.wait("presence", lambda d: d == {"participant": bo.participant,
                                                      "online": False})
    await meeting.server.advance(meeting.server.settings.grace_s - 0.1)
    assert anna.inbox.events("participant.left") == []
    await meeting.server.advance(0.1)
    left = await anna.inbox.wait("event", lambda e: e["type"] == "participant.left")
    assert left["data"] == {"id": bo.participant, "reason": "timeout"}
    assert left["actor"] == "system"


async def test_reconnect_receives_what_it_missed(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    seen = bo.last_seq()
    await bo.sio.disconnect()
    for i in range(3):
        assert (await anna.call("chat", {"text": f"medan du var borta {i}"}))["ok"]
    back = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                 resume=bo.resume_token, last_seq=seen)
    await back.connect()
    assert (await back.call("join", {}))["ok"]
    welcome = await back.inbox.wait("welcome")
    assert "snapshot" not in welcome
    texts = [e["data"]["text"] for e in welcome["missed"] if e["type"] == "chat.sent"]
    assert texts == [f"medan du var borta {i}" for i in range(3)]
    assert all(e["seq"] > seen for e in welcome["missed"])
    assert welcome["seq"] == state_of(meeting).seq


async def test_second_tab_replaces_the_first(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    tab2 = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                 resume=anna.resume_token)
    await tab2.connect()
    assert (await tab2.call("join", {}))["data"]["participant"] == anna.participant
    await anna.inbox.wait("session.replaced")
    assert await anna.disconnected()
    assert (await tab2.call("chat", {"text": "från andra fliken"}))["ok"]
    present = [p for p in state_of(meeting).participants.values() if p.present]
    assert len(present) == 1
    assert [e for e in tab2.inbox.events("participant.left")] == []


async def test_restart_loses_nothing(tmp_path, serializer) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    first = await start_server(data, serializer, grace_s=30.0)
    m = await first.new_meeting("Omstart")
    meeting_id, tokens = m.id, m.tokens
    fia = await m.facilitator()
    anna = await m.participant("Anna", "Raseborg")
    bo = await m.participant("Bo", "Vasa")
    for text in ("ett", "två", "tre"):
        assert (await anna.call("chat", {"text": text}))["ok"]
    assert (await bo.call("hand.raise"))["ok"]
    assert (await anna.call("hand.raise"))["ok"]
    before = first.app[HUB].get(meeting_id).state.meeting
    seq_before = before.seq
    anna_resume, anna_id = anna.resume_token, anna.participant
    await first.stop()

    second = await start_server(data, serializer, grace_s=30.0, port=first.port)
    try:
        state = second.app[HUB].get(meeting_id).state.meeting
        assert state.seq == seq_before
        assert state.title == "Omstart"
        assert [p.name for p in state.participants.values()] == ["Fia", "Anna", "Bo"]
        assert [c.text for c in state.chat["plenary"]] == ["ett", "två", "tre"]
        assert state.hands == [bo.participant, anna_id]
        fia2 = second.client(tokens["facilitator"], meeting=meeting_id, resume=fia.resume_token)
        await fia2.connect()
        assert (await fia2.call("join", {}))["data"]["participant"] == fia.participant
        welcome = await fia2.inbox.wait("welcome")
        assert anna_id not in welcome["online"]
        again = second.client(tokens["participant"], meeting=meeting_id, resume=anna_resume)
        await again.connect()
        assert (await again.call("join", {}))["data"]["participant"] == anna_id
        await fia2.inbox.wait("presence", lambda d: d["participant"] == anna_id and d["online"])
        assert (await again.call("chat", {"text": "fyra"}))["ok"]
        got = await fia2.inbox.wait("event", lambda e: e["type"] == "chat.sent")
        assert got["data"]["text"] == "fyra" and got["actor"] == anna_id
        assert got["seq"] == seq_before + 1  # resuming logs nothing: no gap, no loss
        assert len(second.app[HUB].get(meeting_id).state.meeting.participants) == 3
    finally:
        await second.stop()


async def test_snapshot_recovery_matches_full_replay(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    first = await start_server(data, snapshot_every=10)
    m = await first.new_meeting()
    anna = await m.participant()
    for i in range(25):
        assert (await anna.call("chat", {"text": str(i)}))["ok"]
    expected = first.app[HUB].get(m.id).state
    from server.state import encode_snapshot
    expected_blob = encode_snapshot(expected)
    await first.stop()
    second: RunningServer = await start_server(data, snapshot_every=10)
    try:
        assert encode_snapshot(second.app[HUB].get(m.id).state) == expected_blob
    finally:
        await second.stop()


async def test_a_connection_closed_while_its_join_is_written_is_told_gone(
        meeting: Meeting, monkeypatch: pytest.MonkeyPatch) -> None:
    """participant.joined tells the meeting someone came online. If their connection
    closes before the join is done (the store still writing it), the meeting hears
    they went, and they leave after the grace period like any dropped participant."""
    anna = await meeting.participant("Anna")
    live = meeting.server.app[HUB].get(meeting.id)
    store, entered, held = live._store, asyncio.Event(), asyncio.Event()
    begin = store.begin_append

    async def durable_once_held(done: Any) -> None:
        await held.wait()  # the joiner's connection closes meanwhile
        await done

    def slow_begin(meeting_id: str, events: Any, *rest: Any) -> Any:
        done = begin(meeting_id, events, *rest)
        if not any(e.type == "participant.joined" for e in events):
            return done
        entered.set()
        return asyncio.ensure_future(durable_once_held(done))

    monkeypatch.setattr(store, "begin_append", slow_begin)
    bo = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id)
    await bo.connect()
    joining = asyncio.ensure_future(bo.call("join", {"name": "Bo", "municipality": "Vasa"}))
    await asyncio.wait_for(entered.wait(), 5)
    # closed by the server meanwhile (its reader waits for the join: the client's own
    # close would be read after it), as a meeting's end or a backlog cut closes it
    await meeting.server.app[GATEWAY].sio.disconnect(bo.sio.get_sid())
    held.set()
    joined = await anna.inbox.wait("event", lambda e: e["type"] == "participant.joined")
    bo_id = joined["data"]["id"]
    await anna.inbox.wait("presence", lambda d: d == {"participant": bo_id, "online": False})
    joining.cancel()
    await meeting.server.advance(meeting.server.settings.grace_s + 0.1)
    left = await anna.inbox.wait("event", lambda e: e["type"] == "participant.left")
    assert left["data"] == {"id": bo_id, "reason": "timeout"}
