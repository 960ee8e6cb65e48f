"""python-socketio's server, with the guards it lacks.

- Browser origins are checked on both transports (see ``server.edge``).
- Connection attempts and open connections are bounded per client address.
- A connection that never completes the namespace handshake is closed
  after ``handshake_timeout_s``.
- A binary event announcing more attachments than allowed is refused
  before any attachment is buffered.
- Client events named like Socket.IO's lifecycle events (``connect``,
  ``disconnect``, ...) or with no string name never reach a handler: they
  are refused (``reserved_event``, ``invalid_packet``) and count against the
  connection's rate limit like any other event.
- A packet that cannot be decoded closes its connection, with a ``closing``
  notice first when possible; such log lines are throttled.

It also has a faster broadcast path, ``fanout``: the packet is encoded once
and put straight into each recipient's Engine.IO send queue, instead of one
task and one encoding per recipient (python-socketio's ``emit``).
"""

import base64
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.config import Limits, Settings
from server.edge import Edge
from server.limits import AddressLimiter, LogThrottle
from server.scheduler import Scheduler

log = logging.getLogger("ledarstig.sio")
NAMESPACE = "/"
#: Event names a client may never emit: Socket.IO's own lifecycle names and
#: python-socketio's catch-all.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting",
                             "newListener", "removeListener", "*"})

#: ``refuse_event(sid, code, message)``: the ack for a refused event.
RefuseEvent = Callable[[str, str, str], Awaitable[dict[str, Any]]]


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, settings: Settings, scheduler: Scheduler, **kwargs: Any) -> None:
        limits = settings.limits
        edge = Edge(settings.trusted_proxies, settings.cors_origins, settings.public_url)
        super().__init__(
            async_mode="aiohttp",
            async_handlers=False,
            serializer="msgpack" if settings.serializer == "msgpack" else "default",
            max_http_buffer_size=limits.max_message_bytes,
            cors_allowed_origins=edge.sio_origin_check,
            ping_interval=settings.ping_interval_s,
            ping_timeout=settings.ping_timeout_s,
            **kwargs,
        )
        self.edge = edge
        self._limits: Limits = limits
        self._scheduler = scheduler
        self._addresses = AddressLimiter(limits.address_attempts, limits.address_window_s,
                                         limits.address_max_open)
        self._address_of: dict[str, str] = {}
        self._log_throttle = LogThrottle(10.0)
        #: Engine.IO sessions closed so far (the collector policy watches it).
        self.released = 0
        self.refuse_event: RefuseEvent | None = None
        #: Called with the sid once a namespace handshake has been accepted.
        self.on_connected: Callable[[str], Awaitable[None]] | None = None
        ThrottledErrors.install()

    async def fanout(self, event: str, data: Any, to: str | list[str]) -> None:
        """Emit ``event`` to a room, a list of rooms or one sid, in call order."""
        if type(self.manager) is not socketio.AsyncManager:
            await self.emit(event, data, to=to)  # a pub/sub manager must publish
            return
        encoded = self.packet_class(sio_packet.EVENT, namespace=NAMESPACE,
                                    data=[event, data]).encode()
        packets = [_Preencoded(p) for p in (encoded if isinstance(encoded, list) else [encoded])]
        sockets = self.eio.sockets
        for _, eio_sid in self.manager.get_participants(NAMESPACE, to):
            sock = sockets.get(eio_sid)
            if sock is not None and not sock.closed and not sock.closing:
                for pkt in packets:
                    sock.queue.put_nowait(pkt)

    async def close_with(self, sid: str, code: str, message: str) -> None:
        """Tell a namespace-connected client why it is closed, then close it."""
        eio_sid = self.manager.eio_sid_from_sid(sid, NAMESPACE)
        await self.fanout("closing", {"code": code, "message": message}, to=sid)
        await self.disconnect(sid)
        if eio_sid is not None and eio_sid in self.eio.sockets:
            await self.eio.disconnect(eio_sid)  # a client need not close it itself

    async def close_all(self) -> None:
        """Close every Engine.IO socket, each once its queue is flushed."""
        if self.eio.sockets:
            await self.eio.disconnect()

    def quiet_log(self, kind: str, msg: str, *args: Any, level: int = logging.WARNING) -> None:
        """Log at most one line of ``kind`` every 10 s, with how many were left out."""
        suppressed = self._log_throttle.allow(kind, time.monotonic())
        if suppressed is None:
            return
        if suppressed:
            msg += " (%d more like it in the last 10 s)"
            args = (*args, suppressed)
        log.log(level, msg, *args)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        request = environ.get("aiohttp.request")
        address = self.edge.client_address(request) if request is not None else ""
        if address and not _loopback(address):
            refused = self._addresses.admit(address, time.monotonic())
            if refused is not None:
                self.quiet_log("address", "refusing a connection from %s: %s", address, refused)
                return False
            self._address_of[eio_sid] = address
        result = await super()._handle_eio_connect(eio_sid, environ)
        self._scheduler.after(f"handshake:{eio_sid}", self._limits.handshake_timeout_s,
                              lambda: self._drop_if_idle(eio_sid))
        return result

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> Any:
        self._scheduler.cancel(f"handshake:{eio_sid}")
        self._scheduler.cancel(f"attachments:{eio_sid}")
        address = self._address_of.pop(eio_sid, None)
        if address is not None:
            self._addresses.release(address)
        self.released += 1
        result = await super()._handle_eio_disconnect(eio_sid, reason)
        if reason == self.reason.CLIENT_DISCONNECT:
            self._end_websocket(eio_sid)
        return result

    def _end_websocket(self, eio_sid: str) -> None:
        """A client's Engine.IO close packet ends the session, but engine.io keeps reading
        its websocket until the ping timeout: wake the writer so that it closes it now."""
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None and sock.upgraded:
            sock.queue.put_nowait(None)  # the writer's "stop": it closes the websocket

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> Any:
        if (isinstance(data, str) and data[:1] in ("5", "6")
                and eio_sid not in self._binary_packet
                and _attachments(data) > self._limits.max_attachments):
            log.warning("closing %s: too many binary attachments", eio_sid)
            await self.eio.disconnect(eio_sid)
            return None
        pending = self._binary_packet.get(eio_sid)
        if pending is not None and not isinstance(data, bytes):
            await self._close_malformed(eio_sid, "a text message where an attachment was due")
            return None
        try:
            await super()._handle_eio_message(eio_sid, data)
            header = self._binary_packet.get(eio_sid)
            if header is not None and header is not pending:
                self._await_attachments(eio_sid, header)
            return None
        except _ProtocolViolation as exc:
            await self._close_malformed(eio_sid, str(exc))
        except Exception as exc:  # noqa: BLE001 - any undecodable packet
            await self._close_malformed(eio_sid, f"{type(exc).__name__}: {str(exc)[:80]}")
        return None

    async def _close_malformed(self, eio_sid: str, why: str) -> None:
        self.quiet_log("malformed", "closing %s: malformed packet (%s)", eio_sid, why)
        self._binary_packet.pop(eio_sid, None)
        sid = self.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if sid is not None and self.manager.is_connected(sid, NAMESPACE):
            await self.close_with(sid, "invalid_packet", "The server could not read a message.")
        else:
            await self.eio.disconnect(eio_sid)

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        await super()._handle_connect(eio_sid, namespace, data)
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace or NAMESPACE)
        if (self.on_connected is not None and sid is not None
                and self.manager.is_connected(sid, namespace or NAMESPACE)):
            await self.on_connected(sid)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None,
                            data: Any) -> None:
        namespace = namespace or NAMESPACE
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            sock = self.eio.sockets.get(eio_sid)
            if sock is None or sock.closing or sock.closed:
                return None  # arrived after we closed it (a flood's tail)
            raise _ProtocolViolation("an event before the namespace handshake")
        name = data[0] if isinstance(data, list) and data else None
        if isinstance(name, str) and name not in RESERVED_EVENTS:
            return await super()._handle_event(eio_sid, namespace, id, data)  # type: ignore[no-any-return]
        if isinstance(name, str):
            code, message = "reserved_event", f"{name[:64]!r} is reserved; clients may not send it."
        else:
            code, message = "invalid_packet", "An event needs a name (a string)."
        answer = (await self.refuse_event(sid, code, message) if self.refuse_event is not None
                  else {"ok": False, "error": {"code": code, "message": message}})
        if id is not None and self.manager.is_connected(sid, namespace):
            await self._send_packet(eio_sid, self.packet_class(
                sio_packet.ACK, namespace=namespace, id=id, data=[answer]))
        return None

    def _await_attachments(self, eio_sid: str, header: Any) -> None:
        """A binary packet's attachments follow its header at once, or never will."""
        if header.attachment_count == 0:
            raise _ProtocolViolation("a binary packet without attachments")
        self._scheduler.after(f"attachments:{eio_sid}", self._limits.attachment_timeout_s,
                              lambda: self._drop_if_incomplete(eio_sid, header))

    async def _drop_if_incomplete(self, eio_sid: str, header: Any) -> None:
        if self._binary_packet.get(eio_sid) is header:
            await self._close_malformed(eio_sid, "attachments not sent in time")

    async def _drop_if_idle(self, eio_sid: str) -> None:
        if eio_sid in self.environ and self.manager.sid_from_eio_sid(eio_sid, NAMESPACE) is None:
            log.info("closing %s: no namespace handshake in time", eio_sid)
            await self.eio.disconnect(eio_sid)


class _ProtocolViolation(Exception):
    pass


class ThrottledErrors(logging.Filter):
    """Engine.IO and aiohttp log one ERROR with a traceback per undecodable frame or
    request a client sends. Let one line of each kind through every 10 s (with how
    many were left out), so a hostile client cannot fill the log."""

    def __init__(self, every_s: float = 10.0) -> None:
        super().__init__("ledarstig.throttle")
        self._throttle = LogThrottle(every_s)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        kind = f"{record.name}:{record.msg}"
        suppressed = self._throttle.allow(kind, time.monotonic())
        if suppressed is None:
            return False
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like it in the last 10 s)"
        return True

    @classmethod
    def install(cls) -> None:
        for name in ("engineio.server", "socketio.server", "aiohttp.server"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, cls) for f in logger.filters):
                logger.addFilter(cls())


def _loopback(address: str) -> bool:
    return address in ("127.0.0.1", "::1") or address.startswith("127.")


class _Preencoded(eio_packet.Packet):  # type: ignore[misc]
    """An Engine.IO message whose wire forms are computed once for all recipients.

    WebSocket recipients get the raw form (text, or bytes for a binary message);
    long-polling recipients get the payload form, where a binary message is
    base64 text (``b...``). Both are cached, neither through ``encode_cache``,
    which Engine.IO would return for either form.
    """

    def __init__(self, payload: str | bytes) -> None:
        super().__init__(eio_packet.MESSAGE, payload)
        self._wire: str | bytes = super().encode()
        self.encode_cache = None
        self._b64: str | None = None

    def encode(self, b64: bool = False) -> str | bytes:
        if not b64 or not self.binary:
            return self._wire
        if self._b64 is None:
            self._b64 = "b" + base64.b64encode(self.data).decode("ascii")
        return self._b64


def _attachments(encoded: str) -> int:
    dash = encoded.find("-", 1, 12)
    try:
        return int(encoded[1:dash]) if dash > 1 else 0
    except ValueError:
        return 0
