"""A raw Socket.IO client over aiohttp's websocket: it sends exactly the frames it is
given, in either packet format, so tests can speak the protocol wrong on purpose."""

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
import msgpack

EVENT, ACK, CONNECT = 2, 3, 0


class Closed(Exception):
    """The server closed the connection."""


class RawSocket:
    def __init__(self, url: str, serializer: str) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.msgpack = serializer == "msgpack"
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._connected: asyncio.Future[Any] | None = None
        self.acked: dict[int, Any] = {}
        """Every ack received, by id (also for ids the test did not wait on)."""
        self.closed = asyncio.Event()
        self._next_id = 1000
        self._binary: tuple[int, int | None, Any, int, list[bytes]] | None = None
        self.eio_sid = ""

    async def open(self) -> None:
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(self.url, max_msg_size=0)
        first = await self._ws.receive(timeout=5)
        assert first.type is aiohttp.WSMsgType.TEXT and first.data.startswith("0"), first
        self.eio_sid = str(json.loads(first.data[1:])["sid"])
        self._reader = asyncio.create_task(self._read())

    async def connect(self, auth: dict[str, Any]) -> dict[str, Any]:
        """The namespace handshake; the server's answer (``{"sid"}`` or an error)."""
        self._connected = asyncio.get_running_loop().create_future()
        await self.send_packet(CONNECT, auth)
        return dict(await asyncio.wait_for(self._connected, 5))

    async def call(self, event: str, data: Any, timeout: float = 5.0) -> Any:
        """Emit with an ack id; the ack's first argument, or raise ``Closed``."""
        self._next_id += 1
        return await self.send_for_ack(self.encode(EVENT, [event, data], self._next_id),
                                       self._next_id, timeout)

    async def send_for_ack(self, frame: str | bytes, ack_id: int, timeout: float = 5.0) -> Any:
        """Send a frame that carries ``ack_id``; the ack, or raise ``Closed``/TimeoutError."""
        future = self._acks[ack_id] = asyncio.get_running_loop().create_future()
        await self.send(frame)
        closing = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait([future, closing], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        closing.cancel()
        if future in done:
            return future.result()
        if self.closed.is_set():
            raise Closed()
        raise TimeoutError(f"no ack {ack_id} after {frame!r:.80} within {timeout} s")

    def encode(self, kind: int, data: Any, ack_id: int | None = None) -> str | bytes:
        if self.msgpack:
            packet: dict[str, Any] = {"type": kind, "data": data, "nsp": "/"}
            if ack_id is not None:
                packet["id"] = ack_id
            return bytes(msgpack.packb(packet))
        return f"4{kind}{'' if ack_id is None else ack_id}{json.dumps(data, default=repr)}"

    async def send_packet(self, kind: int, data: Any, ack_id: int | None = None) -> None:
        await self.send(self.encode(kind, data, ack_id))

    async def send(self, frame: str | bytes) -> None:
        """One websocket frame, as is (text: an Engine.IO packet; binary: a message)."""
        assert self._ws is not None
        if self.closed.is_set():
            raise Closed()
        try:
            if isinstance(frame, bytes):
                await self._ws.send_bytes(frame)
            else:
                await self._ws.send_str(frame)
        except (ConnectionError, RuntimeError) as exc:
            raise Closed() from exc

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    if msg.data == "2":
                        await self._ws.send_str("3")
                    elif msg.data.startswith(("45", "46")):  # binary event or ack
                        count, rest = msg.data[2:].split("-", 1)
                        self._binary = (*_decode_json(msg.data[1] + rest), int(count), [])
                    elif msg.data.startswith("4"):
                        self._packet(*_decode_json(msg.data[1:]))
                    elif msg.data.startswith("1"):
                        break
                elif msg.type is aiohttp.WSMsgType.BINARY and self.msgpack:
                    packet = msgpack.unpackb(msg.data)
                    self._packet(packet["type"], packet.get("id"), packet.get("data"))
                elif msg.type is aiohttp.WSMsgType.BINARY and self._binary is not None:
                    kind, ack_id, data, count, parts = self._binary
                    parts.append(msg.data)
                    if len(parts) == count:
                        self._binary = None
                        self._packet(kind - 3, ack_id, _fill(data, parts))
        finally:
            self.closed.set()

    def _packet(self, kind: int, ack_id: int | None, data: Any) -> None:
        if kind in (CONNECT, 4) and self._connected is not None and not self._connected.done():
            self._connected.set_result(data if kind == CONNECT else {"error": data})
        elif kind == ACK and ack_id is not None:
            answer = data[0] if isinstance(data, list) and data else data
            self.acked[ack_id] = answer
            future = self._acks.pop(ack_id, None)
            if future is not None and not future.done():
                future.set_result(answer)

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._http is not None:
            await self._http.close()


def _decode_json(body: str) -> tuple[int, int | None, Any]:
    kind = int(body[0])
    rest = body[1:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack_id = int(rest[:digits]) if digits else None
    payload = rest[digits:]
    return kind, ack_id, json.loads(payload) if payload else None


def _fill(data: Any, parts: list[bytes]) -> Any:
    """Put binary attachments in place of their placeholders."""
    if isinstance(data, dict):
        if data.get("_placeholder") is True:
            return parts[data["num"]]
        return {k: _fill(v, parts) for k, v in data.items()}
    if isinstance(data, list):
        return [_fill(v, parts) for v in data]
    return data
