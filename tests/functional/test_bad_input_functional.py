"""Every kind of bad input: a clear error or a clean close, nothing changed."""

import json
import time

import aiohttp
import pytest
import socketio
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from rooms import Role
from server.keys import HUB, TOKENS
from tests.support import SECRET, Meeting, start_server


def state_of(meeting: Meeting):  # type: ignore[no-untyped-def]
    return meeting.server.app[HUB].get(meeting.id).state.meeting


async def refused(m: Meeting, **auth: object) -> dict:  # type: ignore[type-arg]
    client = m.server.client(**auth)  # type: ignore[arg-type]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    assert isinstance(client.connect_error, dict), client.connect_error
    assert client.connect_error["message"]
    return {"code": client.connect_error["data"]["code"]}


class _PastSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 30 * 24 * 3600


async def test_forged_expired_and_wrong_meeting_tokens_are_refused(meeting: Meeting) -> None:
    seq = state_of(meeting).seq
    forged = URLSafeTimedSerializer("not-our-secret", salt="ledarstig.invite").dumps(
        {"m": meeting.id, "r": "facilitator"})
    assert (await refused(meeting, token=forged))["code"] == "token_invalid"
    expired = URLSafeTimedSerializer(SECRET, salt="ledarstig.invite", signer=_PastSigner)
    expired = expired.dumps({"m": meeting.id, "r": "participant"})
    assert (await refused(meeting, token=expired))["code"] == "token_expired"
    other = await meeting.server.create_meeting("Annat möte")
    wrong = await refused(meeting, token=meeting.tokens["participant"], meeting=other)
    assert wrong["code"] == "token_wrong_meeting"
    # Signed by the server, on its clock (a token signed later on the wall clock than
    # the server's time would be from the future, and expired).
    gone = meeting.server.app[TOKENS].invite("nosuchmeeting", Role.PARTICIPANT)
    assert (await refused(meeting, token=gone))["code"] == "meeting_not_found"
    assert (await refused(meeting, token=123))["code"] == "invalid_auth"
    assert state_of(meeting).seq == seq


async def test_ended_meeting_refuses_connections(meeting: Meeting) -> None:
    status, _ = await meeting.server.api("POST", f"/api/meetings/{meeting.id}/end")
    assert status == 200
    assert (await refused(meeting, token=meeting.tokens["participant"]))["code"] == \
        "meeting_ended"


@pytest.mark.parametrize("event,payload,code", [
    ("chat", {"text": 5}, "invalid_payload"),
    ("chat", {"text": "x", "extra": 1}, "invalid_payload"),
    ("chat", "not an object", "invalid_payload"),
    ("chat", {"text": "   "}, "invalid_value"),
    ("chat", {"text": "x" * 2001}, "invalid_value"),
    ("round.preview", {"strategy": "self-select", "group_count": 2, "capacity": 10**6},
     "invalid_payload"),
    ("react", {"emoji": "🙂" * 20}, "invalid_payload"),
    ("sync", {"last_seq": -1}, "invalid_payload"),
    ("no.such.event", {}, "unknown_event"),
])
async def test_invalid_payloads_get_error_acks(meeting: Meeting, event: str, payload: object,
                                               code: str) -> None:
    # Authorisation comes before decoding: a facilitator's event is tried by one.
    anna = await (meeting.facilitator() if event.startswith("round.") else meeting.participant())
    seq = state_of(meeting).seq
    answer = await anna.call(event, payload)
    assert answer["ok"] is False and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert state_of(meeting).seq == seq
    assert (await anna.call("chat", {"text": "still connected"}))["ok"]


@pytest.mark.parametrize("profile,code", [
    ({"name": "", "municipality": "Vasa"}, "invalid_value"),
    ({"name": "x" * 81, "municipality": "Vasa"}, "invalid_value"),
    ({"name": "x" * 201, "municipality": "Vasa"}, "invalid_payload"),
    ({"name": "Anna"}, "invalid_value"),
    ({"name": "Anna\u0007", "municipality": "Vasa"}, "invalid_value"),
])
async def test_bad_profiles_are_refused(meeting: Meeting, profile: dict, code: str) -> None:  # type: ignore[type-arg]
    client = meeting.server.client(meeting.tokens["participant"])
    await client.connect()
    answer = await client.call("join", profile)
    assert answer["error"]["code"] == code
    assert state_of(meeting).participants == {}


async def test_commands_before_join_are_refused(meeting: Meeting) -> None:
    client = meeting.server.client(meeting.tokens["participant"])
    await client.connect()
    assert (await client.call("chat", {"text": "hej"}))["error"]["code"] == "not_joined"


async def test_oversized_message_closes_cleanly_and_changes_nothing(meeting: Meeting) -> None:
    anna = await meeting.participant()
    bo = await meeting.participant("Bo", "Vasa")
    seq = state_of(meeting).seq
    limit = meeting.server.settings.limits.max_message_bytes
    await anna.sio.emit("chat", {"text": "x" * (limit + 10)})
    assert await anna.disconnected()
    assert state_of(meeting).seq == seq
    assert (await bo.call("chat", {"text": "servern lever"}))["ok"]


async def test_flood_is_rate_limited_then_disconnected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from server.config import Limits
    server = await start_server(tmp_path / "d", limits=Limits(rate_per_second=5, rate_burst=10,
                                                              flood_disconnect_after=20))
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        answers = [await anna.call("react", {"emoji": "👍"}) for _ in range(15)]
        codes = [a["error"]["code"] for a in answers if not a["ok"]]
        assert "rate_limited" in codes
        assert sum(a["ok"] for a in answers) <= 12
        for _ in range(40):
            await anna.sio.emit("react", {"emoji": "👍"})
        assert await anna.disconnected()
        bo = await m.participant("Bo", "Vasa")
        assert (await bo.call("chat", {"text": "ok"}))["ok"]
    finally:
        await server.stop()


async def test_too_many_binary_attachments_close_the_connection(meeting: Meeting) -> None:
    if meeting.server.serializer != "json":
        pytest.skip("attachments are a feature of the JSON packet format")
    anna = await meeting.participant()
    seq = state_of(meeting).seq
    await anna.sio.emit("chat", {"a": b"1", "b": b"2", "c": b"3", "d": b"4"})
    assert await anna.disconnected()
    assert state_of(meeting).seq == seq


async def test_connection_without_namespace_handshake_is_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = await start_server(tmp_path / "d")
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(
                f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket") as ws:
            opened = await ws.receive(timeout=2)
            assert opened.data.startswith("0") and json.loads(opened.data[1:])["sid"]
            await server.armed(f"handshake:{json.loads(opened.data[1:])['sid']}")
            await server.advance(server.settings.limits.handshake_timeout_s - 0.01)
            assert not ws.closed
            await server.advance(0.01)
            while True:
                msg = await ws.receive(timeout=3)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING) or msg.data == "1":
                    break
    finally:
        await server.stop()


async def test_admin_api_needs_the_token(meeting: Meeting) -> None:
    status, body = await meeting.server.api("GET", "/api/meetings", token="wrong")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await meeting.server.api("POST", "/api/meetings", {"title": ""})
    assert status == 400 and body["error"]["code"] == "invalid_payload"
    status, body = await meeting.server.api("GET", "/api/meetings/nope")
    assert status == 404 and body["error"]["code"] == "meeting_not_found"


async def test_broken_unicode_is_refused_and_the_store_goes_on(meeting: Meeting) -> None:
    if meeting.server.serializer != "json":
        pytest.skip("a msgpack client cannot even encode a lone surrogate")
    anna = await meeting.participant()
    seq = state_of(meeting).seq
    answer = await anna.call("chat", {"text": "hej \ud800"})
    assert answer["error"]["code"] == "invalid_value"
    assert state_of(meeting).seq == seq
    assert (await anna.call("chat", {"text": "hej"}))["ok"]
