"""Pins what ``server/sio.py`` (the fan-out port's adapter, the one module that reaches
into python-socketio and engine.io) uses of their internals. An upgrade that renames or
reshapes one of them fails here, not in production."""

import inspect

import pytest
import socketio
from engineio import async_socket
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.fanout import (
    ToConnection,
    ToConnections,
    ToFacilitators,
    ToMeeting,
    ToParticipant,
    ToRoom,
    address,
)

OVERRIDDEN = {  # SocketServer overrides these and calls super() with the same arguments
    "_handle_eio_connect": ["eio_sid", "environ"],
    "_handle_eio_disconnect": ["eio_sid", "reason"],
    "_handle_eio_message": ["eio_sid", "data"],
    "_handle_connect": ["eio_sid", "namespace", "data"],
    "_handle_event": ["eio_sid", "namespace", "id", "data"],
    "_send_packet": ["eio_sid", "pkt"],
}
MANAGER = {
    "get_participants": ["namespace", "room"],
    "eio_sid_from_sid": ["sid", "namespace"],
    "sid_from_eio_sid": ["eio_sid", "namespace"],
    "is_connected": ["sid", "namespace"],
    # _IndexedManager keeps each sid's rooms through these
    "basic_enter_room": ["sid", "namespace", "room", "eio_sid"],
    "basic_leave_room": ["sid", "namespace", "room"],
    "basic_disconnect": ["sid", "namespace", "kwargs"],
    "get_rooms": ["sid", "namespace"],
}


def params(fn: object) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(OVERRIDDEN))
def test_server_internals_keep_their_signatures(name: str) -> None:
    method = getattr(socketio.AsyncServer, name)
    assert inspect.iscoroutinefunction(method)
    assert params(method) == OVERRIDDEN[name]


@pytest.mark.parametrize("name", sorted(MANAGER))
def test_manager_methods_keep_their_signatures(name: str) -> None:
    assert params(getattr(socketio.AsyncManager, name)) == MANAGER[name]


async def test_server_attributes_and_socket_queue() -> None:
    server = socketio.AsyncServer(async_mode="aiohttp")
    assert isinstance(server._binary_packet, dict)
    assert isinstance(server.environ, dict)
    assert isinstance(server.eio.sockets, dict)
    assert server.reason.CLIENT_DISCONNECT
    assert type(server.manager) is socketio.AsyncManager  # fanout's fast path checks this
    sock = async_socket.AsyncSocket(server.eio, "e1")
    assert (sock.closed, sock.closing, sock.upgraded) == (False, False, False)
    sock.queue.put_nowait(None)  # fanout queues pre-encoded packets straight onto it
    assert sock.queue.qsize() == 1


def test_packets_encode_as_fanout_expects() -> None:
    pkt = eio_packet.Packet(eio_packet.MESSAGE, "x")
    assert params(eio_packet.Packet.encode) == ["b64"]
    assert pkt.encode() == "4x" and not pkt.binary and pkt.data == "x"
    assert hasattr(pkt, "encode_cache")
    event = socketio.AsyncServer().packet_class(sio_packet.EVENT, namespace="/",
                                                data=["event", {"a": 1}])
    assert event.encode() == '2["event",{"a":1}]'
    assert sio_packet.Packet(sio_packet.BINARY_EVENT).attachment_count == 0


async def test_rooms_given_as_a_list_reach_each_participant_once() -> None:
    manager = socketio.AsyncManager()
    manager.set_server(socketio.AsyncServer())
    manager.initialize()
    a = await manager.connect("ea", "/")
    b = await manager.connect("eb", "/")
    await manager.enter_room(a, "/", "r:m:g1")
    await manager.enter_room(a, "/", "f:m")
    await manager.enter_room(b, "/", "f:m")
    got = sorted(manager.get_participants("/", ["r:m:g1", "f:m"]))
    assert got == sorted([(a, "ea"), (b, "eb")])


def test_audiences_map_to_socketio_room_names() -> None:
    assert address(ToConnection("s")) == "s"
    assert address(ToParticipant("m", "p")) == "p:m:p"
    assert address(ToRoom("m", "g1")) == "r:m:g1"
    assert address(ToRoom("m", "g1", facilitators=True)) == ["r:m:g1", "f:m"]
    assert address(ToFacilitators("m")) == "f:m"
    assert address(ToMeeting("m")) == "m:m"
    assert address(ToConnections(("a", "b"))) == ["a", "b"]
