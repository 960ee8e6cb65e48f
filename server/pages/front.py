"""The front door: organisers sign in here; anyone else is told to open their
personal link. Nothing about meetings is shown before signing in."""

import msgspec
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from rooms.exceptions import DomainError
from rooms.municipalities import MUNICIPALITIES
from server.api import is_admin, json_error
from server.keys import CREDENTIALS, HUB
from server.organisers import WORKSPACE
from server.organisers import accounts as acc
from server.organisers.sessions import COOKIE, TTL_MS
from server.pages.template import (
    SESSION,
    Text,
    error_box,
    esc,
    field,
    lang_of,
    page,
    secure,
    signed_in,
)
from server.tokens import TokenError

SIGNIN_TTL_S = 3600


def _signin_serializer(request: web.Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app[CREDENTIALS].secret_key, salt="ledarstig.signin")


async def home(request: web.Request) -> web.StreamResponse:
    workspace = request.app[WORKSPACE]
    if workspace.sessions.get(request.cookies.get(COOKIE), workspace.clock.now_ms()):
        raise web.HTTPSeeOther("/o")
    return _signin_page(request, "")


def _signin_page(request: web.Request, problem: str, status: int = 200) -> web.Response:
    t = Text(lang_of(request))
    if not problem and request.query.get("expired"):
        problem = t.raw("signin.expired")
    token = _signin_serializer(request).dumps("signin")
    body = f"""<section class="card" aria-labelledby="guest">
<h2 id="guest">{t("front.guest_heading")}</h2>
<p>{t("front.guest")}</p></section>
<section class="card" aria-labelledby="signin"><h2 id="signin">{t("signin.heading")}</h2>
{error_box(problem)}
<form method="post" action="/signin"><input type="hidden" name="csrf" value="{esc(token)}">
{field(t("signin.username"), "username", required=True, extra='autocomplete="username"')}
{field(t("signin.password"), "password", kind="password", required=True,
       extra='autocomplete="current-password"')}
<button type="submit" class="primary">{t("signin.submit")}</button></form></section>"""
    return page(request, t.raw("front.title"), body, status=status)


async def signin(request: web.Request) -> web.StreamResponse:
    t = Text(lang_of(request))
    data = await request.post()
    try:
        _signin_serializer(request).loads(str(data.get("csrf", "")), max_age=SIGNIN_TTL_S)
    except BadSignature:
        return _signin_page(request, t.raw("error.csrf"), status=403)
    workspace = request.app[WORKSPACE]
    username, now = str(data.get("username", "")).strip().lower()[:64], workspace.clock.now_ms()
    if await workspace.throttle.blocked(username, now):
        return _signin_page(request, t.raw("signin.throttled"), status=429)
    account = await acc.verify(workspace.accounts.state, username,
                               str(data.get("password", "")))
    if account is None:
        await workspace.throttle.failed(username, now)
        return _signin_page(request, t.raw("signin.wrong"), status=401)
    await workspace.throttle.succeeded(username)
    session = workspace.sessions.open(account.id, workspace.clock.now_ms())
    response = web.HTTPSeeOther("/o")
    response.set_cookie(COOKIE, session.id, max_age=TTL_MS // 1000, path="/", httponly=True,
                        samesite="Strict", secure=secure(request))
    raise response


@signed_in
async def signout(request: web.Request) -> web.StreamResponse:
    request.app[WORKSPACE].sessions.close(request[SESSION].id)
    response = web.HTTPSeeOther("/")
    response.del_cookie(COOKIE, path="/")
    raise response


async def cohort_link(request: web.Request) -> web.StreamResponse:
    """A personal link for a whole cohort: to the cohort's next meeting that has not ended."""
    workspace = request.app[WORKSPACE]
    t = Text(lang_of(request))
    try:
        link = workspace.tokens.read_cohort_link(request.match_info["token"])
        person = workspace.person(link.cohort, link.person, link.link)
    except (TokenError, DomainError) as exc:
        return page(request, t.raw("link.dead_title"),
                    f'<p role="alert">{t("link.dead")}</p><p>{esc(exc)}</p>', status=403)
    from server.review_pages import review_links, review_links_page
    await request.app[HUB].adopt_cohort(link.cohort)  # cluster: held here or not
    if request.query.get("review") == "1":  # a facilitator's way to review their meetings
        return review_links_page(request, link.cohort, person, request.match_info["token"])
    for session in workspace.meetings(link.cohort):
        if not session.meeting.ended:
            token = workspace.personal_token(session.id, person)
            raise web.HTTPSeeOther(f"/m/{session.id}?t={token}")
    return page(request, t.raw("link.none_title"), f'<p>{t("link.none")}</p>'
                + review_links(request, link.cohort, person, request.match_info["token"]))


class NewOrganiser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    username: str
    password: str
    name: str = ""


async def create_organiser(request: web.Request) -> web.Response:
    """REST, with the admin token: make an organiser account (the first one, or more)."""
    if not is_admin(request):  # the /api/ middleware checks too; say it here as well
        return json_error(401, "unauthorized", "A valid admin token is required.")
    try:
        body = msgspec.json.decode(await request.read(), type=NewOrganiser)
        username, name = acc.check_new(body.username, body.name, body.password)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return json_error(400, "invalid_payload", f"The organiser is not valid: {exc}.")
    except acc.AccountError as exc:
        return json_error(400, exc.code, exc.message)
    hashed = await acc.hash_password(body.password)
    workspace = request.app[WORKSPACE]
    try:
        events = await workspace.accounts.execute(
            "admin", lambda state: acc.create(state, username, name, hashed))
    except acc.AccountError as exc:
        return json_error(409, exc.code, exc.message)
    return web.json_response({"id": events[0].data["id"], "username": username,
                              "name": name}, status=201)


async def municipalities(request: web.Request) -> web.Response:
    """The one canonical list, for the browser's join form."""
    return web.json_response(
        [{"id": m.id, "sv": m.sv, "fi": m.fi, "group": m.group} for m in MUNICIPALITIES],
        headers={"Cache-Control": "public, max-age=3600"})

