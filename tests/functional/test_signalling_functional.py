"""The signalling relay: room-scoped, sender-stamped, never logged."""

import asyncio
import base64
import hashlib
import hmac

import pytest

from server.keys import HUB, STORE
from tests.support import Meeting, start_server
from tests.webrtc import Peer, needs_netns

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 10.77.0.1\r\ns=-\r\nt=0 0\r\n"}



async def test_signal_is_relayed_with_the_stamped_sender(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    plan = await anna.inbox.wait("peers", lambda d: any(p["id"] == bo.participant
                                                        for p in d["peers"]))
    assert plan["mode"] == "mesh" and plan["publish"] is True
    mine = next(p for p in plan["peers"] if p["id"] == bo.participant)
    theirs = await bo.inbox.wait("peers", lambda d: d["peers"])
    assert mine["polite"] != theirs["peers"][0]["polite"]
    await anna.ok("signal", {"to": bo.participant, "description": OFFER})
    got = await bo.inbox.wait("signal")
    assert got == {"from": anna.participant, "description": OFFER}
    await bo.ok("signal", {"to": anna.participant,
                            "candidate": {"candidate": "candidate:1 1 udp 1 10.77.0.1 9 typ host",
                                          "sdpMid": "0", "sdpMLineIndex": 0}})
    await bo.ok("signal", {"to": anna.participant, "candidate": None})
    end = await anna.inbox.wait("signal", lambda d: d.get("candidate", 0) is None)
    assert end["from"] == bo.participant


async def test_signals_between_one_pair_keep_their_order(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    for i in range(40):
        await anna.sio.emit("signal", {"to": bo.participant, "candidate": {
            "candidate": f"candidate:{i} 1 udp 1 10.77.0.1 {1000 + i} typ host",
            "sdpMid": "0", "sdpMLineIndex": 0}})
    await bo.inbox.wait("signal", lambda d: "1039 typ" in d["candidate"]["candidate"])
    ports = [int(d["candidate"]["candidate"].split()[5]) for d in bo.inbox.named("signal")]
    assert ports == list(range(1000, 1040))


@pytest.mark.parametrize("body,code", [
    ({"to": "nobody", "description": OFFER}, "unknown_peer"),
    ({"to": "X", "description": {"type": "bogus", "sdp": ""}}, "invalid_payload"),
    ({"to": "X", "description": {"type": "offer", "sdp": "v" * 70000}}, "invalid_payload"),
    ({"to": "X", "candidate": {"candidate": 5}}, "invalid_payload"),
    ({"to": "X"}, "invalid_payload"),
    ({"to": "X", "description": OFFER, "candidate": None}, "invalid_payload"),
    ({"to": "X", "description": OFFER, "from": "someone-else"}, "invalid_payload"),
])
async def test_bad_signals_are_refused_and_relayed_to_no_one(meeting: Meeting, body: dict,  # type: ignore[type-arg]
                                                              code: str) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    if body["to"] == "X":
        body = {**body, "to": bo.participant}
    answer = await anna.call("signal", body)
    assert answer["error"]["code"] == code, answer
    assert (await anna.call("chat", {"text": "still here"}))["ok"]
    await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    assert bo.inbox.named("signal") == []


async def test_no_signal_across_groups_and_new_plans_when_a_round_opens(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = [await meeting.participant(f"P{i}", m) for i, m in
              enumerate(["Vasa", "Borgå", "Esbo", "Pargas"])]
    await fia.ok("round.preview", {"group_count": 2})
    await fia.ok("round.open")
    r = meeting.server.app[HUB].get(meeting.id).state.current()
    by_id = {c.participant: c for c in people}
    a, b = (by_id[pid] for pid in r.groups[0])
    c = by_id[r.groups[1][0]]
    plan = await a.inbox.wait("peers", lambda d: d["room"] == r.rooms[0])
    assert [p["id"] for p in plan["peers"]] == [b.participant]
    assert set(plan["close"]) == {fia.participant, *(pid for pid in r.groups[1])}
    refused = await a.call("signal", {"to": c.participant, "description": OFFER})
    assert refused["error"]["code"] == "peer_not_in_room"
    refused = await a.call("signal", {"to": fia.participant, "description": OFFER})
    assert refused["error"]["code"] == "peer_not_in_room"
    await a.ok("signal", {"to": b.participant, "description": OFFER})
    await b.inbox.wait("signal")
    assert c.inbox.named("signal") == [] and fia.inbox.named("signal") == []
    await fia.ok("round.close")
    back = await a.inbox.wait("peers", lambda d: d["room"] == "plenary"
                              and len(d["peers"]) == 4)
    assert back["close"] == []  # the group mate is in the plenary too


async def test_media_state_is_logged_but_sdp_never_is(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    await anna.ok("signal", {"to": bo.participant, "description": OFFER})
    await anna.ok("media", {"mic": True, "camera": True, "screen": False})
    changed = await bo.inbox.wait("event", lambda e: e["type"] == "media.changed")
    assert changed["data"] == {"id": anna.participant, "room": "plenary", "mic": True,
                               "camera": True, "screen": False}
    events = await meeting.server.app[STORE].read(meeting.id)
    assert "media.changed" in [e.type for e in events]
    assert not any("IN IP4" in repr(e.data) or "candidate" in repr(e.data) for e in events)


async def test_stage_mode_above_the_publisher_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = await start_server(tmp_path / "d", publisher_cap=2)
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        people = [await m.participant(f"P{i}", "Vasa") for i in range(3)]
        watcher = await people[0].inbox.wait("peers", lambda d: d["mode"] == "stage")
        assert watcher["publish"] is False
        assert [p["id"] for p in watcher["peers"]] == [fia.participant]
        await fia.ok("stage.add", {"participant": people[1].participant})
        plan = await people[0].inbox.wait(
            "peers", lambda d: people[1].participant in d["publishers"])
        assert {p["id"] for p in plan["peers"]} == {fia.participant, people[1].participant}
        speaker = await people[1].inbox.wait("peers", lambda d: d["publish"] is True)
        assert len(speaker["peers"]) == 3
        denied = await people[0].call("stage.add", {"participant": people[0].participant})
        assert denied["error"]["code"] == "forbidden"
    finally:
        await server.stop()


async def test_turn_credentials_in_coturn_form(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = "shared-turn-secret"
    server = await start_server(tmp_path / "d", stun_urls=("stun:stun.example.org:3478",),
                                turn_urls=("turn:turn.example.org:3478?transport=udp",),
                                turn_secret=secret, turn_ttl_s=3600)
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        welcome = await anna.inbox.wait("welcome")
        stun, turn = welcome["ice_servers"]
        assert stun == {"urls": ["stun:stun.example.org:3478"]}
        expiry, who = turn["username"].split(":")
        assert who == anna.participant
        assert int(expiry) * 1000 == welcome["ice_expires_at"]
        expected = base64.b64encode(hmac.new(secret.encode(), turn["username"].encode(),
                                             hashlib.sha1).digest()).decode()
        assert turn["credential"] == expected
        refreshed = await anna.ok("ice.refresh")
        assert refreshed["ice_servers"][1]["credential"]
        assert secret not in repr(anna.inbox.items) and secret not in repr(refreshed)
    finally:
        await server.stop()


@needs_netns
@pytest.mark.webrtc
@pytest.mark.parametrize("trickle", [False, True], ids=["full-sdp", "trickle"])
async def test_two_aiortc_peers_exchange_data_and_video(meeting: Meeting, trickle: bool) -> None:
    a = Peer(meeting.server.client(meeting.tokens["participant"]), trickle=trickle)
    b = Peer(meeting.server.client(meeting.tokens["participant"]), trickle=trickle)
    try:
        for peer, (name, muni) in ((a, ("Anna", "Vasa")), (b, ("Bo", "Borgå"))):
            await peer.client.connect()
            await peer.client.join(name, muni)
        await a.wait_connected(b.id)
        await b.wait_connected(a.id)
        a.channels[b.id].send("hej från Anna")
        assert await asyncio.wait_for(b.messages.get(), 5) == (a.id, "hej från Anna")
        await a.wait_frames(b.id)
        await b.wait_frames(a.id)
    finally:
        await a.close()
        await b.close()


@needs_netns
@pytest.mark.webrtc
async def test_three_peers_mesh_then_only_their_group(meeting: Meeting) -> None:
    fia = Peer(meeting.server.client(meeting.tokens["facilitator"]))
    peers = [Peer(meeting.server.client(meeting.tokens["participant"])) for _ in range(4)]
    try:
        await fia.client.connect()
        await fia.client.join("Fia", "Esbo")
        for i, peer in enumerate(peers[:3]):
            await peer.client.connect()
            await peer.client.join(f"P{i}", ["Vasa", "Borgå", "Pargas"][i])
        for x in peers[:3]:
            for y in peers[:3]:
                if x is not y:
                    await x.wait_frames(y.id)
        await peers[3].client.connect()
        await peers[3].client.join("P3", "Kimitoön")
        await fia.client.ok("round.preview", {"group_count": 2})
        await fia.client.ok("round.open")
        r = meeting.server.app[HUB].get(meeting.id).state.current()
        by_id = {p.id: p for p in peers}
        for group in r.groups:
            for pid in group:  # each keeps its group mate and closes everyone else
                await by_id[pid].wait_peers(set(group) - {pid})
        for group in r.groups:
            x, y = by_id[group[0]], by_id[group[1]]
            await x.wait_connected(y.id)
            x.channels[y.id].send("i gruppen")
            while True:
                sender, text = await asyncio.wait_for(y.messages.get(), 5)
                if text == "i gruppen":
                    assert sender == x.id
                    break
        await fia.wait_peers(set())  # alone in the plenary while the groups meet
    finally:
        for peer in (fia, *peers):
            await peer.close()


async def test_candidate_flood_is_rate_limited_and_survived(meeting: Meeting) -> None:
    anna = await meeting.participant("Anna")
    bo = await meeting.participant("Bo", "Vasa")
    candidate = {"candidate": "candidate:1 1 udp 1 10.77.0.1 9 typ host", "sdpMid": "0",
                 "sdpMLineIndex": 0}
    answers = await asyncio.gather(*(anna.call("signal", {"to": bo.participant,
                                                          "candidate": candidate})
                                     for _ in range(100)))
    limited = [a for a in answers if not a["ok"]]
    assert limited and all(a["error"]["code"] == "rate_limited" for a in limited)
    relayed = sum(a["ok"] for a in answers)
    await bo.inbox.wait("signal", lambda d: len(bo.inbox.named("signal")) >= relayed)
    assert len(bo.inbox.named("signal")) == relayed
    assert anna.sio.connected


@needs_netns
@pytest.mark.webrtc
async def test_renegotiation_adds_a_screen_share(meeting: Meeting) -> None:
    from tests.webrtc import ColourBars
    a = Peer(meeting.server.client(meeting.tokens["participant"]))
    b = Peer(meeting.server.client(meeting.tokens["participant"]))
    try:
        for peer, (name, muni) in ((a, ("Anna", "Vasa")), (b, ("Bo", "Borgå"))):
            await peer.client.connect()
            await peer.client.join(name, muni)
        await a.wait_frames(b.id)
        offerer, answerer = (a, b) if a.id < b.id else (b, a)  # the impolite side offers
        tracks_before = answerer.tracks[offerer.id]
        await offerer.add_track(answerer.id, ColourBars())
        await answerer.wait_tracks(offerer.id, tracks_before + 1)
        await offerer.client.ok("media", {"mic": False, "camera": True, "screen": True})
    finally:
        await a.close()
        await b.close()
