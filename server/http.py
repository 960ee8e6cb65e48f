"""aiohttp's runner, with our error body for requests the HTTP parser refuses.

aiohttp answers a request it cannot parse (a request line or header over 8,190
bytes, a malformed line) itself, in plain text that repeats the start of the
line, before any middleware runs. ``Runner`` makes that answer the documented
``{"error": {"code", "message"}}`` body; the log line stays redacted
(``server.logs.UnparsableRequests``). This is the one place that reaches into
aiohttp's server internals (``_make_server``, ``Server._kwargs``), pinned by
``tests/functional/test_durability_functional.py``.
"""

import asyncio
import contextlib
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

_CODES = {413: "payload_too_large", 431: "headers_too_large"}


class _JsonErrors(RequestHandler):  # type: ignore[misc]
    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        plain = super().handle_error(request, status, exc, message)  # logs, checks output
        if not 400 <= plain.status < 500:
            return plain
        answer = web.json_response({"error": {
            "code": _CODES.get(plain.status, "invalid_request"),
            "message": "The server could not read the request: a line or header is too "
                       "long, or the request is malformed."}}, status=plain.status)
        answer.force_close()
        return answer


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrors(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """``web.AppRunner`` whose connections answer unparsable requests with our body."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server
        return server


def run(app: web.Application, host: str, port: int, backlog: int, **runner_args: Any) -> None:
    """``web.run_app`` with ``Runner``: serve until SIGINT/SIGTERM, then clean up."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, backlog, runner_args))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        main.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(main)
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve(app: web.Application, host: str, port: int, backlog: int,
                 runner_args: dict[str, Any]) -> None:
    runner = Runner(app, handle_signals=True, **runner_args)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=backlog).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
