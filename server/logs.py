"""Structured logs: one JSON object a line (or readable lines for a console)."""

import logging

import structlog
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, StreamResponse


class AccessLogger(AbstractAccessLogger):
    """HTTP requests as structured lines; Socket.IO transport requests are left out
    (one per connection, and the gateway logs what matters about them)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path.startswith("/socket.io/"):
            return
        # The path only: query strings carry invitation and resume tokens.
        self.logger.info("%s %s %s %.1fms", request.method, request.path,
                         response.status, time * 1000)


class UnparsableRequests(logging.Filter):
    """aiohttp logs a request it cannot parse with its first bytes (the URL of an
    over-long request line, an over-long header's value), tokens and all, and a
    traceback. Keep one line: who, and what kind of error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "unparsable HTTP request from %s: %s (%d)", (
                remote, type(exc).__name__, exc.code)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def redact_unparsable_requests() -> None:
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, UnparsableRequests) for f in server.filters):
        server.addFilter(UnparsableRequests())


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    renderer = (structlog.processors.JSONRenderer() if json_lines
                else structlog.dev.ConsoleRenderer(colors=False))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("engineio.server", "socketio.server", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
