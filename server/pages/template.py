"""The organisers' pages: one small layout, translations, forms that carry CSRF."""

import functools
import html
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources

from aiohttp import web
from multidict import MultiDictProxy

from rooms.municipalities import MUNICIPALITIES
from server.i18n import LANGUAGES, negotiate
from server.keys import SETTINGS
from server.organisers import WORKSPACE
from server.organisers.sessions import COOKIE, OrganiserSession, csrf_ok
from server.store import StoreError

log = logging.getLogger("ledarstig.organisers")
LANG_COOKIE = "ledarstig_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("organiser_session", OrganiserSession)
FORM = web.RequestKey("form", MultiDictProxy)


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    text = resources.files("server.pages.i18n").joinpath(f"{lang}.json").read_text("utf-8")
    return dict(json.loads(text))


def lang_of(request: web.Request) -> str:
    return negotiate(request.query.get("lang") or request.cookies.get(LANG_COOKIE),
                     request.headers.get("Accept-Language"))


class Text:
    """Translations for one request's language; every value comes out HTML-escaped."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def raw(self, key: str, **values: object) -> str:
        text = catalog(self.lang).get(key) or catalog("sv").get(key) or key
        return text.format(**values) if values else text

    def __call__(self, key: str, **values: object) -> str:
        return esc(self.raw(key, **{k: str(v) for k, v in values.items()}))


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def secure(request: web.Request) -> bool:
    """TLS here, or behind a proxy the settings say serves https."""
    public = request.app[SETTINGS].public_url or ""
    return request.secure or public.startswith("https://")


def page(request: web.Request, title: str, body: str, *, status: int = 200,
         session: OrganiserSession | None = None) -> web.Response:
    t = Text(lang_of(request))
    current = ' aria-current="true"'
    langs = " ".join(
        f'<a href="?lang={code}" lang="{code}" hreflang="{code}"'
        f'{current if code == t.lang else ""}>{code.upper()}</a>'
        for code in LANGUAGES)
    nav = ""
    if session is not None:
        nav = (f'<a href="/o">{t("nav.programmes")}</a>'
               f'<form method="post" action="/signout" class="inline">{csrf_field(session)}'
               f'<button type="submit" class="link">{t("nav.signout")}</button></form>')
    doc = f"""<!doctype html>
<html lang="{t.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · Ledarstig</title>
<link rel="stylesheet" href="/static/organisers.css"></head>
<body><a class="skip" href="#main">{t("nav.skip")}</a>
<header class="top"><a class="brand" href="/">Ledarstig</a>
<nav aria-label="{t("nav.label")}">{nav}</nav>
<nav aria-label="{t("nav.language")}" class="langs">{langs}</nav></header>
<main id="main"><h1>{esc(title)}</h1>
{body}
</main><script src="/static/organisers.js" defer></script></body></html>"""
    response = web.Response(text=doc, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store",
                                     "Content-Security-Policy": CSP,
                                     "X-Frame-Options": "DENY",
                                     "Referrer-Policy": "no-referrer"})
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, request.query["lang"], max_age=365 * 86400,
                            httponly=True, samesite="Strict", secure=secure(request))
    return response


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def csrf_field(session: OrganiserSession) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf)}">'


def form(session: OrganiserSession, action: str, inner: str, *, cls: str = "",
         multipart: bool = False) -> str:
    enctype = ' enctype="multipart/form-data"' if multipart else ""
    klass = f' class="{cls}"' if cls else ""
    return (f'<form method="post" action="{esc(action)}"{enctype}{klass}>'
            f'{csrf_field(session)}{inner}</form>')


def field(label: str, name: str, value: object = "", *, kind: str = "text",
          required: bool = False, extra: str = "", help_text: str = "") -> str:
    fid = f"f-{name}"
    described = f' aria-describedby="{fid}-help"' if help_text else ""
    hint = f'<small id="{fid}-help">{help_text}</small>' if help_text else ""
    req = " required" if required else ""
    return (f'<div class="field"><label for="{fid}">{label}</label>'
            f'<input id="{fid}" name="{esc(name)}" type="{kind}" value="{esc(value)}"'
            f'{req}{described} {extra}>{hint}</div>')


def select(label: str, name: str, options: Iterable[tuple[str, str]], chosen: str = "") -> str:
    fid = f"f-{name}"
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(lbl)}'
                   f'</option>' for v, lbl in options)
    return (f'<div class="field"><label for="{fid}">{label}</label>'
            f'<select id="{fid}" name="{esc(name)}">{opts}</select></div>')


def table(caption: str, header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table; header and cells are HTML already."""
    head = "".join(f'<th scope="col">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="scroll" tabindex="0" role="region" aria-label="{caption}">'
            f'<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def signed_in(handler: Handler) -> Handler:
    """Only for a signed-in organiser; an unsafe method must carry the session's CSRF
    token (form field ``csrf`` or header ``X-CSRF-Token``)."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        workspace = request.app[WORKSPACE]
        session = workspace.sessions.get(request.cookies.get(COOKIE), workspace.clock.now_ms())
        t = Text(lang_of(request))
        if session is None:
            if request.method in SAFE_METHODS:
                raise web.HTTPSeeOther("/?expired=1" if COOKIE in request.cookies else "/")
            return page(request, t.raw("error.title"), f'<p role="alert">{t("error.session")}'
                        f' <a href="/">{t("signin.heading")}</a></p>', status=401)
        if request.method not in SAFE_METHODS:
            data = await request.post()
            given = data.get("csrf") or request.headers.get("X-CSRF-Token")
            if not csrf_ok(session, given if isinstance(given, str) else None):
                return page(request, t.raw("error.title"),
                            f'<p role="alert">{t("error.csrf")}</p>', status=403)
            request[FORM] = data
        request[SESSION] = session
        try:
            return await handler(request)
        except StoreError:
            log.exception("the store failed under %s %s", request.method, request.path)
            return page(request, t.raw("error.title"),
                        f'<p role="alert">{t("error.store")}</p>', status=503, session=session)
    return wrapped


def form_value(request: web.Request, name: str, default: str = "") -> str:
    value = request.get(FORM, {}).get(name, default)
    return value if isinstance(value, str) else default


def see_other(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def error_box(message: str) -> str:
    return f'<p class="error" role="alert">{esc(message)}</p>' if message else ""


def municipality_list(lang: str) -> str:
    """The canonical municipalities as a datalist (``list="municipalities"``)."""
    options = "".join(f'<option value="{esc(m.name(lang))}">' for m in MUNICIPALITIES)
    return f'<datalist id="municipalities">{options}</datalist>'
