"""A small client for Janus's HTTP API: one session, its long-poll, and handles.

Why not ``janus-client`` from PyPI: it makes the Python process the WebRTC
endpoint (aiortc peer connections inside its plugin classes), while we only
relay browsers' session descriptions; it would also pull aiortc into the
server. The API we need is small: ``create``, a long-poll that both delivers
events and keeps the session alive, ``attach``, plugin ``message`` (answered
at once with ``success``, or with ``ack`` and later an ``event`` carrying the
same transaction), ``trickle`` and ``detach``.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp

from server.sfu.exceptions import JanusError, SfuUnavailable

log = logging.getLogger("ledarstig.janus")

VIDEOROOM = "janus.plugin.videoroom"
Json = dict[str, Any]
EventHook = Callable[[Json], None]


class _Poll:
    """One long-poll request: how many connections it opened (``_poll_session``)."""

    connections = 0


class _PollCut(Exception):
    """A long-poll's connection was cut before its answer."""


async def _connection_opened(session: aiohttp.ClientSession, ctx: Any, params: Any) -> None:
    poll = ctx.trace_request_ctx
    if isinstance(poll, _Poll):
        poll.connections += 1
        if poll.connections > 1:  # aiohttp sends the GET again: refuse (it cleans up)
            raise _PollCut("the long-poll's connection was cut")


def _poll_session() -> aiohttp.ClientSession:
    """The long-poll's own HTTP client: a new connection for every poll (never one a
    server may have closed while idle), and aiohttp's second try of a GET whose
    connection was cut before the answer refused, since that would hide the cut."""
    trace = aiohttp.TraceConfig()
    trace.on_connection_create_start.append(_connection_opened)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True),
                                 trace_configs=[trace])


class Handle:
    """One plugin handle: one publisher's or one subscriber's PeerConnection."""

    def __init__(self, session: "JanusSession", handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.on_event: EventHook = lambda event: None

    async def request(self, body: Json) -> Json:
        """A synchronous plugin request (create, destroy, exists...): its data."""
        reply = await self.session.post(f"/{self.id}", {"janus": "message", "body": body})
        return _plugin_data(reply)

    async def message(self, body: Json, jsep: Json | None = None,
                      within_s: float = 10.0) -> tuple[Json, Json | None]:
        """An asynchronous plugin request (join, configure, start): data and JSEP."""
        payload: Json = {"janus": "message", "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        reply = await self.session.post(f"/{self.id}", payload, wait_event=True,
                                        within_s=within_s)
        return _plugin_data(reply), reply.get("jsep")

    async def trickle(self, candidate: Json | None) -> None:
        await self.session.post(f"/{self.id}", {
            "janus": "trickle", "candidate": candidate or {"completed": True}})

    async def detach(self) -> None:
        self.session.handles.pop(self.id, None)
        with contextlib.suppress(SfuUnavailable, JanusError):
            await self.session.post(f"/{self.id}", {"janus": "detach"})


class JanusSession:
    """A Janus session kept alive by its own long-poll task.

    ``closed`` is set when the session is lost (Janus stopped, restarted or
    timed the session out); every waiting request then fails with
    ``SfuUnavailable``.
    """

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str | None) -> None:
        self._http, self._url, self._secret = http, url.rstrip("/"), secret
        self.id: int | None = None
        self.handles: dict[int, Handle] = {}
        self.closed = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[Json]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "JanusSession":
        reply = await self.post("", {"janus": "create"}, session=False)
        self.id = int(reply["data"]["id"])
        self._poller = asyncio.create_task(self._poll(), name=f"janus-poll:{self.id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if not self.closed.is_set():
            with contextlib.suppress(SfuUnavailable, JanusError):
                await self.post("", {"janus": "destroy"}, within_s=2.0)
        self._lost()

    async def attach(self, plugin: str = VIDEOROOM) -> Handle:
        reply = await self.post("", {"janus": "attach", "plugin": plugin})
        handle = Handle(self, int(reply["data"]["id"]))
        self.handles[handle.id] = handle
        return handle

    async def post(self, path: str, body: Json, *, session: bool = True,
                   wait_event: bool = False, within_s: float = 10.0) -> Json:
        """POST one request; with ``wait_event``, wait for its asynchronous event."""
        if self.closed.is_set():
            raise SfuUnavailable("The video server is not reachable.")
        transaction = secrets.token_hex(8)
        body = {**body, "transaction": transaction}
        if self._secret:
            body["apisecret"] = self._secret
        url = self._url + (f"/{self.id}" if session else "") + path
        waiter: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = waiter
        try:
            async with asyncio.timeout(within_s):
                reply = await self._send(url, body)
                if reply.get("janus") == "ack" and wait_event:
                    reply = await waiter
        except TimeoutError as exc:
            raise SfuUnavailable("The video server did not answer in time.") from exc
        finally:
            self._waiting.pop(transaction, None)
        if reply.get("janus") == "error":
            err = reply.get("error", {})
            raise JanusError(int(err.get("code", 0)), str(err.get("reason", "error")))
        return reply

    async def _send(self, url: str, body: Json) -> Json:
        try:
            async with self._http.post(url, json=body) as resp:
                reply: Json = await resp.json(content_type=None)
                return reply
        except (aiohttp.ClientError, ValueError) as exc:
            raise SfuUnavailable("The video server is not reachable.") from exc

    async def _poll(self) -> None:
        """Long-poll the session's events until the session is lost.

        Janus does not replay events: what it wrote to a poll whose connection was cut
        is gone (seen in tests/functional/test_sfu_functional.py: the answer to a
        subscription, while the next poll got a keepalive), so requests waiting for
        those events would fail one by one while the session looked alive. A poll cut
        in any way ends the session instead: the supervisor (``server.sfu.videorooms``)
        starts a new one and re-plans, and the clients publish and subscribe again.
        That includes a cut aiohttp would hide by sending the GET again on a new
        connection (``_poll_session``)."""
        params = {"maxev": "20", **({"apisecret": self._secret} if self._secret else {})}
        url = f"{self._url}/{self.id}"
        try:
            async with _poll_session() as http:
                while True:
                    poll = _Poll()
                    async with http.get(url, params=params, trace_request_ctx=poll,
                                        timeout=aiohttp.ClientTimeout(total=45)) as resp:
                        batch = await resp.json(content_type=None)
                    for event in batch if isinstance(batch, list) else [batch]:
                        if event.get("janus") == "error":
                            log.warning("janus session %s lost: %s", self.id,
                                        event.get("error"))
                            return
                        self._route(event)
        except (aiohttp.ClientError, TimeoutError, ValueError, _PollCut) as exc:
            log.warning("janus session %s lost: %r", self.id, exc)
        finally:
            self._lost()

    def _route(self, event: Json) -> None:
        waiter = self._waiting.get(event.get("transaction", ""))
        if waiter is not None and not waiter.done() and event.get("janus") != "ack":
            waiter.set_result(event)
            return
        handle = self.handles.get(event.get("sender", 0))
        if handle is not None:
            try:
                handle.on_event(event)
            except Exception:
                log.exception("janus event hook failed")

    def _lost(self) -> None:
        self.closed.set()
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(SfuUnavailable("The video server went away."))


def _plugin_data(reply: Json) -> Json:
    data: Json = reply.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        raise JanusError(int(data["error_code"]), str(data.get("error", "error")))
    return data


__all__ = ["VIDEOROOM", "Handle", "JanusSession"]
