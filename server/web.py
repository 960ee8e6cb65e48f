"""Pages and operational endpoints: home, health, metrics, the web client."""

import functools
from pathlib import Path

from aiohttp import web

from server.i18n import negotiate, translate
from server.keys import HUB, METRICS, SETTINGS, STORE
from server.metrics import CONTENT_TYPE
from server.pages import front
from server.store import StoreError

CLIENT_DIST = Path(__file__).resolve().parent.parent / "web_client" / "dist"


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()  # a real write: 503 while the logs cannot grow
    except StoreError as exc:
        return web.json_response({"status": "failing", "store": str(exc)}, status=503)
    return web.json_response({"status": "ok", "store": "ok",
                              "meetings": len(request.app[HUB].all())})


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS]
    registry.meetings.set(len(request.app[HUB].all()))
    return web.Response(body=registry.render(), headers={"Content-Type": CONTENT_TYPE})


async def client_page(request: web.Request) -> web.StreamResponse:
    index = CLIENT_DIST / "index.html"
    if not index.exists():
        lang = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
        return web.Response(status=503, text=translate(lang, "client.missing"))
    page = _client_index(index.stat().st_mtime_ns, request.app[SETTINGS].serializer)
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})


@functools.lru_cache(maxsize=4)
def _client_index(mtime_ns: int, serializer: str) -> str:
    """index.html saying which packet format this server speaks (read once per build)."""
    return (CLIENT_DIST / "index.html").read_text("utf-8").replace(
        '<meta name="ledarstig-serializer" content="json">',
        f'<meta name="ledarstig-serializer" content="{serializer}">')


async def client_asset(request: web.Request) -> web.StreamResponse:
    """A file of the built client; names carry a content hash, so they never change."""
    name = request.match_info["name"]
    path = (CLIENT_DIST / name).resolve()
    if "/" in name or name.startswith(".") or path.parent != CLIENT_DIST.resolve() \
            or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable",
                                           "X-Content-Type-Options": "nosniff"})


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(Path(__file__).parent / "static" / "favicon.ico",
                            headers={"Cache-Control": "public, max-age=86400"})


async def accessibility(request: web.Request) -> web.FileResponse:
    """The accessibility statement (WCAG 2.1 AA) in the asked or preferred language."""
    lang = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
    return web.FileResponse(Path(__file__).parent / "static" / "accessibility" / f"{lang}.html",
                            headers={"Content-Language": lang})


def routes() -> list[web.AbstractRouteDef]:
    table: list[web.AbstractRouteDef] = [
        web.get("/", front.home),  # the organisers' sign-in (server.pages.front)
        web.get("/healthz", healthz),
        web.get("/favicon.ico", favicon),
        web.get("/accessibility", accessibility),
        web.get("/metrics", metrics),
        web.get("/m/{meeting}", client_page),
    ]
    table.append(web.static("/static", Path(__file__).parent / "static"))
    table.append(web.get("/assets/{name}", client_asset))
    return table
