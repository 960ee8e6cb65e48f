"""Structured logs: one JSON object a line (or readable lines for a console)."""

import logging

import structlog


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    renderer = (structlog.processors.JSONRenderer() if json_lines
                else structlog.dev.ConsoleRenderer(colors=False))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("engineio.server", "socketio.server", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
