"""The ``ledarstig`` command."""

import asyncio
import logging
import os
import sys
from pathlib import Path

import click
from aiohttp import web

from server import http
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
@click.option("--redis-url", envvar="LEDARSTIG_REDIS_URL", default=None,
              help="Run as one of several processes sharing Redis (redis://host:6379/0): "
                   "logs, snapshots, timers, keys and delivery across processes.")
@click.option("--cluster-idle", "cluster_idle_s", envvar="LEDARSTIG_CLUSTER_IDLE_S",
              default=Settings.cluster_idle_s, type=float, show_default=True,
              help="With --redis-url: seconds before a meeting nobody here uses is released.")
@click.option("--node-name", envvar="LEDARSTIG_NODE_NAME", default=None,
              help="This process's name behind nginx: set in the ledarstig_node cookie at "
                   "the Socket.IO handshake, which nginx routes long-polling by "
                   "(docs/deploy.md).")
@click.option("--janus-url", envvar="LEDARSTIG_JANUS_URL", default=None,
              help="Janus's HTTP API (e.g. http://127.0.0.1:8088/janus): plenary video "
                   "through its VideoRoom. Without it the plenary is a mesh or a stage.")
@click.option("--janus-secret", envvar="LEDARSTIG_JANUS_SECRET", default=None,
              help="Janus's api_secret (better given in the environment).")
@click.option("--janus-admin-key", envvar="LEDARSTIG_JANUS_ADMIN_KEY", default=None,
              help="The VideoRoom admin_key (better given in the environment).")
@click.option("--stun-url", "stun_urls", envvar="LEDARSTIG_STUN_URLS", multiple=True,
              help="A STUN server for browsers (repeat; the variable splits on spaces).")
@click.option("--turn-url", "turn_urls", envvar="LEDARSTIG_TURN_URLS", multiple=True,
              help="A TURN server, e.g. turn:turn.example.org:3478?transport=udp (repeat).")
@click.option("--turn-secret", envvar="LEDARSTIG_TURN_SECRET", default=None,
              help="coturn's static-auth-secret (better given in the environment).")
def serve(host: str, port: int, data_dir: Path, serializer: str, public_url: str | None,
          grace: float, log_format: str, gc_freeze: bool, loop_name: str,
          janus_url: str | None, janus_secret: str | None, janus_admin_key: str | None,
          stun_urls: tuple[str, ...], turn_urls: tuple[str, ...],
          turn_secret: str | None, redis_url: str | None = None,
          node_name: str | None = None, cluster_idle_s: float = Settings.cluster_idle_s,
          allowed_origins: tuple[str, ...] = (), trusted_proxies: tuple[str, ...] = ()) -> None:
    """Run the server (embedded SQLite store under --data-dir)."""
    configure_logging(json_lines=log_format == "json")
    settings = Settings(host=host, port=port, data_dir=data_dir, serializer=serializer,
                        admin_token=os.environ.get("LEDARSTIG_ADMIN_TOKEN") or None,
                        secret_key=os.environ.get("LEDARSTIG_SECRET_KEY") or None,
                        public_url=public_url, grace_s=grace, gc_freeze=gc_freeze,
                        cors_origins=allowed_origins, trusted_proxies=trusted_proxies,
                        janus_url=janus_url, janus_secret=janus_secret,
                        janus_admin_key=janus_admin_key, stun_urls=stun_urls,
                        turn_urls=turn_urls, turn_secret=turn_secret or None,
                        redis_url=redis_url or None, node_name=node_name or None,
                        cluster_idle_s=cluster_idle_s)
    if settings.redis_url:  # cluster: keys shared through Redis (server/cluster)
        from server.cluster import shared_credentials
        creds = shared_credentials(settings)
    else:
        creds = load_or_create(settings.data_dir, settings.admin_token, settings.secret_key)
    url = public_url or f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    click.echo(f"Ledarstig is running at {url}/  (data in {data_dir.resolve()})")
    if creds.admin_token_created:
        kept = "Redis" if settings.redis_url else data_dir / "admin_token"
        click.echo(f"Admin token (shown once, kept in {kept}): "
                   f"{creds.admin_token}")
    if loop_name == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = create_app(settings)
    cleaned_up: list[bool] = []

    async def mark_cleaned_up(_: web.Application) -> None:  # after the store is closed
        cleaned_up.append(True)

    app.on_cleanup.append(mark_cleaned_up)
    # A deep accept queue: a join storm of hundreds must not wait on SYN retries.
    http.run(app, host, port, backlog=4096, access_log=logging.getLogger("ledarstig.access"),
             access_log_class=AccessLogger, shutdown_timeout=0.2)  # see server/shutdown.py
    if cleaned_up:
        _skip_interpreter_teardown()


def _skip_interpreter_teardown() -> None:
    """Everything with a lifetime is closed by now (clients told, store flushed and closed).
    The interpreter's own teardown of a large heap takes 0.6-1.5 s more: skip it. Only
    after a real run: a caller whose run_app returned at once (a test) keeps its process."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@main.command("janus-config")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--api-ip", default="127.0.0.1", show_default=True,
              help="The private address Janus's HTTP API listens on.")
@click.option("--api-port", default=8088, type=int, show_default=True)
@click.option("--media-ip", default=None, help="The address Janus sends media from.")
@click.option("--public-ip", default=None, help="Announced instead (behind 1:1 NAT).")
def janus_config(folder: Path, api_ip: str, api_port: int, media_ip: str | None,
                 public_ip: str | None) -> None:
    """Write our Janus configuration (VideoRoom and HTTP only) and its secrets."""
    from server.sfu.janus_config import ENV_FILE, JanusConfig, command, write
    write(folder, JanusConfig(api_ip=api_ip, api_port=api_port, media_ip=media_ip,
                              public_ip=public_ip))
    click.echo(f"Wrote Janus's configuration to {folder.resolve()}; run it with\n  "
               f"{' '.join(command(folder))}\nand give ledarstig the settings in "
               f"{folder / ENV_FILE} (they are secret).")


if __name__ == "__main__":
    main()
