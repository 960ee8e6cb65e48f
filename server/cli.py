"""The ``ledarstig`` command."""

import asyncio
import logging
import os
import sys
from pathlib import Path

import click
from aiohttp import web

from server.app import create_app
from server.config import Settings
from server.credentials import load_or_create
from server.logs import AccessLogger, configure_logging


@click.group()
def main() -> None:
    """Ledarstig: meetings and breakout groups for leadership programmes."""


@main.command()
@click.option("--host", envvar="LEDARSTIG_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar=["LEDARSTIG_PORT", "PORT"], default=8080, type=int,
              show_default=True)
@click.option("--data-dir", envvar="LEDARSTIG_DATA_DIR", default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--serializer", envvar="LEDARSTIG_SERIALIZER", default="json",
              type=click.Choice(["json", "msgpack"]), show_default=True)
@click.option("--public-url", envvar="LEDARSTIG_PUBLIC_URL", default=None,
              help="Base URL for invitation links (default: the request's host).")
@click.option("--grace", envvar="LEDARSTIG_GRACE_S", default=60.0, type=float,
              show_default=True, help="Seconds a dropped participant may take to return.")
@click.option("--log-format", envvar="LEDARSTIG_LOG_FORMAT", default="json",
              type=click.Choice(["json", "console"]), show_default=True)
@click.option("--gc-freeze/--no-gc-freeze", envvar="LEDARSTIG_GC_FREEZE", default=True,
              show_default=True, help="Keep the long-lived heap out of the collector.")
@click.option("--allowed-origin", "allowed_origins", multiple=True,
              envvar="LEDARSTIG_ALLOWED_ORIGINS",
              help="A browser origin allowed besides the server's own (repeatable; "
                   "env: space-separated).")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True,
              envvar="LEDARSTIG_TRUSTED_PROXIES",
              help="Address or CIDR of a reverse proxy whose X-Forwarded-For/-Proto "
                   "are believed (repeatable; env: space-separated).")
@click.option("--loop", "loop_name", envvar="LEDARSTIG_LOOP", default="uvloop",
              type=click.Choice(["uvloop", "asyncio"]), show_default=True)
def serve(host: str, port: int, data_dir: Path, serializer: str, public_url: str | None,
          grace: float, log_format: str, gc_freeze: bool, loop_name: str,
          allowed_origins: tuple[str, ...] = (), trusted_proxies: tuple[str, ...] = ()) -> None:
    """Run the server (embedded SQLite store under --data-dir)."""
    configure_logging(json_lines=log_format == "json")
    settings = Settings(host=host, port=port, data_dir=data_dir, serializer=serializer,
                        admin_token=os.environ.get("LEDARSTIG_ADMIN_TOKEN") or None,
                        secret_key=os.environ.get("LEDARSTIG_SECRET_KEY") or None,
                        public_url=public_url, grace_s=grace, gc_freeze=gc_freeze,
                        cors_origins=allowed_origins, trusted_proxies=trusted_proxies)
    creds = load_or_create(settings.data_dir, settings.admin_token, settings.secret_key)
    url = public_url or f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    click.echo(f"Ledarstig is running at {url}/  (data in {data_dir.resolve()})")
    if creds.admin_token_created:
        click.echo(f"Admin token (shown once, kept in {data_dir / 'admin_token'}): "
                   f"{creds.admin_token}")
    if loop_name == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # A deep accept queue: a join storm of hundreds must not wait on SYN retries.
    web.run_app(create_app(settings), host=host, port=port, print=None, backlog=4096,
                access_log=logging.getLogger("ledarstig.access"),
                access_log_class=AccessLogger, shutdown_timeout=0.2)  # see server/shutdown.py
    # Everything with a lifetime is closed by now (clients told, store flushed and closed).
    # The interpreter's own teardown of a large heap takes 0.6-1.5 s more: skip it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
