"""python-socketio's server, with the guards it lacks.

- A connection that never completes the namespace handshake is closed
  after ``handshake_timeout_s``.
- A binary event announcing more attachments than allowed is refused
  before any attachment is buffered.

It also has a faster broadcast path, ``fanout``: the packet is encoded once
and put straight into each recipient's Engine.IO send queue, instead of one
task and one encoding per recipient (python-socketio's ``emit``).
"""

import base64
import logging
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from server.config import Limits, Settings
from server.scheduler import Scheduler

log = logging.getLogger("ledarstig.sio")
NAMESPACE = "/"


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, settings: Settings, scheduler: Scheduler, **kwargs: Any) -> None:
        limits = settings.limits
        super().__init__(
            async_mode="aiohttp",
            async_handlers=False,
            serializer="msgpack" if settings.serializer == "msgpack" else "default",
            max_http_buffer_size=limits.max_message_bytes,
            cors_allowed_origins=list(settings.cors_origins),
            ping_interval=settings.ping_interval_s,
            ping_timeout=settings.ping_timeout_s,
            **kwargs,
        )
        self._limits: Limits = limits
        self._scheduler = scheduler

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

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        self._scheduler.after(f"handshake:{eio_sid}", self._limits.handshake_timeout_s,
                              lambda: self._drop_if_idle(eio_sid))
        return result

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> Any:
        self._scheduler.cancel(f"handshake:{eio_sid}")
        return await super()._handle_eio_disconnect(eio_sid, reason)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> Any:
        if (isinstance(data, str) and data[:1] in ("5", "6")
                and eio_sid not in self._binary_packet
                and _attachments(data) > self._limits.max_attachments):
            log.warning("closing %s: too many binary attachments", eio_sid)
            await self.eio.disconnect(eio_sid)
            return None
        return await super()._handle_eio_message(eio_sid, data)

    async def _drop_if_idle(self, eio_sid: str) -> None:
        if eio_sid in self.environ and self.manager.sid_from_eio_sid(eio_sid, NAMESPACE) is None:
            log.info("closing %s: no namespace handshake in time", eio_sid)
            await self.eio.disconnect(eio_sid)


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
