"""A lean Socket.IO v5 client over one raw aiohttp websocket, for load generation.

python-socketio's own AsyncClient saturates a core at about 10,000 relays/s, as fast as
the server it measures; this one does only what a benchmark needs: the Engine.IO open
packet, ping -> pong, the namespace CONNECT with an auth object, EVENT with an optional
ack id, ACK, and dispatch of incoming events to one synchronous callback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp

from .framing import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EIO_CLOSE,
    EIO_MESSAGE,
    EIO_OPEN,
    EIO_PING,
    EVENT,
    PONG,
    Attachments,
    Codec,
    SioPacket,
    decode_text,
    parse_open,
)

EventHandler = Callable[[str, list[Any]], Any]
AckHandler = Callable[[list[Any]], Any]
_TEXT, _BINARY = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY


class ConnectRefused(ConnectionError):
    """The server answered the namespace CONNECT with CONNECT_ERROR."""


def websocket_url(base: str, path: str = "/socket.io/") -> str:
    return f"{base.rstrip('/')}{path}?EIO=4&transport=websocket"


def new_session() -> aiohttp.ClientSession:
    """One session per generator process; no connection limit, no cookies kept."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


class SioClient:
    """One Socket.IO connection on the default namespace."""

    def __init__(self, codec: Codec, on_event: EventHandler | None = None) -> None:
        self.codec = codec
        self.on_event = on_event
        self.sid: str | None = None
        self.handshake: dict[str, Any] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acks: dict[int, AckHandler] = {}
        self._calls: set[asyncio.Future[list[Any]]] = set()
        self._binary: Attachments | None = None
        self._next_id = 0
        self.closed = asyncio.Event()
        self.error: BaseException | None = None

    async def connect(
        self,
        session: aiohttp.ClientSession,
        url: str,
        auth: dict[str, Any] | None = None,
        *,
        compress: int = 0,
        timeout_s: float = 10.0,
    ) -> str:
        """Open the websocket, read the open packet, CONNECT to "/"; returns the sid."""
        try:
            async with asyncio.timeout(timeout_s):
                packet = await self._handshake(session, url, auth, compress)
        except BaseException:
            await self.close()
            raise
        if packet.type == CONNECT_ERROR:
            raise ConnectRefused(f"The server refused the connection: {packet.data!r}.")
        if packet.type != CONNECT:
            raise ConnectionError(f"Expected CONNECT, got Socket.IO packet type {packet.type}.")
        self.sid = packet.data["sid"]
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))
        return self.sid

    async def _handshake(self, session: aiohttp.ClientSession, url: str,
                         auth: dict[str, Any] | None, compress: int) -> SioPacket:
        self._ws = ws = await session.ws_connect(url, compress=compress, autoping=True)
        eio, payload = decode_text(await ws.receive_str())
        if eio != EIO_OPEN:
            raise ConnectionError(f"Expected the Engine.IO open packet, got type {eio}.")
        self.handshake = parse_open(payload)  # type: ignore[arg-type]
        await self._send(self.codec.connect(auth))
        return await self._next_packet(ws)

    async def _next_packet(self, ws: aiohttp.ClientWebSocketResponse) -> SioPacket:
        while True:
            msg = await ws.receive()
            if msg.type is _BINARY:
                return self.codec.decode_binary(msg.data)
            if msg.type is not _TEXT:
                raise ConnectionError(f"The websocket closed during connect ({msg.type.name}).")
            eio, packet = decode_text(msg.data)
            if eio == EIO_PING:
                await ws.send_str(PONG)
            elif eio == EIO_MESSAGE:
                return packet  # type: ignore[return-value]

    async def emit(self, event: str, *args: Any) -> None:
        await self._send(self.codec.event(event, list(args)))

    async def emit_ack(self, event: str, args: list[Any], on_ack: AckHandler) -> int:
        """Emit with an ack id; on_ack(ack_args) runs when the ACK arrives. Returns the id."""
        self._next_id += 1
        ack_id = self._next_id
        self._acks[ack_id] = on_ack
        await self._send(self.codec.event(event, args, ack_id))
        return ack_id

    async def call(self, event: str, *args: Any, timeout_s: float = 10.0) -> list[Any]:
        """Emit with an ack id and wait for the ACK; returns the ack arguments."""
        if self.closed.is_set():
            raise ConnectionError(f"The connection is closed ({self.error!r}).")
        fut: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._calls.add(fut)
        ack_id = 0
        try:
            ack_id = await self.emit_ack(event, list(args),
                                         lambda d: fut.done() or fut.set_result(d))
            async with asyncio.timeout(timeout_s):
                return await fut
        finally:
            self._calls.discard(fut)
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            # the peer may be gone already; nothing is left to release then
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                await ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
        self.closed.set()

    async def _send(self, frame: str | bytes) -> None:
        ws = self._ws
        assert ws is not None, "connect() first"
        if isinstance(frame, str):
            await ws.send_str(frame)
        else:
            await ws.send_bytes(frame)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        dispatch = self._dispatch
        try:
            while True:
                msg = await ws.receive()
                if msg.type is _TEXT:
                    eio, packet = decode_text(msg.data)
                    if eio == EIO_MESSAGE:
                        await dispatch(packet)  # type: ignore[arg-type]
                    elif eio == EIO_PING:
                        await ws.send_str(PONG)
                    elif eio == EIO_CLOSE:
                        break
                elif msg.type is _BINARY:
                    await self._on_binary(msg.data)
                else:
                    break
        except Exception as exc:  # a frame we cannot read: end this client, say why
            self.error = exc
            await ws.close()
        finally:
            self.closed.set()
            for fut in self._calls:
                if not fut.done():
                    fut.set_exception(ConnectionError(f"The connection ended ({self.error!r})."))

    async def _on_binary(self, frame: bytes) -> None:
        if self._binary is None:
            await self._dispatch(self.codec.decode_binary(frame))
        elif (packet := self._binary.add(frame)) is not None:
            self._binary = None
            await self._dispatch(packet)

    async def _dispatch(self, packet: SioPacket) -> None:
        if packet.type in (BINARY_EVENT, BINARY_ACK):
            self._binary = Attachments(packet)
        elif packet.type == EVENT:
            result = self.on_event(packet.data[0], packet.data[1:]) if self.on_event else None
            if packet.id is not None:
                await self._send(self.codec.ack(packet.id, [] if result is None else [result]))
        elif packet.type == ACK:
            on_ack = self._acks.pop(packet.id, None)  # type: ignore[arg-type]
            if on_ack is not None:
                on_ack(packet.data or [])
        elif packet.type == DISCONNECT:
            await self._ws.close()  # type: ignore[union-attr]
