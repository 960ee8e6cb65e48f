"""python-socketio's server, with the guards it lacks.

- A connection that never completes the namespace handshake is closed
  after ``handshake_timeout_s``.
- A binary event announcing more attachments than allowed is refused
  before any attachment is buffered.
"""

import logging
from typing import Any

import socketio

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


def _attachments(encoded: str) -> int:
    dash = encoded.find("-", 1, 12)
    try:
        return int(encoded[1:dash]) if dash > 1 else 0
    except ValueError:
        return 0
