"""Programmes, cohorts and their rosters, as organisers see and change them."""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from programmes import commands as pc
from programmes.exceptions import ProgrammeError
from programmes.roster import Preview, decode, preview
from rooms.exceptions import DomainError
from rooms.municipalities import display_name, fold
from server.keys import HUB
from server.organisers import WORKSPACE
from server.pages.template import (
    FORM,
    SESSION,
    Text,
    catalog,
    error_box,
    esc,
    field,
    form,
    form_value,
    lang_of,
    municipality_list,
    page,
    select,
    signed_in,
    table,
)

ZONES = ("Europe/Helsinki", "Europe/Stockholm", "UTC")


def failed(request: web.Request, exc: Exception, back: str) -> web.Response:
    """The error named, nothing changed, and the way back."""
    t = Text(lang_of(request))
    code = getattr(exc, "code", "invalid")
    message = t.raw(f"err.{code}") if f"err.{code}" in _keys(t) \
        else getattr(exc, "message", str(exc))
    return page(request, t.raw("error.title"),
                f'{error_box(message)}<p><a href="{esc(back)}">{t("nav.back")}</a></p>',
                status=400, session=request[SESSION])


def _keys(t: Text) -> set[str]:
    return set(catalog(t.lang)) | set(catalog("sv"))


# -- programmes ----------------------------------------------------------------

@signed_in
async def programmes_index(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    workspace = request.app[WORKSPACE]
    items = "".join(f'<li><a href="/o/p/{esc(pid)}">{esc(ledger.state.name)}</a></li>'
                    for pid, ledger in sorted(workspace.programmes.items(),
                                              key=lambda kv: kv[1].state.created_at))
    body = (f'<ul class="list">{items or "<li>" + t("programmes.none") + "</li>"}</ul>'
            f'<h2>{t("programmes.new")}</h2>'
            + form(session, "/o/programmes",
                   field(t("programmes.name"), "name", required=True,
                         extra='maxlength="120"')
                   + f'<button type="submit" class="primary">{t("programmes.create")}</button>'))
    return page(request, t.raw("programmes.title"), body, session=session)


@signed_in
async def create_programme(request: web.Request) -> web.StreamResponse:
    workspace = request.app[WORKSPACE]
    try:
        pid = await workspace.create_programme(request[SESSION].account,
                                               form_value(request, "name"))
    except DomainError as exc:
        return failed(request, exc, "/o")
    raise web.HTTPSeeOther(f"/o/p/{pid}")


@signed_in
async def programme_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    try:
        programme = request.app[WORKSPACE].programme(request.match_info["programme"]).state
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    items = "".join(
        f'<li><a href="/o/c/{esc(c.id)}">{esc(c.name)}</a> '
        f'<span class="muted">{t("cohorts.people", n=len(c.roster()))}'
        f'{" · " + t("cohorts.ends", date=c.ends_on) if c.ends_on else ""}</span></li>'
        for c in programme.cohorts.values())
    body = (f'<h2>{t("cohorts.title")}</h2>'
            f'<ul class="list">{items or "<li>" + t("cohorts.none") + "</li>"}</ul>'
            f'<h2>{t("cohorts.new")}</h2>'
            + form(session, f"/o/p/{programme.id}/cohorts",
                   field(t("cohorts.name"), "name", required=True, extra='maxlength="80"')
                   + field(t("cohorts.ends_on"), "ends_on", kind="date",
                           help_text=t("cohorts.ends_help"))
                   + f'<button type="submit" class="primary">{t("cohorts.create")}</button>'))
    return page(request, programme.name, body, session=session)


@signed_in
async def create_cohort(request: web.Request) -> web.StreamResponse:
    workspace, pid = request.app[WORKSPACE], request.match_info["programme"]
    cohort_id = secrets.token_hex(6)
    try:
        await workspace.run(pid, request[SESSION].account, lambda p: pc.create_cohort(
            p, cohort_id, form_value(request, "name"), form_value(request, "ends_on")))
    except DomainError as exc:
        return failed(request, exc, f"/o/p/{pid}")
    raise web.HTTPSeeOther(f"/o/c/{cohort_id}")


# -- a cohort ------------------------------------------------------------------

@signed_in
async def cohort_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    workspace = request.app[WORKSPACE]
    try:
        programme, cohort = workspace.cohort(request.match_info["cohort"])
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    base = f"/o/c/{cohort.id}"
    meetings = [(s.id, s.meeting.title, s.meeting.starts_at, s.meeting.ended)
                for s in workspace.meetings(cohort.id)]
    meeting_rows = [[f'<a href="/o/m/{esc(mid)}">{esc(title)}</a>', esc(_when(starts)),
                     t("meetings.ended") if ended else t("meetings.open"),
                     f'<a href="{base}/links?meeting={esc(mid)}">{t("links.title")}</a>']
                    for mid, title, starts, ended in meetings]
    people_rows = [[esc(p.name), esc(display_name(p.municipality, t.lang)), esc(p.title),
                    esc(p.email), t(f"role.{p.role}"),
                    f'<a href="{base}/people/{esc(p.id)}">{t("people.edit")}'
                    f'<span class="sr-only"> {esc(p.name)}</span></a>']
                   for p in cohort.roster()]
    body = f"""<p class="muted"><a href="/o/p/{esc(programme.id)}">{esc(programme.name)}</a>
{" · " + t("cohorts.ends", date=cohort.ends_on) if cohort.ends_on else ""}</p>
<nav class="actions" aria-label="{t("cohort.tools")}">
<a href="{base}/links">{t("links.cohort_title")}</a>
<a href="{base}/network">{t("network.title")}</a></nav>
<h2>{t("meetings.title")}</h2>
{table(t("meetings.title"), [t("meetings.name"), t("meetings.starts"), t("meetings.state"),
                             t("links.title")], meeting_rows) if meetings
 else "<p>" + t("meetings.none") + "</p>"}
<details><summary>{t("meetings.new")}</summary>
{form(session, f"{base}/meetings", meeting_fields(t, "", "", "Europe/Helsinki")
      + f'<button type="submit" class="primary">{t("meetings.create")}</button>')}</details>
<h2>{t("people.title")} ({len(people_rows)})</h2>
{table(t("people.title"), [t("people.name"), t("people.municipality"), t("people.role_title"),
                           t("people.email"), t("people.role"), ""], people_rows)
 if people_rows else "<p>" + t("people.none") + "</p>"}
<h2>{t("import.title")}</h2><p>{t("import.help")}</p>
{form(session, f"{base}/import", f'''<div class="field">
<label for="f-file">{t("import.file")}</label>
<input id="f-file" name="file" type="file" accept=".csv,.txt,text/csv,text/plain"></div>
<div class="field"><label for="f-text">{t("import.paste")}</label>
<textarea id="f-text" name="text" rows="5"></textarea></div>
<button type="submit" class="primary">{t("import.preview")}</button>''', multipart=True)}
<h2>{t("people.add")}</h2>
{form(session, f"{base}/people", person_fields(t) +
      f'<button type="submit" class="primary">{t("people.add_submit")}</button>')}
{municipality_list(t.lang)}"""
    return page(request, cohort.name, body, session=session)


def meeting_fields(t: Text, title: str, local: str, zone: str) -> str:
    return (field(t("meetings.name"), "title", title, required=True, extra='maxlength="120"')
            + field(t("meetings.starts"), "starts_local", local, kind="datetime-local",
                    required=True)
            + select(t("meetings.zone"), "zone", [(z, z) for z in ZONES], zone))


def starts_at(request: web.Request) -> str:
    """The meeting's start as ISO 8601 with the offset of its time zone."""
    zone_name = form_value(request, "zone", "Europe/Helsinki")
    try:
        zone = ZoneInfo(zone_name if zone_name in ZONES else "Europe/Helsinki")
        local = datetime.fromisoformat(form_value(request, "starts_local"))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ProgrammeError("Give the start as a date and time.") from exc
    return local.replace(tzinfo=zone).isoformat()


def _when(starts: str) -> str:
    try:
        return datetime.fromisoformat(starts).strftime("%Y-%m-%d %H:%M %z")
    except ValueError:
        return starts


def person_fields(t: Text, p: pc.PersonInput | None = None) -> str:
    p = p or pc.PersonInput("", "")
    return (field(t("people.name"), "name", p.name, required=True, extra='maxlength="80"')
            + field(t("people.municipality"), "municipality", p.municipality, required=True,
                    extra='maxlength="80" list="municipalities" autocomplete="off"')
            + field(t("people.role_title"), "title", p.title, extra='maxlength="80"')
            + field(t("people.email"), "email", p.email, kind="email")
            + select(t("people.role"), "role", [("participant", t.raw("role.participant")),
                                                ("facilitator", t.raw("role.facilitator"))],
                     p.role))


def _input(request: web.Request) -> pc.PersonInput:
    return pc.PersonInput(*(form_value(request, k) for k in
                            ("name", "municipality", "title", "email", "role")))


@signed_in
async def create_meeting(request: web.Request) -> web.StreamResponse:
    workspace, cohort_id = request.app[WORKSPACE], request.match_info["cohort"]
    try:
        workspace.cohort(cohort_id)
        live = await request.app[HUB].create(form_value(request, "title"), starts_at(request),
                                             cohort_id)
    except DomainError as exc:
        return failed(request, exc, f"/o/c/{cohort_id}")
    raise web.HTTPSeeOther(f"/o/m/{live.id}")


@signed_in
async def add_person(request: web.Request) -> web.StreamResponse:
    workspace, cohort_id = request.app[WORKSPACE], request.match_info["cohort"]
    try:
        programme, _ = workspace.cohort(cohort_id)
        await workspace.run(programme.id, request[SESSION].account, lambda p: pc.add_people(
            p, cohort_id, [("p" + secrets.token_hex(6), _input(request))]))
    except DomainError as exc:
        return failed(request, exc, f"/o/c/{cohort_id}")
    raise web.HTTPSeeOther(f"/o/c/{cohort_id}")


@signed_in
async def person_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    cohort_id, person_id = request.match_info["cohort"], request.match_info["person"]
    try:
        _, cohort = request.app[WORKSPACE].cohort(cohort_id)
        p = pc.person_of(cohort, person_id)
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    base = f"/o/c/{cohort_id}/people/{person_id}"
    body = (form(session, base, person_fields(t, pc.PersonInput(
                p.name, p.municipality, p.title, p.email, p.role))
                 + f'<button type="submit" class="primary">{t("people.save")}</button>')
            + f'<h2>{t("links.personal")}</h2><p>{t("links.revoke_help")}</p>'
            + form(session, f"{base}/revoke",
                   f'<button type="submit">{t("links.revoke")}</button>')
            + f'<h2>{t("people.remove")}</h2>'
            + form(session, f"{base}/remove",
                   f'<button type="submit" class="danger">{t("people.remove")}</button>')
            + f'<p><a href="/o/c/{esc(cohort_id)}">{t("nav.back")}</a></p>'
            + municipality_list(t.lang))
    return page(request, p.name, body, session=session)


@signed_in
async def person_action(request: web.Request) -> web.StreamResponse:
    workspace = request.app[WORKSPACE]
    cohort_id, person_id = request.match_info["cohort"], request.match_info["person"]
    action = request.match_info.get("action", "save")
    decide = {"save": lambda p: pc.update_person(p, cohort_id, person_id, _input(request)),
              "remove": lambda p: pc.remove_person(p, cohort_id, person_id),
              "revoke": lambda p: pc.revoke_link(p, cohort_id, person_id)}[action]
    try:
        programme, _ = workspace.cohort(cohort_id)
        await workspace.run(programme.id, request[SESSION].account, decide)
    except DomainError as exc:
        return failed(request, exc, f"/o/c/{cohort_id}")
    if action == "revoke":
        raise web.HTTPSeeOther(f"/o/c/{cohort_id}/links?revoked={person_id}")
    raise web.HTTPSeeOther(f"/o/c/{cohort_id}")


# -- importing a roster --------------------------------------------------------

@signed_in
async def import_preview(request: web.Request) -> web.Response:
    cohort_id = request.match_info["cohort"]
    data = request[FORM]
    upload = data.get("file")
    try:
        _, cohort = request.app[WORKSPACE].cohort(cohort_id)
        if upload is not None and not isinstance(upload, str) and upload.filename:
            text = decode(upload.file.read())
        else:
            text = form_value(request, "text")
        found = preview(text, cohort.roster())
    except DomainError as exc:
        return failed(request, exc, f"/o/c/{cohort_id}")
    return _preview_page(request, cohort_id, found)


def _decisions(request: web.Request) -> dict[str, str]:
    decisions = {}
    for key, value in request[FORM].items():
        if key.startswith("muni:") and isinstance(value, str):
            choice = value if value != "__other__" else form_value(request, "other:" + key[5:])
            decisions[fold(key[5:])] = choice
    return decisions


@signed_in
async def import_confirm(request: web.Request) -> web.StreamResponse:
    workspace, cohort_id = request.app[WORKSPACE], request.match_info["cohort"]
    try:
        programme, cohort = workspace.cohort(cohort_id)
        found = preview(form_value(request, "text"), cohort.roster(), _decisions(request))
        if not found.ready or not found.rows:
            return _preview_page(request, cohort_id, found)
        people = [("p" + secrets.token_hex(6), person) for _, person in found.rows]
        await workspace.run(programme.id, request[SESSION].account,
                            lambda p: pc.add_people(p, cohort_id, people))
    except DomainError as exc:
        return failed(request, exc, f"/o/c/{cohort_id}")
    raise web.HTTPSeeOther(f"/o/c/{cohort_id}?imported={len(people)}")


def _preview_page(request: web.Request, cohort_id: str, found: Preview) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    problems = "".join(
        f'<li>{t("import.line", line=pr.line)}: {t("problem." + pr.code, value=pr.value)}</li>'
        for pr in found.problems)
    decisions = []
    for u in found.unknown:
        key = esc(u.name)
        options = "".join(
            f'<li><input type="radio" id="m-{key}-{i}" name="muni:{key}" value="{esc(s)}"'
            f'{" checked" if i == 0 else ""}><label for="m-{key}-{i}">{esc(s)}</label></li>'
            for i, s in enumerate(u.suggestions))
        decisions.append(
            f'<fieldset><legend>{t("import.unknown", name=u.name)} '
            f'({t("import.lines", lines=", ".join(map(str, u.lines)))})</legend><ul class="plain">'
            f'{options}<li><input type="radio" id="m-{key}-keep" name="muni:{key}" '
            f'value="{key}"{" checked" if not u.suggestions else ""}>'
            f'<label for="m-{key}-keep">{t("import.keep")}</label></li>'
            f'<li><input type="radio" id="m-{key}-other" name="muni:{key}" value="__other__">'
            f'<label for="m-{key}-other">{t("import.other")}</label> '
            f'<input name="other:{key}" aria-label="{t("import.other")}: {key}" '
            f'list="municipalities"></li></ul></fieldset>')
    rows = []
    for line, p in found.rows:
        shown = pc.checked(p)  # as it will be stored: canonical municipality, role
        rows.append([str(line), esc(shown["name"]),
                     esc(display_name(shown["municipality"], t.lang)), esc(shown["title"]),
                     esc(shown["email"]), t(f"role.{shown['role']}")])
    status = (t("import.ready", n=len(found.rows)) if found.ready
              else t("import.not_ready"))
    body = (f'<p role="status">{status}</p>'
            + (f'<h2>{t("import.problems")}</h2><ul class="problems">{problems}</ul>'
               f'<p>{t("import.fix")}</p>' if problems else "")
            + form(session, f"/o/c/{cohort_id}/import/confirm",
                   "".join(decisions)
                   + f'<div class="field"><label for="f-text">{t("import.data")}</label>'
                   f'<textarea id="f-text" name="text" rows="6">{esc(found.text)}</textarea></div>'
                   + f'<button type="submit" class="primary">{t("import.confirm")}</button>')
            + table(t("import.rows"), [t("import.line_col"), t("people.name"),
                                       t("people.municipality"), t("people.role_title"),
                                       t("people.email"), t("people.role")], rows)
            + f'<p><a href="/o/c/{esc(cohort_id)}">{t("nav.cancel")}</a></p>'
            + municipality_list(t.lang))
    return page(request, t.raw("import.title"), body, session=session)
