"""What docs/protocol.md promises, where it and the server used to differ."""

import time

import aiohttp
import pytest
import socketio
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.support import ADMIN_TOKEN, SECRET, Meeting

pytestmark = pytest.mark.parametrize("serializer", ["json"])


async def test_leave_acks_the_seq_of_its_participant_left(meeting: Meeting) -> None:
    anna, fia = await meeting.participant(), await meeting.facilitator()
    answer = await anna.ok("leave", {})
    left = await fia.inbox.wait("event", lambda e: e["type"] == "participant.left")
    assert answer == {"seq": left["seq"]}


async def test_the_snapshot_says_which_board_is_shown(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    assert fia.inbox.named("welcome")[0]["snapshot"]["shown_board"] is None
    await fia.ok("board.show", {"room": "plenary"})
    anna = await meeting.participant()
    assert anna.inbox.named("welcome")[0]["snapshot"]["shown_board"] == "plenary"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_join_order(meeting: Meeting, transport: str) -> None:
    """Over either transport: long-polling packs the packets of a turn into one payload,
    and the welcome carries the first peer plan there too."""
    fia = await meeting.facilitator()
    anna = meeting.server.client(meeting.tokens["participant"], transports=(transport,),
                                 meeting=meeting.id)
    await anna.connect()
    ack = await anna.join()
    pid = ack["data"]["participant"]
    await fia.inbox.wait("peers", lambda d: pid in {p["id"] for p in d["peers"]})
    await fia.ok("chat", {"text": "after the join"})  # whatever the join sent is in by now
    await anna.inbox.wait("event", lambda e: e["type"] == "chat.sent")
    names = [name for name, _ in anna.inbox.items]
    # `meeting` comes right after connecting, before anything the join brings; a first
    # connection gets no board.state for a board never drawn on, and no presence of its own.
    assert names == ["meeting", "welcome", "peers", "event"], names
    assert not [e for e in anna.inbox.events() if e["type"] == "participant.joined"]
    joined = anna.inbox.named("welcome")[0]
    # Its first plan is the welcome's: the one `peers` recorded is the welcome's own
    # (tests/support.py records it so), not a message of its own.
    assert anna.inbox.items[2][1] is joined["peers"]
    assert joined["peers"]["room"] == "plenary" and joined["peers"]["close"] == []
    assert [p["id"] for p in joined["peers"]["peers"]] == [fia.participant]
    assert pid in {p["id"] for p in joined["snapshot"]["participants"]}
    assert pid in joined["online"]
    seen = [(n, d) for n, d in fia.inbox.items
            if (n == "event" and d["type"] == "participant.joined" and d["data"]["id"] == pid)
            or (n == "presence" and d["participant"] == pid)]
    assert [n for n, _ in seen] == ["event"]  # the event says Anna is online
    assert seen[0][1]["seq"] <= joined["seq"]


async def test_a_resume_after_a_drop_tells_the_others_and_brings_the_board(
        meeting: Meeting) -> None:
    """Back online after a drop: `presence` to the others (not to the joiner), and
    `board.state` even for an empty board (the client may hold edits to merge)."""
    fia = await meeting.facilitator()
    anna = await meeting.participant()
    welcome = anna.inbox.named("welcome")[0]
    await anna.sio.disconnect()
    await fia.inbox.wait("presence", lambda d: d == {"participant": anna.participant,
                                                     "online": False})
    back = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                 resume=welcome["resume_token"], last_seq=welcome["seq"])
    await back.connect()
    answer = await back.call("join", {})
    assert answer["ok"] and answer["data"]["participant"] == anna.participant, answer
    await fia.inbox.wait("presence", lambda d: d == {"participant": anna.participant,
                                                     "online": True})
    await back.inbox.wait("board.state")
    assert not back.inbox.named("presence")
    await back.close()


class _PastSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 30 * 24 * 3600


async def test_bad_resume_tokens_get_the_documented_codes(meeting: Meeting) -> None:
    anna = await meeting.participant()
    other = await meeting.server.new_meeting("Annat möte")
    bob = await other.participant("Bo", "Esbo")
    expired = URLSafeTimedSerializer(SECRET, salt="ledarstig.resume", signer=_PastSigner).dumps(
        {"m": meeting.id, "p": anna.participant})
    forged = URLSafeTimedSerializer("not-our-secret", salt="ledarstig.resume").dumps(
        {"m": meeting.id, "p": anna.participant})
    unknown = URLSafeTimedSerializer(SECRET, salt="ledarstig.resume").dumps(
        {"m": meeting.id, "p": "nobody"})
    for resume, code in [(forged, "token_invalid"), ("garbage", "token_invalid"),
                         (expired, "token_expired"), (bob.resume_token, "resume_invalid"),
                         (unknown, "resume_invalid")]:
        client = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id,
                                       resume=resume)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect()
        assert client.connect_error["data"]["code"] == code, (resume, client.connect_error)


async def test_meeting_created_is_the_systems_and_ending_the_admins(meeting: Meeting) -> None:
    status, _ = await meeting.server.api("POST", f"/api/meetings/{meeting.id}/end")
    assert status == 200
    status, body = await meeting.server.api("GET", f"/api/meetings/{meeting.id}/log")
    assert [(e["type"], e["actor"]) for e in body["events"]] == [
        ("meeting.created", "system"), ("meeting.ended", "admin")]


async def test_rest_errors_have_the_documented_status_and_body(meeting: Meeting) -> None:
    server = meeting.server
    cases = [("POST", "/api/meetings", {"title": ""}, ADMIN_TOKEN, 400, "invalid_payload"),
             ("GET", "/api/no/such/path", None, None, 401, "unauthorized"),
             ("GET", "/api/meetings", None, "wrong", 401, "unauthorized"),
             ("GET", "/api/meetings/nosuch", None, ADMIN_TOKEN, 404, "meeting_not_found"),
             ("GET", "/api/no/such/path", None, ADMIN_TOKEN, 404, "not_found"),
             ("PUT", "/api/meetings", None, ADMIN_TOKEN, 405, "method_not_allowed"),
             ("POST", f"/api/meetings/{meeting.id}/end", None, ADMIN_TOKEN, 200, None),
             ("POST", f"/api/meetings/{meeting.id}/end", None, ADMIN_TOKEN, 409,
              "meeting_ended")]
    for method, path, body, token, status, code in cases:
        got, answer = await server.api(method, path, body, token=token)
        assert got == status, (method, path, got, answer)
        if code is not None:
            assert answer["error"]["code"] == code and answer["error"]["message"], answer
    async with aiohttp.ClientSession() as http, http.post(
            server.url + "/api/meetings", data=b"{" * (129 * 1024),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as resp:
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "payload_too_large"


async def test_limits_count_code_points_after_normalising(meeting: Meeting) -> None:
    anna = await meeting.participant("Å" * 80, "Ö" * 80)
    assert (await anna.call("chat", {"text": "😀" * 2000}))["ok"]
    assert (await anna.call("chat", {"text": "e\u0301" * 2000}))["ok"]  # NFC: 2000 "é"
    too_long = await anna.call("chat", {"text": "😀" * 2001})
    assert too_long["error"]["code"] == "invalid_value"
    bo = meeting.server.client(meeting.tokens["participant"], meeting=meeting.id)
    await bo.connect()
    answer = await bo.call("join", {"name": "Å" * 81, "municipality": "Esbo"})
    assert answer["error"]["code"] == "invalid_value"


async def test_sync_answers_missed_events_unless_the_participant_moved(
        meeting: Meeting) -> None:
    fia, anna = await meeting.facilitator(), await meeting.participant()
    mark = anna.last_seq()
    chat = await fia.ok("chat", {"text": "hej"})
    welcome = (await anna.ok("sync", {"last_seq": mark}))["welcome"]
    assert "snapshot" not in welcome
    assert [(e["seq"], e["type"]) for e in welcome["missed"]] == [(chat["seq"], "chat.sent")]
    mark = welcome["seq"]
    await fia.ok("round.preview", {"strategy": "random", "group_count": 1})
    await fia.ok("round.open", {})
    welcome = (await anna.ok("sync", {"last_seq": mark}))["welcome"]
    assert "missed" not in welcome
    rooms = {p["id"]: p["room"] for p in welcome["snapshot"]["participants"]}
    assert rooms[anna.participant] == welcome["snapshot"]["round"]["rooms"][0]
