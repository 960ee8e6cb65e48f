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

It also has a faster broadcast path, ``fanout``: the packet is encoded once,
and a server-to-client websocket frame is unmasked, so its bytes are the same
for every recipient: it is framed once and written straight to each websocket
recipient's transport, with no task, queue or encoding per recipient (see
``fanout`` for when a recipient goes through its Engine.IO queue instead).
permessage-deflate is not negotiated, so every frame can be shared.
"""

import asyncio
import base64
import collections
import contextlib
import functools
import inspect
import json
import logging
import random
import struct
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
import socketio
from aiohttp import WSMessage, WSMsgType
from aiohttp.web import WebSocketResponse
from engineio import async_socket as eio_async_socket
from engineio import exceptions as eio_exceptions
from engineio import json as eio_json
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as eio_aiohttp
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

#: What one connection may have waiting to be sent (its transport's buffer plus its
#: Engine.IO queue) before it is cut: a client that reads nothing for this long is gone,
#: and a phone on a weak link still has minutes of meeting traffic in it. A cut client
#: reconnects and resumes from its ``last_seq``.
SEND_BACKLOG_BYTES = 4 * 1024 * 1024

#: How long closing a connection waits for what was queued before the close (its reason,
#: Engine.IO's CLOSE) to go out; a client that reads nothing is not waited for longer.
CLOSE_DRAIN_S = 2.0

#: The longest a frame waits in ``SocketServer._corked`` for others to the same connection
#: in the same turn of the loop (see ``_uncork``).
CORK_MAX_S = 0.0005

#: Each PING is due after ``ping_interval`` less up to this share of it, at random:
#: connections opened together (a session's start, everyone back after a network blip)
#: would otherwise be pinged together every interval, a thousand PINGs and PONGs in one
#: burst that holds up every message behind it (~30 ms of the loop). A client only
#: minds a PING later than the interval plus the timeout.
PING_SPREAD = 0.2

#: A message handled, and frames held back for at most this many connections in this
#: turn of the loop (a relay and its ack, a chat's ack): they go out at once instead of
#: at the turn's end, behind every other message the loop read. More than that is a
#: busy turn (a broadcast storm, a join storm), whose frames to one connection are
#: still gathered into one write.
FEW_CORKED = 4

#: ``refuse_event(sid, code, message)``: the ack for a refused event.
RefuseEvent = Callable[[str, str, str], Awaitable[dict[str, Any]]]


class _IndexedManager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's in-process manager, knowing each sid's rooms: its disconnect
    (and ``get_rooms``) walked every room of the namespace, so a thousand connections
    closing at once walked a thousand rooms a thousand times (a meeting ending, a
    network blip, the end of a join storm: ~10 % of its CPU)."""

    def __init__(self) -> None:
        super().__init__()
        self._rooms_of: dict[tuple[str, str], dict[Any, None]] = {}  # insertion order

    def basic_enter_room(self, sid: str, namespace: str, room: Any,
                         eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is None:
            self._rooms_of[(namespace, sid)] = {room: None}
        else:
            rooms[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """``BaseManager.basic_disconnect`` (5.x) with the sid's rooms from the index."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        if sid in self.callbacks:
            del self.callbacks[sid]
        if namespace in self.pending_connect and sid in self.pending_connect[namespace]:
            self.pending_connect[namespace].remove(sid)
            if len(self.pending_connect[namespace]) == 0:
                del self.pending_connect[namespace]
        if namespace in self.pending_disconnect and \
                sid in self.pending_disconnect[namespace]:
            self.pending_disconnect[namespace].remove(sid)
            if len(self.pending_disconnect[namespace]) == 0:
                del self.pending_disconnect[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


#: Managers that deliver in this process only (the fast path's condition).
_LOCAL_MANAGERS = (socketio.AsyncManager, _IndexedManager)


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, settings: Settings, scheduler: Scheduler, **kwargs: Any) -> None:
        limits = settings.limits
        edge = Edge(settings.trusted_proxies, settings.cors_origins, settings.public_url)
        kwargs.setdefault("client_manager", _IndexedManager())
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
        #: See SEND_BACKLOG_BYTES; connections cut for it so far.
        self.send_backlog_bytes = SEND_BACKLOG_BYTES
        self.backlog_cuts = 0
        #: Frames for idle websockets in this turn of the loop, written by _uncork (each
        #: transport's list: when its first frame was corked, then its frames), and when
        #: the oldest of them was corked.
        self._corked: dict[Any, list[Any]] = {}
        self._corked_at = 0.0
        self._uncork_due = False
        self._cutting: set[asyncio.Task[None]] = set()  # cuts begun by fanout_now
        #: Event name -> its handler, once seen to be a coroutine function.
        self._coroutine_handlers: dict[str, Any] = {}
        # Our websocket wrapper: no permessage-deflate, and a handle for the fast path.
        self.eio._async = {**self.eio._async, "websocket": _FastWebSocket}
        self.eio.create_queue = _LeanQueue  # each Engine.IO socket's send queue
        if self.packet_class is sio_packet.Packet:
            self.packet_class = _JsonPacket  # decodes with one JSON decoder made once
        ThrottledErrors.install()

    async def fanout(self, event: str, data: Any, to: str | list[str]) -> None:
        """Emit ``event`` to a room, a list of rooms or one sid, in call order.

        The packet is encoded and framed once. A websocket recipient whose Engine.IO
        writer is idle (nothing queued, its task waiting on the queue) gets the frame
        written straight to its transport (at the end of this turn of the loop, with
        the turn's other frames to it: ``_uncork``); any other recipient (a writer with work in
        hand, a long-polling client, an upgrade under way) gets the packet queued, so
        everything sent to one connection keeps its order. A recipient with more than
        ``send_backlog_bytes`` waiting is cut (see SEND_BACKLOG_BYTES).
        """
        if not self.delivers_here:
            await self.emit(event, data, to=to)  # a pub/sub manager must publish
            return
        for eio_sid in self._fanout_frames(event, data, to):
            await self._cut(eio_sid)

    @property
    def delivers_here(self) -> bool:
        """Whether this process delivers to its own connections only (no pub/sub
        manager), as ``fanout_now`` needs."""
        return type(self.manager) in _LOCAL_MANAGERS

    def fanout_now(self, packets: Sequence[tuple[str, Any, str | list[str]]]) -> None:
        """Each ``(event, data, to)`` as ``fanout`` sends it, and then out at once with
        everything held back in this turn of the loop (``_uncork``), for a caller that is
        not a coroutine and knows no more is coming (a commit's deliveries: each a turn
        sooner, in one write per connection). Only when ``delivers_here``; a recipient
        over its backlog is cut by a task of its own."""
        cut = list(dict.fromkeys(  # a connection over its backlog is cut once
            eio_sid for event, data, to in packets
            for eio_sid in self._fanout_frames(event, data, to)))
        self._uncork()
        if cut:
            task = asyncio.get_running_loop().create_task(self._cut_all(cut))
            self._cutting.add(task)
            task.add_done_callback(self._cutting.discard)

    async def _cut_all(self, eio_sids: list[str]) -> None:
        for eio_sid in eio_sids:
            await self._cut(eio_sid)

    def _fanout_frames(self, event: str, data: Any, to: str | list[str]) -> list[str]:
        """Encode and frame once, hand to every recipient; the connections to cut."""
        out = _Outgoing(encode_event(self.packet_class, event, data))
        sockets = self.eio.sockets
        cut: list[str] = []
        for _, eio_sid in self.manager.get_participants(NAMESPACE, to):
            sock = sockets.get(eio_sid)
            if sock is not None and not self._deliver(sock, out):
                cut.append(eio_sid)
        return cut

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        """python-socketio's one packet to one client (acks, CONNECT, DISCONNECT, errors),
        on the same path as ``fanout``: one connection's packets keep their order."""
        await self._send_encoded(eio_sid, pkt.encode())

    async def _send_encoded(self, eio_sid: str, encoded: Any) -> None:
        """One encoded packet (a list when binary) to one connection, framed once."""
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None and not self._deliver(sock, _Outgoing(encoded)):
            await self._cut(eio_sid)

    async def _handle_event_internal(self, server: Any, sid: str, eio_sid: str, data: Any,
                                     namespace: str, id: int | None) -> None:
        """python-socketio's, with the ACK made by ``encode_ack``: no packet object and
        no walk of the answer looking for bytes, for every command a client sends."""
        r = await server._trigger_event(data[0], namespace, sid, *data[1:])
        if r != self.not_handled and id is not None:
            args = [] if r is None else list(r) if isinstance(r, tuple) else [r]
            await self._send_encoded(eio_sid,
                                     encode_ack(self.packet_class, namespace, id, args))

    def _deliver(self, sock: Any, out: "_Outgoing") -> bool:
        """Write ``out.frame`` to an idle websocket, or queue ``out.packets`` on the
        Engine.IO socket; False when the connection's backlog is now over the limit."""
        if sock.closed or sock.closing:
            return True
        frame = out.frame
        transport = _idle_websocket(sock)
        if transport is not None:
            now = time.monotonic()
            if self._corked and now - self._corked_at > CORK_MAX_S:
                self._uncork(now - CORK_MAX_S)  # a long turn: out with what waited long
            corked = self._corked.get(transport)
            if corked is None:
                if not self._corked:
                    self._corked_at = now
                    if not self._uncork_due:
                        self._uncork_due = True
                        asyncio.get_running_loop().call_soon(self._uncork_turn)
                self._corked[transport] = [now, frame]
            else:
                corked.append(frame)
            return transport.get_write_buffer_size() <= self.send_backlog_bytes
        queue = sock.queue
        for pkt in out.packets:
            queue.put_nowait(pkt)
        return queue.waiting + _buffered(sock) <= self.send_backlog_bytes

    def _out_if_quiet(self) -> None:
        """A message handled: in a quiet turn, what it sent goes out now (FEW_CORKED)."""
        if 0 < len(self._corked) <= FEW_CORKED:
            self._uncork()

    def _uncork_turn(self) -> None:
        self._uncork_due = False
        self._uncork()

    def _uncork(self, corked_before: float | None = None) -> None:
        """Write each transport's frames of this turn of the loop in one go (one
        system call instead of one per frame: a join's handshake answer, welcome, events
        and ack; a busy room's broadcasts). It runs before any Engine.IO writer woken in
        this turn, since those were woken after the first frame was corked: a
        connection's order holds. In a turn that runs long (after a stall, the loop
        reads a backlog of messages at once), the transports whose first frame is
        ``CORK_MAX_S`` old go out as soon as it is (``corked_before``), so the first
        messages of the backlog are not held until the last one is handled; the others
        keep gathering (a join storm: a connection's welcome, plan and ack in one write,
        not cut in two by another's deadline)."""
        corked = self._corked
        if corked_before is None:
            self._corked = {}
            due = corked
        else:
            due = {}
            for transport, frames in corked.items():  # in the order they were corked
                if frames[0] > corked_before:
                    self._corked_at = frames[0]
                    break
                due[transport] = frames
            for transport in due:
                del corked[transport]
        for transport, frames in due.items():
            if not transport.is_closing():
                transport.write(frames[1] if len(frames) == 2 else b"".join(frames[1:]))

    async def _cut(self, eio_sid: str) -> None:
        """Close a connection that does not read what it is sent (its backlog is over
        the limit); its client reconnects and resumes from its last seq."""
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closed or sock.closing:
            return
        self.backlog_cuts += 1
        self.quiet_log("backlog", "closing %s: over %d bytes waiting to be sent",
                       eio_sid, self.send_backlog_bytes)
        transport = _ws_transport(sock)
        if transport is not None:
            transport.abort()  # nothing more goes out; engine.io sees the end and closes
        else:
            await self.close_eio(eio_sid, drain_s=0)  # it reads nothing: no wait

    async def close_with(self, sid: str, code: str, message: str) -> None:
        """Tell a namespace-connected client why it is closed, then close it."""
        eio_sid = self.manager.eio_sid_from_sid(sid, NAMESPACE)
        await self.fanout("closing", {"code": code, "message": message}, to=sid)
        await self.disconnect(sid)
        if eio_sid is not None:
            await self.close_eio(eio_sid)  # a client need not close it itself

    async def close_eio(self, eio_sid: str, drain_s: float = CLOSE_DRAIN_S) -> None:
        """Close an Engine.IO session as ``eio.disconnect`` does, but wait at most
        ``drain_s`` for what was queued before the close to go out. Engine.IO waits for
        its queue without end, and a long-polling client that stopped polling never
        empties it: whoever closed it (a meeting's end, a cut, a malformed packet)
        would wait for ever."""
        sock = self.eio.sockets.get(eio_sid)
        if sock is None:
            return
        await sock.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
        if drain_s > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain_s):
                    await sock.queue.join()
        if self.eio.sockets.get(eio_sid) is sock:
            del self.eio.sockets[eio_sid]

    async def close_all(self) -> None:
        """Close every Engine.IO socket, each once its queue is flushed (at most
        ``CLOSE_DRAIN_S``)."""
        if self.eio.sockets:
            await asyncio.gather(*(self.close_eio(s) for s in list(self.eio.sockets)))

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
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:  # engine.io schedules its first ping right after this
            sock.schedule_ping = functools.partial(_schedule_ping, sock)
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
        if type(data) is str and data[:1] == "2" and eio_sid not in self._binary_packet:
            event = self._plain_event(data)
            if event is not None:  # the common packet, read without a packet object
                try:
                    await self._handle_event(eio_sid, NAMESPACE, *event)
                except _ProtocolViolation as exc:
                    await self._close_malformed(eio_sid, str(exc))
                except Exception as exc:  # noqa: BLE001 - as below
                    await self._close_malformed(eio_sid,
                                                f"{type(exc).__name__}: {str(exc)[:80]}")
                self._out_if_quiet()
                return None
        if (isinstance(data, str) and data[:1] in ("5", "6")
                and eio_sid not in self._binary_packet
                and _attachments(data) > self._limits.max_attachments):
            log.warning("closing %s: too many binary attachments", eio_sid)
            await self.close_eio(eio_sid)
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
            self._out_if_quiet()
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
            await self.close_eio(eio_sid)

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        await super()._handle_connect(eio_sid, namespace, data)
        _slim_environ(self.environ.get(eio_sid))
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace or NAMESPACE)
        if sid is not None and self.manager.is_connected(sid, namespace or NAMESPACE):
            # Its handshake is done: no timer per connection left to fire for nothing
            # (a join storm's thousand, all due together, held up every message ~30 ms).
            self._scheduler.cancel(f"handshake:{eio_sid}")
            if self.on_connected is not None:
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
            handler = self._direct_handler(namespace, name)
            if handler is None:
                return await super()._handle_event(eio_sid, namespace, id, data)  # type: ignore[no-any-return]
            # python-socketio's _handle_event, _handle_event_internal and _trigger_event
            # for a coroutine registered for this very event, handled in order
            # (async_handlers=False): the same call and ACK, in one frame instead of four.
            try:
                r = await handler(sid, *data[1:])
            except asyncio.CancelledError:  # as python-socketio's _trigger_event
                r = None
            if id is not None:
                args = [] if r is None else list(r) if isinstance(r, tuple) else [r]
                await self._send_encoded(eio_sid,
                                         encode_ack(self.packet_class, namespace, id, args))
            return None
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

    def _plain_event(self, data: str) -> tuple[int | None, Any] | None:
        """(ack id, payload) of a JSON EVENT packet on the default namespace with no
        binary parts ("2", an optional id, a JSON array), decoded as python-socketio's
        packet would; None for anything else (the packet class decodes it, and says
        what is wrong with it)."""
        if self.packet_class is not _JsonPacket:
            return None
        start = 1
        while start < len(data) and start < 16 and data[start] in _DIGITS:
            start += 1
        if data[start:start + 1] != "[":
            return None
        id = int(data[1:start]) if start > 1 else None
        try:
            payload = _Json.loads(data[start:])
        except ValueError:
            return None
        return id, payload

    def _direct_handler(self, namespace: str, name: str) -> Any:
        """The coroutine function registered for ``name`` (what python-socketio's
        ``_trigger_event`` would await), or None where python-socketio must dispatch
        itself (a catch-all, a namespace handler class, a plain function, async
        handlers)."""
        handler = self.handlers.get(namespace, {}).get(name)
        if handler is None or self.async_handlers:
            return None
        known = self._coroutine_handlers.get(name)
        if known is not handler:
            if not inspect.iscoroutinefunction(handler):
                return None
            self._coroutine_handlers[name] = handler
        return handler

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
            await self.close_eio(eio_sid)


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


#: What stays of a connection's WSGI-style environ once its namespace handshake is done.
_ENVIRON_KEPT = ("aiohttp.request", "REMOTE_ADDR", "REQUEST_METHOD", "PATH_INFO",
                 "QUERY_STRING")


def _slim_environ(environ: dict[str, Any] | None) -> None:
    """Engine.IO's environ (a copy of every request header, ~1.3 KiB) lives as long as
    its connection (python-socketio keeps it, the request's frames hold it), but only
    the ``connect`` handler reads it; keep the request and the request line. In place:
    the same dict is referenced from several frames."""
    if environ is not None and len(environ) > len(_ENVIRON_KEPT):
        kept = {k: environ[k] for k in _ENVIRON_KEPT if k in environ}
        environ.clear()
        environ.update(kept)


def _loopback(address: str) -> bool:
    return address in ("127.0.0.1", "::1") or address.startswith("127.")


class _Outgoing:
    """An encoded Socket.IO packet (a list when it has binary attachments) on its way to
    one connection or many: ``frame``, the websocket frames of all its parts joined,
    made at once; ``packets``, its Engine.IO packets, made only when a recipient needs
    them queued (most go out as ``frame``)."""

    __slots__ = ("_encoded", "frame", "_packets")

    def __init__(self, encoded: Any) -> None:
        self._encoded = encoded
        self._packets: list[_Preencoded] | None = None
        if type(encoded) is str:  # the common case: one text message, "4" + the packet
            self.frame = ws_frame("4" + encoded)
        else:  # an Engine.IO message is "4" + text, or the bytes themselves
            self.frame = b"".join(ws_frame("4" + part if type(part) is str else part)
                                  for part in (encoded if isinstance(encoded, list)
                                               else [encoded]))

    @property
    def packets(self) -> "list[_Preencoded]":
        if self._packets is None:
            encoded = self._encoded
            if type(encoded) is str:
                self._packets = [_Preencoded(encoded, len(self.frame))]
            else:
                self._packets = [_Preencoded(p, len(p)) for p in
                                 (encoded if isinstance(encoded, list) else [encoded])]
        return self._packets


class _Preencoded(eio_packet.Packet):  # type: ignore[misc]
    """An Engine.IO message whose wire forms are computed once for all recipients.

    WebSocket recipients get the raw form (text, or bytes for a binary message)
    through their queue (on the fast path, the frame ``_Outgoing`` made instead);
    long-polling recipients get the payload form, where a binary message is base64
    text (``b...``). Both are cached, neither through ``encode_cache``, which
    Engine.IO would return for either form.
    """

    def __init__(self, payload: str | bytes, size: int) -> None:
        super().__init__(eio_packet.MESSAGE, payload)
        self._wire: str | bytes = super().encode()
        self.size = size  # bytes it takes on the wire (its websocket frame, near enough)
        self.encode_cache = None
        self._b64: str | None = None

    def encode(self, b64: bool = False) -> str | bytes:
        if not b64 or not self.binary:
            return self._wire
        if self._b64 is None:
            self._b64 = "b" + base64.b64encode(self.data).decode("ascii")
        return self._b64


def _compact_json(obj: Any) -> str:
    """Compact JSON for a Socket.IO packet, by orjson: 5-10 times the stdlib encoder's
    speed (a welcome: 7 µs -> 0.7 µs), text as UTF-8 rather than ``\\u`` escapes
    (shorter for Swedish and Finnish), NaN as null (the stdlib writes ``NaN``, which
    JSON parsers refuse). Keys that are not strings are written as the stdlib writes
    them (1 -> "1"; orjson takes twice as long then, so only when needed). Like the
    stdlib encoder it raises ``TypeError`` for what JSON cannot carry, bytes among
    them: the caller then makes a binary event."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


class _Json:
    """engine.io's ``json`` module for Socket.IO packets, with its ``loads`` (stdlib's,
    integers of at most 100 digits) made by one decoder instead of a new one per call."""

    dumps = staticmethod(json.dumps)
    _decode = json.JSONDecoder(parse_int=eio_json._safe_int).decode

    @staticmethod
    def loads(s: Any) -> Any:
        if type(s) is not str or s.startswith("\ufeff"):
            return eio_json.loads(s)  # what json.loads says about bytes or a BOM
        return _Json._decode(s)


class _JsonPacket(sio_packet.Packet):  # type: ignore[misc]
    """python-socketio's JSON packet, decoding with ``_Json``."""

    json = _Json


def encode_event(packet_class: Any, event: str, data: Any) -> str | bytes | list[Any]:
    """The Socket.IO EVENT packet ``[event, data]`` on the default namespace, as
    ``packet_class(EVENT, data=[event, data], namespace="/").encode()`` makes it (for
    JSON: the same packet, its JSON written by ``_compact_json``). For the JSON format
    without binary parts that is "2" + compact JSON; made directly, it skips
    python-socketio's walk of the whole payload looking for bytes (the encoder refuses
    bytes, and then the binary event is made)."""
    if packet_class is sio_packet.Packet or packet_class is _JsonPacket:
        if not (type(data) is dict and bytes in map(type, data.values())):
            try:
                return "2" + _compact_json([event, data])
            except TypeError:
                pass
        binary = _binary_event([event, data])
        if binary is not None:
            return binary
    return packet_class(sio_packet.EVENT, namespace=NAMESPACE,  # type: ignore[no-any-return]
                        data=[event, data]).encode()


def _binary_event(data: list[Any]) -> list[Any] | None:
    """A BINARY_EVENT on the default namespace as python-socketio's JSON packet encodes
    it ("5" + attachments + "-" + JSON with placeholders, then the attachments), in one
    walk of the payload instead of its three; None if it is not JSON and bytes."""
    attachments: list[Any] = []
    try:
        header = _compact_json(_placeholders(data, attachments))
    except TypeError:
        return None
    return [f"5{len(attachments)}-{header}", *attachments] if attachments else None


def _placeholders(data: Any, attachments: list[Any]) -> Any:
    """``Packet._deconstruct_binary_internal``: bytes out, placeholders in."""
    if isinstance(data, bytes | bytearray):
        attachments.append(data)
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(data, list):
        return [_placeholders(item, attachments) for item in data]
    if isinstance(data, dict):
        return {key: _placeholders(value, attachments) for key, value in data.items()}
    return data


def encode_ack(packet_class: Any, namespace: str, id: int,
               args: list[Any]) -> str | bytes | list[Any]:
    """The Socket.IO ACK packet answering event ``id``, as
    ``packet_class(ACK, namespace=namespace, id=id, data=args).encode()`` makes it (its
    JSON by ``_compact_json``); for JSON on the default namespace without binary parts:
    "3" + id + compact JSON."""
    if (packet_class is sio_packet.Packet or packet_class is _JsonPacket) \
            and namespace == NAMESPACE:
        try:
            return "3" + str(id) + _compact_json(args)
        except TypeError:
            pass
    return packet_class(sio_packet.ACK, namespace=namespace,  # type: ignore[no-any-return]
                        id=id, data=args).encode()


def ws_frame(message: str | bytes) -> bytes:
    """One unmasked, uncompressed, final websocket frame (RFC 6455 5.2) carrying
    ``message``: text for a str, binary for bytes, as aiohttp's server writes it."""
    if isinstance(message, str):
        payload, first = message.encode("utf-8"), 0x81
    else:
        payload, first = bytes(message), 0x82
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


class _FastWebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket wrapper (``WebSocket`` of
    engineio/async_drivers/aiohttp.py), changed in four ways:

    - permessage-deflate is never negotiated (a compressed frame has per-connection
      state, so it could not be shared by all recipients; our messages are small);
    - the Engine.IO socket it serves gets a handle on it (``fast_ws``) for the
      fan-out fast path;
    - it runs ``_serve_websocket`` instead of engine.io's ``_websocket_handler``;
    - a new session's answer (HTTP 101) and its Engine.IO OPEN packet go out in one
      write, not two (``_open``).
    """

    async def __call__(self, environ: dict[str, Any]) -> Any:
        request = environ["aiohttp.request"]
        self._sock = _HeldHeadersResponse(max_msg_size=self.server.max_http_buffer_size,
                                          compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        sock = getattr(self.handler, "__self__", None)  # the AsyncSocket upgrading
        if sock is None or getattr(self.handler, "__func__", None) is not _EIO_HANDLER:
            self._sock._payload_writer.send_headers()
            await self.handler(self)  # not engine.io's handler: leave it alone
            return self._sock
        _open(self._sock, sock)
        sock.fast_ws = self
        try:
            await _serve_websocket(sock, self)
        finally:
            sock.fast_ws = None
        return self._sock

    async def wait(self) -> str | bytes:
        msg = await self._sock.receive()
        if not isinstance(msg.data, bytes | str):
            raise OSError()
        return msg.data

    def silent(self) -> None:
        """End a ``wait`` under way as a receive timeout would: the client is gone."""
        reader = self._sock._reader
        if reader is not None:
            reader.feed_data(WSMessage(WSMsgType.ERROR, TimeoutError(), None), 0)


class _HeldHeadersResponse(WebSocketResponse):  # type: ignore[misc]
    """aiohttp's websocket response with its 101 headers held back at ``prepare`` (as
    aiohttp holds a plain response's), for ``_open`` to send with the first frames."""

    _send_headers_immediately = False


def _open(response: WebSocketResponse, sock: Any) -> None:
    """Send the held 101 headers; on a new session (not an upgrade from polling) with
    the frames of what Engine.IO queued before the websocket was up (its OPEN packet)
    in the same write, taken off the queue so the writer does not send them again."""
    writer = response._payload_writer
    frames = []
    if not sock.connected:
        queue = sock.queue
        while queue._queue and queue._queue[0] is not None:
            frames.append(ws_frame(queue.get_nowait().encode()))
            queue.task_done()
    if writer._headers_buf and not writer._headers_written:
        headers, writer._headers_buf, writer._headers_written = writer._headers_buf, None, True
        writer._write(headers + b"".join(frames) if frames else headers)
    elif frames:
        writer._write(b"".join(frames))


_EIO_HANDLER = eio_async_socket.AsyncSocket._websocket_handler
_DIGITS = frozenset("0123456789")
_NO_PUTTERS: "collections.deque[Any]" = collections.deque(maxlen=0)


class _LeanQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The Engine.IO socket's send queue, ~1.5 KiB lighter than ``asyncio.Queue`` (of
    Python 3.11) per connection: it is unbounded, so no putter ever waits (one shared
    empty deque instead of one each), and the event behind ``join()`` is made only
    when something joins (engine.io's close with ``wait``)."""

    def __init__(self, maxsize: int = 0) -> None:  # noqa: D107 - no super().__init__
        if maxsize:
            raise ValueError("_LeanQueue is unbounded")
        self._maxsize = 0
        self._getters: collections.deque[Any] = collections.deque()
        self._putters = _NO_PUTTERS
        self._unfinished_tasks = 0
        self._finished: asyncio.Event | None = None  # type: ignore[assignment]
        self._queue: collections.deque[Any] = collections.deque()
        #: Bytes of our messages waiting in it (``_Preencoded.size``; Engine.IO's own
        #: small packets count nothing): what the backlog limit counts.
        self.waiting = 0
        #: Set while a websocket serves this queue and has no writer yet: the writer is
        #: started by the first packet queued (most connections never need one: their
        #: frames go out on the fast path).
        self.start: Callable[[], None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._queue.append(item)
        if self.start is not None:
            self.start()
        if type(item) is _Preencoded:
            self.waiting += item.size
        self._unfinished_tasks += 1
        if self._finished is not None:
            self._finished.clear()
        self._wakeup_next(self._getters)  # type: ignore[attr-defined]

    def _get(self) -> Any:  # every get, get_nowait and the writer's own reads
        item = self._queue.popleft()
        if type(item) is _Preencoded:
            self.waiting -= item.size
        return item

    def task_done(self) -> None:
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0 and self._finished is not None:
            self._finished.set()

    async def join(self) -> None:
        if self._unfinished_tasks > 0:
            if self._finished is None:
                self._finished = asyncio.Event()
            await self._finished.wait()


async def _serve_websocket(sock: Any, ws: _FastWebSocket) -> None:
    """engine.io's ``AsyncSocket._websocket_handler`` (4.15), leaner per message: the
    reader awaits the next frame directly, watched by one silence timer per connection
    (``watch``, moved on lazily) instead of a new task and ``wait_for`` per frame, and
    the writer waits on the queue directly
    instead of through ``wait_for`` (which made a task per wake-up). The writer needs
    no timeout: the reader ends the session when the client is silent for
    ping_interval + ping_timeout, and then queues the writer's ``None``. Upgrades,
    errors and the close are handled as there."""
    server = sock.server
    max_size = server.max_http_buffer_size
    silence_s = server.ping_interval + server.ping_timeout

    async def websocket_wait() -> str | bytes:
        data = await ws.wait()
        if data and len(data) > max_size:
            raise ValueError("packet is too large")
        return data

    if sock.connected:
        # the socket was already connected, so this is an upgrade
        sock.upgrading = True  # hold packet sends during the upgrade
        try:
            pkt = await websocket_wait()
        except OSError:
            return
        decoded_pkt = eio_packet.Packet(encoded_packet=pkt)
        if decoded_pkt.packet_type != eio_packet.PING or decoded_pkt.data != "probe":
            server.logger.info("%s: Failed websocket upgrade, no PING packet", sock.sid)
            sock.upgrading = False
            return
        await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
        await sock.queue.put(eio_packet.Packet(eio_packet.NOOP))  # end poll
        try:
            pkt = await websocket_wait()
        except OSError:
            sock.upgrading = False
            return
        decoded_pkt = eio_packet.Packet(encoded_packet=pkt)
        if decoded_pkt.packet_type != eio_packet.UPGRADE:
            sock.upgraded = False
            server.logger.info("%s: Failed websocket upgrade, expected UPGRADE packet, "
                               "received %s instead.", sock.sid, pkt)
            sock.upgrading = False
            return
        sock.upgraded = True
        sock.upgrading = False
    else:
        sock.connected = True
        sock.upgraded = True

    queue = sock.queue

    async def writer() -> None:
        while True:
            pkt = await queue.get()
            queue.task_done()
            if pkt is None:
                break
            packets = [pkt]
            stop = False
            while queue._queue:
                pkt = queue.get_nowait()
                queue.task_done()
                if pkt is None:
                    stop = True
                    break
                packets.append(pkt)
            try:
                for pkt in packets:
                    await ws.send(pkt.encode())
            except Exception:  # noqa: BLE001 - engine.io's writer stops on any error
                break
            if stop:
                break
        await ws.close()

    writer_task: asyncio.Future[None] | None = None

    def start_writer() -> None:
        nonlocal writer_task
        queue.start = None
        writer_task = asyncio.ensure_future(writer())

    if queue._queue:
        start_writer()
    else:
        queue.start = start_writer  # by the first packet queued, if ever
    server.logger.info("%s: Upgrade to websocket successful", sock.sid)
    # Engine.IO MESSAGEs go straight to python-socketio's handler, as AsyncSocket.receive
    # and engine.io's _trigger_event would pass them (not as a task: async_handlers is
    # off in engine.io under python-socketio), without a packet object per frame.
    on_message = server.handlers.get("message")
    if server.async_handlers or not inspect.iscoroutinefunction(on_message):
        on_message = None
    # A client silent for ping_interval + ping_timeout is gone. One timer per
    # connection that moves on lazily, instead of a timeout armed and cancelled
    # around every frame read (a Timeout, a timer handle and a heap push each).
    loop = asyncio.get_running_loop()
    heard = loop.time()

    def watch() -> None:
        nonlocal watchdog
        if loop.time() < heard + silence_s:
            watchdog = loop.call_at(heard + silence_s, watch)
        else:
            ws.silent()
    watchdog = loop.call_at(heard + silence_s, watch)
    while True:
        try:
            p = await websocket_wait()
        except BaseException:  # noqa: BLE001 - a close, an error, the silence, a cancel
            break
        heard = loop.time()
        if p is None:
            break  # connection closed by client
        if on_message is not None and type(p) is str and p[:1] == "4" and p[1:2] in _DIGITS:
            try:
                await on_message(sock.sid, p[1:])
            except asyncio.CancelledError:
                pass
            except Exception:  # noqa: BLE001 - as engine.io: log it, keep the connection
                server.logger.exception("message async handler error")
            continue
        pkt = eio_packet.Packet(encoded_packet=p)
        try:
            await sock.receive(pkt)
        except eio_exceptions.UnknownPacketError:
            pass
        except eio_exceptions.SocketIsClosedError:
            server.logger.info("Receive error -- socket is closed")
            break
        except Exception:  # noqa: BLE001 - as engine.io: log it, keep the connection
            server.logger.exception("Unknown receive error")

    watchdog.cancel()
    if writer_task is None:
        queue.start = None
        await ws.close()  # what the writer does last
    else:
        await queue.put(None)  # unlock the writer task so it can exit
        await writer_task
    await sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


def _schedule_ping(sock: Any) -> None:
    """engine.io's ``AsyncSocket.schedule_ping`` (4.15) with a timer instead of a task
    that sleeps ``ping_interval``: no task per connection (and per ping cycle) while
    nothing is due; at the time, the PING goes out as ``_send_ping`` sends it. Each is
    due a little early, by a random share of the interval (``PING_SPREAD``)."""
    if sock.last_ping:  # only if the previous ping wait cycle completed
        sock.last_ping = None
        delay = sock.server.ping_interval * (1 - PING_SPREAD * random.random())
        asyncio.get_running_loop().call_later(delay, _ping_due, sock)


def _ping_due(sock: Any) -> None:
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.server.start_background_task(sock.send, eio_packet.Packet(eio_packet.PING))


def _ws_transport(sock: Any) -> Any:
    """The transport of an Engine.IO socket's open websocket, else None."""
    ws = getattr(sock, "fast_ws", None)
    if ws is None or not sock.upgraded:
        return None
    writer = ws._sock._writer
    if writer is None or writer._closing:  # (never compressed: _FastWebSocket)
        return None
    transport = writer.transport
    return None if transport is None or transport.is_closing() else transport


def _idle_websocket(sock: Any) -> Any:
    """The transport to write a frame to now, or None when the packet must be queued:
    only when the socket's Engine.IO writer task is parked on its empty queue is
    nothing else for this connection on its way, so a frame written now keeps order."""
    queue = sock.queue
    if queue._queue:
        return None
    if queue.start is not None:  # its websocket has no writer yet: nothing on its way
        return _ws_transport(sock)
    for getter in queue._getters:
        if not getter.done():
            return _ws_transport(sock)
    return None


def _buffered(sock: Any) -> int:
    transport = _ws_transport(sock)
    return transport.get_write_buffer_size() if transport is not None else 0


def _attachments(encoded: str) -> int:
    dash = encoded.find("-", 1, 12)
    try:
        return int(encoded[1:dash]) if dash > 1 else 0
    except ValueError:
        return 0
