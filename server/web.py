"""Pages and operational endpoints: home, health, metrics, the web client."""

import functools
import html
from pathlib import Path

from aiohttp import web

from server.i18n import LANGUAGES, negotiate, translate
from server.keys import HUB, METRICS, SETTINGS, STORE
from server.metrics import CONTENT_TYPE
from server.store import StoreError

CLIENT_DIST = Path(__file__).resolve().parent.parent / "web_client" / "dist"


async def home(request: web.Request) -> web.Response:
    lang = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))

    def t(key: str) -> str:
        return html.escape(translate(lang, key))

    base = html.escape(f"{request.scheme}://{request.host}")
    meetings = request.app[HUB].all()
    items = "".join(
        f"<li>{html.escape(m.state.meeting.title)} <code>{html.escape(m.id)}</code></li>"
        for m in meetings) or f"<li>{t('home.none')}</li>"
    switch = " · ".join(f'<a href="/?lang={code}" lang="{code}">{code}</a>' for code in LANGUAGES)
    page = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{t('home.title')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/home.css"></head>
<body><main>
<nav aria-label="language">{switch}</nav>
<h1>{t('home.title')}</h1><p>{t('home.lead')}</p>
<h2>{t('home.first')}</h2>
<ol>
<li>{t('home.step_token')}</li>
<li>{t('home.step_create')}<pre>curl -X POST {base}/api/meetings \\
  -H "Authorization: Bearer $LEDARSTIG_ADMIN_TOKEN" \\
  -d '{{"title": "Ledarstig 1", "starts_at": "2026-12-01T09:00:00+02:00",
       "cohort": "2026-A"}}'</pre></li>
<li>{t('home.step_invite')}<pre>curl -X POST {base}/api/meetings/MEETING_ID/invites \\
  -H "Authorization: Bearer $LEDARSTIG_ADMIN_TOKEN"</pre></li>
<li>{t('home.step_share')}</li>
</ol>
<h2>{t('home.meetings')}</h2><ul>{items}</ul>
</main></body></html>"""
    return web.Response(text=page, content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
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
        web.get("/", home),
        web.get("/healthz", healthz),
        web.get("/favicon.ico", favicon),
        web.get("/accessibility", accessibility),
        web.get("/metrics", metrics),
        web.get("/m/{meeting}", client_page),
        web.get("/review/{meeting}", client_page),
    ]
    table.append(web.static("/static", Path(__file__).parent / "static"))
    table.append(web.get("/assets/{name}", client_asset))
    return table
