"""Hand-made packets on a raw websocket: well framed but odd, malformed, reserved
event names, an Engine.IO close. Each must get an error ack or a clean close, and
change nothing in the meeting's log."""

import asyncio
import json
from typing import Any

import msgpack
import pytest

from server.keys import GATEWAY
from tests.hostile import RawMember, fuzz_server, probe, read_log
from tests.rawsio import Closed, RawSocket
from tests.support import RunningServer

RESERVED = ["connect", "disconnect", "connect_error", "message", "*"]


def packet(serializer: str, body: str, **fields: Any) -> str | bytes:
    """A Socket.IO packet: the JSON form's text after '4', or a msgpack map."""
    if serializer == "msgpack":
        return bytes(msgpack.packb({"nsp": "/", **fields}))
    return "4" + body


ODD = {  # well framed; each must get an error ack (id 77) and change nothing
    "extra arguments": ('277["chat",{"text":"hej"},3]',
                        {"type": 2, "id": 77, "data": ["chat", {"text": "hej"}, 3]}),
    "a number as the name": ('277[5,{}]', {"type": 2, "id": 77, "data": [5, {}]}),
    "null as the name": ('277[null,{}]', {"type": 2, "id": 77, "data": [None, {}]}),
    "no payload": ('277["chat"]', {"type": 2, "id": 77, "data": ["chat"]}),
    "a list as the payload": ('277["hand.raise",[]]',
                              {"type": 2, "id": 77, "data": ["hand.raise", []]}),
}


async def test_odd_but_well_framed_events_get_an_error_ack(tmp_path,  # type: ignore[no-untyped-def]
                                                             serializer: str) -> None:
    server = await fuzz_server(tmp_path, serializer)
    meeting = await server.new_meeting()
    member = RawMember(meeting, "participant", serializer)
    try:
        sock = await member.ensure()
        before = await read_log(meeting)
        for case, (text, fields) in ODD.items():
            answer = await sock.send_for_ack(packet(serializer, text, **fields), 77, timeout=3)
            assert answer["ok"] is False and answer["error"]["message"], (case, answer)
            assert await probe(sock), case
        assert await read_log(meeting) == before
        # A second namespace handshake cannot change who this connection is.
        assert "error" in await sock.connect({"token": meeting.tokens["facilitator"]})
        assert (await sock.call("hands.clear", {}))["error"]["code"] == "forbidden"
    finally:
        await member.close()
        await server.stop()


# The three tests below pin what the lifecycle and flood work (issue 10, items 1 and 8)
# fixes; they fail until that work is merged.

MALFORMED = {  # each: an error ack (id 77, where one can be read) or a clean close
    "empty event": ("277[]", {"type": 2, "id": 77, "data": []}),
    "payload not a list": ('277{"a":1}', {"type": 2, "id": 77, "data": {"a": 1}}),
    "a list as the name": ('277[[1],{}]', {"type": 2, "id": 77, "data": [[1], {}]}),
    "unknown namespace": ('2/nope,77["chat",{"text":"x"}]',
                          {"type": 2, "id": 77, "data": ["chat", {"text": "x"}],
                           "nsp": "/nope"}),
    "attachment never sent": ('51-77["chat",{"_placeholder":true,"num":0}]',
                              {"type": 5, "id": 77, "data": ["chat", {}]}),
    "packet type not a number": ('x77["chat",{"text":"x"}]',
                                 {"type": "2", "id": 77, "data": ["chat", {"text": "x"}]}),
    # Found by the fuzzer: a binary ack from a client; no ack id can be read from it.
    "binary ack without attachments": ('6"x"', {"type": 6, "data": ["x"]}),
}


async def test_malformed_packets_get_an_answer_or_a_close(tmp_path,  # type: ignore[no-untyped-def]
                                                          serializer: str) -> None:
    server = await fuzz_server(tmp_path, serializer)
    meeting = await server.new_meeting()
    member = RawMember(meeting, "participant", serializer)
    silent = []
    try:
        await member.ensure()
        before = await read_log(meeting)
        for case, (text, fields) in MALFORMED.items():
            sock = await member.ensure()
            frame = packet(serializer, text, **fields)
            try:
                if "id" in fields:
                    await answered(server, sock, frame)
                else:
                    await sock.send(frame)
            except Closed:
                continue
            except TimeoutError:
                silent.append(f"{case}: no ack")
            if not (await probe(sock) or sock.closed.is_set()):
                silent.append(f"{case}: the next event got no answer either")
                await sock.close()
        assert await read_log(meeting) == before
    finally:
        await member.close()
        await server.stop()
    assert not silent, silent


async def answered(server: RunningServer, sock: RawSocket, frame: str | bytes) -> Any:
    """The ack to ``frame``; a header left waiting for its attachments is answered when
    they are overdue (the server's clock is advanced past that)."""
    answer = asyncio.ensure_future(sock.send_for_ack(frame, 77, timeout=1))
    armed = asyncio.ensure_future(server.armed(f"attachments:{sock.eio_sid}"))
    await asyncio.wait([answer, armed], return_when=asyncio.FIRST_COMPLETED)
    if armed.done():
        await server.advance(server.settings.limits.attachment_timeout_s)
    armed.cancel()
    return await answer


@pytest.mark.parametrize("name", RESERVED)
async def test_reserved_event_names_never_reach_lifecycle_handlers(
        tmp_path, serializer: str, name: str) -> None:  # type: ignore[no-untyped-def]
    server = await fuzz_server(tmp_path, serializer)
    meeting = await server.new_meeting()
    member = RawMember(meeting, "participant", serializer)
    try:
        sock = await member.ensure()
        pid = server.app[GATEWAY].conns.by_sid.copy().popitem()[1].participant
        before = await read_log(meeting)
        payload = {"token": meeting.tokens["facilitator"]}
        frame = packet(serializer, f'277["{name}",{{}},{json.dumps(payload)}]',
                       type=2, id=77, data=[name, {}, payload])
        try:
            answer = await sock.send_for_ack(frame, 77, timeout=1.5)
        except Closed:
            answer = None
        except TimeoutError:
            pytest.fail(f"{name!r} got neither an answer nor a close")
        assert answer is None or (isinstance(answer, dict) and answer.get("ok") is False), \
            f"{name!r} reached a handler that answered {answer!r}"
        if not sock.closed.is_set():
            assert await probe(sock), f"{name!r} left the connection without answers"
            chat = await sock.call("chat", {"text": "still here"})
            assert chat["ok"], chat
            assert server.app[GATEWAY].conns.online(meeting.id, pid)
        else:
            assert await read_log(meeting) == before
        await member.close()
        assert await read_log(meeting) == before or sock.closed.is_set()
        for _ in range(50):  # a real close makes the participant offline
            if not server.app[GATEWAY].conns.online(meeting.id, pid):
                break
            await asyncio.sleep(0.05)
        assert not server.app[GATEWAY].conns.online(meeting.id, pid)
    finally:
        await member.close()
        await server.stop()


async def test_an_engineio_close_packet_closes_the_websocket(tmp_path,  # type: ignore[no-untyped-def]
                                                             serializer: str) -> None:
    server = await fuzz_server(tmp_path, serializer)
    meeting = await server.new_meeting()
    member = RawMember(meeting, "participant", serializer)
    try:
        sock = await member.ensure()
        await sock.send("1")
        async with asyncio.timeout(3):
            await sock.closed.wait()
    finally:
        await member.close()
        await server.stop()
