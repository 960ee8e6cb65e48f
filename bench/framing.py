"""Engine.IO v4 / Socket.IO v5 framing for the websocket transport, without I/O.

Only the default namespace ``/`` is spoken. With the JSON serializer a Socket.IO packet
rides in a text frame as ``4`` (Engine.IO MESSAGE) + type digit + optional ack id + JSON.
With python-socketio's msgpack serializer the whole Socket.IO packet is one msgpack map
``{"type", "data", "nsp", "id"?}`` sent as a binary frame (an Engine.IO binary MESSAGE
has no prefix on a websocket). Engine.IO control packets (open, ping, pong, close) are
text in both cases.

With JSON, an event whose arguments hold bytes arrives as BINARY_EVENT "45N-..." with N
placeholders {"_placeholder": true, "num": i}, followed by N binary frames; Attachments
puts them back in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgpack

# Engine.IO packet types
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "0", "1", "2", "3", "4"
# Socket.IO packet types
CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = 0, 1, 2, 3, 4, 5, 6

PONG = EIO_PONG
SERIALIZERS = ("json", "msgpack")

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


@dataclass(frozen=True, slots=True)
class SioPacket:
    """One decoded Socket.IO packet on the default namespace."""

    type: int
    data: Any = None
    id: int | None = None
    attachments: int = 0


class FramingError(ValueError):
    """A frame that is not Engine.IO v4 / Socket.IO v5 as this client speaks it."""


class Codec:
    """Encodes and decodes Socket.IO packets for one serializer ("json" or "msgpack")."""

    def __init__(self, serializer: str) -> None:
        if serializer not in SERIALIZERS:
            raise FramingError(f"Unknown serializer {serializer!r}; use json or msgpack.")
        self.serializer = serializer
        self.binary = serializer == "msgpack"

    def connect(self, auth: dict[str, Any] | None) -> str | bytes:
        return self.encode(CONNECT, auth)

    def event(self, name: str, args: list[Any], ack_id: int | None = None) -> str | bytes:
        return self.encode(EVENT, [name, *args], ack_id)

    def ack(self, ack_id: int, args: list[Any]) -> str | bytes:
        return self.encode(ACK, args, ack_id)

    def encode(self, ptype: int, data: Any, ack_id: int | None = None) -> str | bytes:
        if self.binary:
            packet: dict[str, Any] = {"type": ptype, "data": data, "nsp": "/"}
            if data is None:  # a CONNECT without auth: socket.io-msgpack-parser wants no key
                del packet["data"]
            if ack_id is not None:
                packet["id"] = ack_id
            return msgpack.packb(packet)
        head = f"4{ptype}" if ack_id is None else f"4{ptype}{ack_id}"
        return head if data is None else head + _dumps(data)

    def decode_binary(self, frame: bytes) -> SioPacket:
        if not self.binary:
            raise FramingError("Binary frame received but the serializer is json.")
        packet = msgpack.unpackb(frame)
        return SioPacket(packet["type"], packet.get("data"), packet.get("id"))


def decode_text(frame: str) -> tuple[str, SioPacket | str | None]:
    """Split a text frame into its Engine.IO type and payload.

    Returns (EIO_MESSAGE, SioPacket) for a Socket.IO packet, (EIO_OPEN, json text) for the
    handshake, and (type, None) for the control packets.
    """
    if not frame:
        raise FramingError("Empty text frame.")
    eio = frame[0]
    if eio != EIO_MESSAGE:
        return eio, (frame[1:] if eio == EIO_OPEN else None)
    return eio, _decode_sio_text(frame)


def _decode_sio_text(frame: str) -> SioPacket:
    ptype = int(frame[1])
    i, end = 2, len(frame)
    attachments = 0
    if ptype in (BINARY_EVENT, BINARY_ACK):
        dash = frame.index("-", i)
        attachments, i = int(frame[i:dash]), dash + 1
    if i < end and frame[i] == "/":  # a namespace other than "/" is not expected
        comma = frame.find(",", i)
        i = end if comma < 0 else comma + 1
    j = i
    while j < end and frame[j].isdigit():
        j += 1
    ack_id = int(frame[i:j]) if j > i else None
    data = _loads(frame[j:]) if j < end else None
    return SioPacket(ptype, data, ack_id, attachments)


class Attachments:
    """Collects the binary frames that follow a BINARY_EVENT / BINARY_ACK (JSON only)."""

    def __init__(self, packet: SioPacket) -> None:
        self.packet = packet
        self.frames: list[bytes] = []

    def add(self, frame: bytes) -> SioPacket | None:
        """Add one frame; returns the complete packet (as EVENT / ACK) after the last."""
        self.frames.append(frame)
        if len(self.frames) < self.packet.attachments:
            return None
        ptype = EVENT if self.packet.type == BINARY_EVENT else ACK
        return SioPacket(ptype, _fill(self.packet.data, self.frames), self.packet.id)


def _fill(data: Any, frames: list[bytes]) -> Any:
    if isinstance(data, list):
        return [_fill(x, frames) for x in data]
    if isinstance(data, dict):
        if data.get("_placeholder") is True and "num" in data:
            return frames[data["num"]]
        return {k: _fill(v, frames) for k, v in data.items()}
    return data


def parse_open(payload: str) -> dict[str, Any]:
    return _loads(payload)
