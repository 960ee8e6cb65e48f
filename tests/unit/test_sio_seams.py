"""What the fan-out fast path (server/sio.py) relies on in aiohttp, engine.io and asyncio.

These fail on an upgrade that changes one of them; then read the new code and adapt
``_FastWebSocket``, ``_serve_websocket``, ``_idle_websocket`` and ``ws_frame``."""

import asyncio
import hashlib
import inspect
from typing import Any

import pytest
from aiohttp._websocket.writer import WebSocketWriter
from aiohttp.web import WebSocketResponse
from engineio import async_socket
from engineio.async_drivers import aiohttp as eio_aiohttp

from server.sio import _EIO_HANDLER, _FastWebSocket, _Outgoing, _Preencoded, ws_frame
from tests.unit.packet_helpers import same_packet


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()

    def write(self, data: Any) -> None:
        self.out += data

    def is_closing(self) -> bool:
        return False


class _Protocol:
    _paused = False


@pytest.mark.parametrize("message", ["", "4" + "å" * 40, "x" * 200, "y" * 70_000,
                                     b"\x00\x01", b"z" * 300, b"w" * 66_000])
async def test_our_frame_is_the_frame_aiohttps_server_writes(message: str | bytes) -> None:
    transport = _Transport()
    writer = WebSocketWriter(_Protocol(), transport, use_mask=False)  # type: ignore[arg-type]
    if isinstance(message, str):
        await writer.send_frame(message.encode(), 0x1)
    else:
        await writer.send_frame(message, 0x2)
    assert ws_frame(message) == bytes(transport.out)


def test_preencoded_frame_is_the_raw_engineio_message() -> None:
    text, binary = _Outgoing('2["event",{"seq":1}]'), _Outgoing(b"\x82\xa1a\x01")
    assert text.frame == ws_frame('42["event",{"seq":1}]')
    assert binary.frame == ws_frame(b"\x82\xa1a\x01")
    assert [p.encode() for p in text.packets] == ['42["event",{"seq":1}]']
    assert [p.encode() for p in binary.packets] == [b"\x82\xa1a\x01"]


def test_outgoing_frames_match_the_engineio_packets_and_are_made_without_them() -> None:
    text = _Outgoing('2["event",{"seq":1}]')
    assert text.frame == ws_frame(_Preencoded('2["event",{"seq":1}]', 0).encode())
    assert text._packets is None  # a recipient written to directly needs no packet object
    assert [p.encode() for p in text.packets] == ['42["event",{"seq":1}]']
    assert [p.size for p in text.packets] == [len(text.frame)]  # what the backlog counts
    parts = ['51-["event",{"_placeholder":true,"num":0}]', b"\x00\x01"]
    binary = _Outgoing(parts)
    assert binary.frame == b"".join(ws_frame(_Preencoded(p, 0).encode()) for p in parts)
    assert [p.encode() for p in binary.packets] == ['451-["event",{"_placeholder":true,"num":0}]',
                                                    b"\x00\x01"]


def test_the_dispatch_we_short_cut_is_unchanged() -> None:
    """``SocketServer._plain_event``/``_handle_event`` (a JSON EVENT read and its
    coroutine awaited directly) and ``_serve_websocket``'s MESSAGE path restate what
    these do for the common packet; a changed original must be read and the short cuts
    adapted."""
    from engineio import async_server as eio_server
    from engineio import packet as eio_packet
    from socketio import async_server as sio_server
    from socketio import packet as sio_packet
    assert _digest(async_socket.AsyncSocket.receive) == "a91ae36ec2fb5340"
    assert _digest(eio_server.AsyncServer._trigger_event) == "4a09b6e47eb66532"
    assert _digest(eio_packet.Packet.decode) == "18e27ff7fd56addd"
    assert _digest(sio_server.AsyncServer._handle_event) == "65178105ef8b593d"
    assert _digest(sio_server.AsyncServer._handle_event_internal) == "472e8b723a12d507"
    assert _digest(sio_server.AsyncServer._trigger_event) == "01ba90cfa09ba43e"
    assert _digest(sio_packet.Packet.decode) == "61ad7904b539f472"
    reader = WebSocketResponse()._reader  # None until prepared; its class has feed_data
    assert reader is None
    from aiohttp._websocket.reader import WebSocketDataQueue
    assert "size" in inspect.signature(WebSocketDataQueue.feed_data).parameters


def _digest(fn: Any) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]


def test_engineio_code_we_copied_is_unchanged() -> None:
    """_serve_websocket is engine.io 4.15's AsyncSocket._websocket_handler with a leaner
    reader and writer, and _FastWebSocket.__call__ its aiohttp WebSocket.__call__ with
    compress=False. A changed original must be read and folded into our copies."""
    assert _EIO_HANDLER is async_socket.AsyncSocket._websocket_handler
    assert _digest(async_socket.AsyncSocket._websocket_handler) == "27f120df4d717a24"
    # _schedule_ping and _ping_due restate these with a timer instead of a task
    assert _digest(async_socket.AsyncSocket.schedule_ping) == "fe316639159cd70d"
    assert _digest(async_socket.AsyncSocket._send_ping) == "67db82a704ea49d0"
    assert _digest(async_socket.AsyncSocket.poll) == "826f58a9f3606db2"
    assert _digest(eio_aiohttp.WebSocket.__call__) == "71f9a94476d737c3"
    assert _digest(eio_aiohttp.WebSocket.wait) == "992c370917677d39"
    assert issubclass(_FastWebSocket, eio_aiohttp.WebSocket)
    assert eio_aiohttp._async["websocket"] is eio_aiohttp.WebSocket  # we replace a copy


def test_aiohttp_response_has_what_the_fast_path_reads() -> None:
    response = WebSocketResponse(compress=False)
    assert response._writer is None and response._compress is False
    writer = WebSocketWriter(_Protocol(), _Transport())  # type: ignore[arg-type]
    assert writer.transport is not None and writer._closing is False
    assert "compress" in inspect.signature(WebSocketResponse).parameters


async def test_a_parked_queue_getter_is_visible() -> None:
    """The writer is idle exactly when its queue is empty and its get() is parked."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    assert not queue._queue and not queue._getters
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)  # let it park
    assert any(not g.done() for g in queue._getters)
    queue.put_nowait(1)
    assert queue._queue and not any(not g.done() for g in queue._getters)
    assert await getter == 1


@pytest.mark.parametrize("data", [
    {"seq": 1, "type": "chat.sent", "data": {"text": "hej åäö 👋", "n": [1, 2.5, None, True]}},
    {"u": b"\x01\x02", "v": [b"z", 2]},  # binary: the packet class makes the attachments
    "plain", None, {"deep": [[[{"x": "</script>"}]]]}, {1: "a key that is not a string"},
])
def test_encode_event_is_what_python_socketio_makes(data: Any) -> None:
    from socketio import msgpack_packet
    from socketio import packet as sio_packet

    from server.sio import encode_event

    for cls in (sio_packet.Packet, msgpack_packet.MsgPackPacket):
        theirs = cls(sio_packet.EVENT, namespace="/", data=["event", data]).encode()
        assert same_packet(encode_event(cls, "event", data), theirs)


def test_json_events_carry_text_as_utf8_and_nan_as_null() -> None:
    """orjson writes what the stdlib escapes (\\u00e5: 6 bytes for a 2-byte å) as
    UTF-8, and NaN, which no JSON parser reads, as null."""
    from server.sio import _JsonPacket, encode_ack, encode_event

    assert encode_event(_JsonPacket, "chat", {"text": "åäö"}) == '2["chat",{"text":"åäö"}]'
    assert encode_event(_JsonPacket, "x", [float("nan")]) == '2["x",[null]]'
    assert encode_ack(_JsonPacket, "/", 4, [{"t": "ö"}]) == '34[{"t":"ö"}]'


def test_asyncio_queue_code_our_lean_queue_follows_is_unchanged() -> None:
    """_LeanQueue re-states Queue.__init__, put_nowait, task_done and join of Python 3.11
    and relies on get/get_nowait/put as they are."""
    expected = {"__init__": "aefda9ab719f4a96", "put_nowait": "1ab7a1443ec2bc08",
                "task_done": "76a13d53d21a8b21", "join": "2bfc592642e478dd",
                "get": "35cbd848cd945f22", "get_nowait": "d87a04947ce6dd18",
                "put": "b22b303fff5980e8"}
    assert {name: _digest(getattr(asyncio.Queue, name)) for name in expected} == expected


async def test_lean_queue_behaves_like_asyncio_queue() -> None:
    from server.sio import _LeanQueue

    queue = _LeanQueue()
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    await queue.put(1)
    queue.put_nowait(2)
    assert await getter == 1 and queue.qsize() == 1 and queue.get_nowait() == 2
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    joined = asyncio.ensure_future(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()  # two items taken, none marked done
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()
    await asyncio.wait_for(queue.join(), 1)  # nothing unfinished: returns at once


def test_lean_queue_is_lighter() -> None:
    import tracemalloc

    from server.sio import _LeanQueue

    def cost(make: Any) -> int:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = [make() for _ in range(200)]
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert len(kept) == 200
        return used

    assert cost(_LeanQueue) < 0.7 * cost(asyncio.Queue)


def test_a_token_bucket_makes_its_refusal_log_only_when_refusing() -> None:
    from server.limits import TokenBucket

    bucket = TokenBucket(1.0, 1, now=0.0, max_refusals=1)
    assert bucket._refusals is None and bucket.strikes == 0 and not bucket.flooding
    assert bucket.allow(0.0) and not bucket.allow(0.0) and not bucket.allow(0.0)
    assert bucket.strikes == 2 and bucket.flooding


@pytest.mark.parametrize("answer", [
    [{"ok": True, "data": {"id": "a1b2c3", "seq": 7, "text": "hej åäö 👋"}}],
    [{"ok": False, "error": {"code": "x", "message": "</script>"}}],
    [], [None], [1, "two"], [{"blob": b"\x00\x01"}],  # binary: the packet class's answer
])
@pytest.mark.parametrize("namespace", ["/", "/other"])
def test_encode_ack_is_what_python_socketio_makes(answer: Any, namespace: str) -> None:
    from socketio import msgpack_packet
    from socketio import packet as sio_packet

    from server.sio import encode_ack

    for cls in (sio_packet.Packet, msgpack_packet.MsgPackPacket):
        for id in (0, 7, 123456):
            theirs = cls(sio_packet.ACK, namespace=namespace, id=id, data=answer).encode()
            assert same_packet(encode_ack(cls, namespace, id, answer), theirs)


def test_handle_event_internal_we_restate_is_unchanged() -> None:
    """SocketServer._handle_event_internal re-states python-socketio 5.18's (the ACK
    made by encode_ack)."""
    from socketio import AsyncServer

    assert _digest(AsyncServer._handle_event_internal) == "472e8b723a12d507"


@pytest.mark.parametrize("encoded", [
    '2["chat",{"text":"hej åäö 👋","n":[1,2.5,null,true,1e400]}]',
    '2/other,17["x",{"deep":[[[{"a":"\\u00e5"}]]]}]', "42[1]", '3["ack"]',
])
def test_our_json_packet_decodes_as_python_socketio_does(encoded: str) -> None:
    from socketio import packet as sio_packet

    from server.sio import _Json, _JsonPacket

    ours, theirs = _JsonPacket(encoded_packet=encoded), sio_packet.Packet(encoded_packet=encoded)
    assert (ours.packet_type, ours.namespace, ours.id) == \
        (theirs.packet_type, theirs.namespace, theirs.id)
    assert repr(ours.data) == repr(theirs.data)
    assert _Json._decode.__self__ is _JsonPacket.json._decode.__self__  # made once


@pytest.mark.parametrize("bad", ['2["x",' + "1" * 101 + "]", "\ufeff[1]", "2[1,]", "2{"])
def test_our_json_packet_refuses_what_python_socketio_refuses(bad: str) -> None:
    from socketio import packet as sio_packet

    from server.sio import _JsonPacket

    with pytest.raises(ValueError):
        sio_packet.Packet(encoded_packet=bad)
    with pytest.raises(ValueError):
        _JsonPacket(encoded_packet=bad)


async def test_aiohttp_holds_and_sends_headers_as_open_expects() -> None:
    """``_HeldHeadersResponse`` and ``_open`` (server/sio.py): a response that does not
    send its headers at once leaves them in its writer's ``_headers_buf``."""
    from aiohttp.http_writer import StreamWriter
    from aiohttp.web import Response, StreamResponse
    from multidict import CIMultiDict

    assert StreamResponse._send_headers_immediately is True
    assert Response._send_headers_immediately is False  # aiohttp's own use of it
    transport = _Transport()

    class Protocol:
        pass

    protocol = Protocol()
    protocol.transport = transport  # type: ignore[attr-defined]
    writer = StreamWriter(protocol, asyncio.get_running_loop())  # type: ignore[arg-type]
    await writer.write_headers("HTTP/1.1 101 Switching Protocols", CIMultiDict())
    assert writer._headers_buf and writer._headers_written is False and not transport.out
    writer._write(writer._headers_buf)
    assert bytes(transport.out).startswith(b"HTTP/1.1 101")
