"""A meeting before and on the day: edit it, prepare its agenda, see who has
joined, hand out an open link for guests, end it."""

from datetime import datetime

from aiohttp import web

from facilitation import preparation
from facilitation.agenda import Activity, ActivityKind, FocusArea
from facilitation.agenda_templates import list_templates
from facilitation.exceptions import FacilitationError
from facilitation.rounds import Strategy
from facilitation.session import Session
from rooms import ADMIN, Role
from rooms import commands as cmd
from rooms.exceptions import DomainError, InvalidValue
from rooms.municipalities import display_name
from server.keys import GATEWAY, HUB, TOKENS
from server.organisers import WORKSPACE
from server.pages.cohorts import ZONES, failed, meeting_fields, starts_at
from server.pages.links import base_url
from server.pages.template import (
    FORM,
    SESSION,
    Text,
    esc,
    field,
    form,
    form_value,
    lang_of,
    page,
    select,
    signed_in,
    table,
)


def _meeting(request: web.Request) -> Session:
    try:
        state = request.app[HUB].get(request.match_info["meeting"]).state
        request.app[WORKSPACE].cohort(state.meeting.cohort)
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    return state


@signed_in
async def meeting_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    s = _meeting(request)
    m = s.meeting
    _, cohort = request.app[WORKSPACE].cohort(m.cohort)
    base = f"/o/m/{m.id}"
    local, zone = _local(m.starts_at)
    chosen = set(m.facilitators)
    boxes = "".join(
        f'<li><input type="checkbox" id="fac-{esc(p.id)}" name="facilitators" '
        f'value="{esc(p.id)}"{" checked" if p.id in chosen or p.role == "facilitator" else ""}'
        f'{" disabled" if p.role == "facilitator" else ""}>'
        f'<label for="fac-{esc(p.id)}">{esc(p.name)}</label></li>' for p in cohort.roster())
    edit = form(session, base, meeting_fields(t, m.title, local, zone)
                + f'<fieldset><legend>{t("meetings.facilitators")}</legend>'
                f'<ul class="plain columns">{boxes}</ul></fieldset>'
                + f'<button type="submit" class="primary">{t("meetings.save")}</button>')
    programme, _ = request.app[WORKSPACE].cohort(m.cohort)
    move = form(session, f"{base}/cohort",
                select(t("meetings.cohort"), "cohort",
                       [(c.id, c.name) for c in programme.cohorts.values()], m.cohort)
                + f'<p class="muted">{t("meetings.move_help")}</p>'
                + f'<button type="submit">{t("meetings.move")}</button>')
    joined = [[esc(p.name), esc(display_name(p.municipality, t.lang)),
               t(f"role.{p.role.value}"),
               t("who.personal") if p.person else t("who.guest"),
               t("who.here") if p.present else t("who.left")]
              for p in sorted(m.participants.values(), key=lambda p: p.joined_at)]
    ended = f'<p class="ok" role="status">{t("meetings.ended")}</p>' if m.ended else ""
    body = f"""<p class="muted"><a href="/o/c/{esc(cohort.id)}">{esc(cohort.name)}</a></p>{ended}
<nav class="actions" aria-label="{t("cohort.tools")}">
<a href="/o/c/{esc(cohort.id)}/links?meeting={esc(m.id)}">{t("links.title")}</a>
<a href="/o/c/{esc(cohort.id)}/network?meeting={esc(m.id)}">{t("network.title")}</a>
<a href="/review/{esc(m.id)}">{_review_label(t.lang)}</a></nav>
<h2>{t("meetings.details")}</h2>{edit + move if not m.ended else ""}
<h2>{t("agenda.title")}</h2>{_agenda(t, session, s, base)}
<h2>{t("who.title")} ({len(m.present())})</h2>
{table(t("who.title"), [t("people.name"), t("people.municipality"), t("people.role"),
                        t("who.link"), t("who.state")], joined)
 if joined else "<p>" + t("who.none") + "</p>"}
<h2>{t("guest.title")}</h2><p>{t("guest.help")}</p>
{form(session, f"{base}/guest-link",
      f'<button type="submit">{t("guest.make")}</button>') if not m.ended else ""}
<h2>{t("end.title")}</h2>
{form(session, f"{base}/end", f'<p>{t("end.help")}</p>'
      f'<button type="submit" class="danger">{t("end.submit")}</button>')
 if not m.ended else ""}"""
    return page(request, m.title, body, session=session)


def _review_label(lang: str) -> str:
    from server.review_pages import RText  # the review's own catalog
    return RText(lang)("r.open")


def _agenda(t: Text, session: object, s: Session, base: str) -> str:
    rows = []
    activities = s.agenda.activities if s.agenda is not None else []
    for i, a in enumerate(activities):
        remove = form(session, f"{base}/agenda/remove",  # type: ignore[arg-type]
                      f'<input type="hidden" name="index" value="{i}">'
                      f'<button type="submit" class="link">{t("agenda.remove")}'
                      f'<span class="sr-only"> {esc(a["title"])}</span></button>', cls="inline")
        rows.append([esc(a["title"]), t(f"kind.{a['kind']}"),
                     t(f"focus.{a['focus_area']}") if a.get("focus_area") else "",
                     esc(a.get("prompt", "")), str(int(a["duration_s"]) // 60),
                     esc(a.get("strategy", "")), esc(a.get("group_size") or ""), remove])
    listing = table(t("agenda.title"), [t("agenda.activity"), t("agenda.kind"),
                                        t("agenda.focus"), t("agenda.task"),
                                        t("agenda.minutes"), t("agenda.strategy"),
                                        t("agenda.group_size"), ""], rows) \
        if rows else f"<p>{t('agenda.none')}</p>"
    if s.meeting.ended or (s.agenda is not None and s.agenda.cursor is not None):
        return listing
    templates = [(info.id, info.titles.get(t.lang) or info.titles["sv"])
                 for info in list_templates()]
    use = form(session, f"{base}/agenda/template",  # type: ignore[arg-type]
               select(t("agenda.template"), "template", templates)
               + f'<button type="submit">{t("agenda.use_template")}</button>')
    kinds = [(k.value, t.raw(f"kind.{k.value}")) for k in ActivityKind]
    focus = [("", "—")] + [(f.value, t.raw(f"focus.{f.value}")) for f in FocusArea]
    strategies = [(x.value, t.raw(f"strategy.{x.value}")) for x in
                  (Strategy.MIX, Strategy.RANDOM, Strategy.SELF_SELECT, Strategy.KEEP)]
    add = form(session, f"{base}/agenda/add",  # type: ignore[arg-type]
               field(t("agenda.activity"), "title", required=True, extra='maxlength="120"')
               + select(t("agenda.kind"), "kind", kinds, "breakout")
               + select(t("agenda.focus"), "focus_area", focus)
               + field(t("agenda.task"), "prompt", extra='maxlength="500"')
               + field(t("agenda.minutes"), "minutes", "15", kind="number",
                       extra='min="1" max="180"')
               + select(t("agenda.strategy"), "strategy", strategies)
               + field(t("agenda.group_size"), "group_size", "4", kind="number",
                       extra='min="2" max="50"')
               + f'<button type="submit">{t("agenda.add")}</button>')
    return (listing + f"<h3>{t('agenda.from_template')}</h3>" + use
            + f"<h3>{t('agenda.from_scratch')}</h3>" + add)


def _local(starts: str) -> tuple[str, str]:
    try:
        when = datetime.fromisoformat(starts)
    except ValueError:
        return "", "Europe/Helsinki"
    zone = getattr(when.tzinfo, "key", None) or "Europe/Helsinki"
    return when.strftime("%Y-%m-%dT%H:%M"), zone if zone in ZONES else "Europe/Helsinki"


async def _run(request: web.Request, decide: object) -> web.StreamResponse:
    s = _meeting(request)
    try:
        await request.app[HUB].execute(s.id, ADMIN, decide)  # type: ignore[arg-type]
    except (DomainError, FacilitationError) as exc:
        return failed(request, exc, f"/o/m/{s.id}")
    raise web.HTTPSeeOther(f"/o/m/{s.id}")


@signed_in
async def edit_meeting(request: web.Request) -> web.StreamResponse:
    s = _meeting(request)
    _, cohort = request.app[WORKSPACE].cohort(s.meeting.cohort)
    on_roster = {p.id for p in cohort.roster()}
    chosen = [v for v in request[FORM].getall("facilitators", []) if v in on_roster]
    try:
        when = starts_at(request)
    except DomainError as exc:
        return failed(request, exc, f"/o/m/{s.id}")
    return await _run(request, lambda st: cmd.update_meeting(
        st.meeting, title=form_value(request, "title"), starts_at=when, facilitators=chosen))


@signed_in
async def move_meeting(request: web.Request) -> web.StreamResponse:
    """Move the meeting to another cohort of its programme (see ``cmd.move_meeting``)."""
    s = _meeting(request)
    programme, _ = request.app[WORKSPACE].cohort(s.meeting.cohort)
    target, allowed = form_value(request, "cohort"), set(programme.cohorts)
    return await _run(request, lambda st: cmd.move_meeting(st.meeting, target, allowed))


@signed_in
async def agenda_template(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    return await _run(request, lambda st: preparation.from_template(
        st, form_value(request, "template"), lang))


@signed_in
async def agenda_add(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    try:
        kind = ActivityKind(form_value(request, "kind"))
        focus = form_value(request, "focus_area")
        size = form_value(request, "group_size")
        activity = Activity("new", form_value(request, "title"),
                            int(form_value(request, "minutes") or 0) * 60, kind,
                            form_value(request, "prompt")[:500],
                            FocusArea(focus) if focus else None,
                            int(size) if size and kind is ActivityKind.BREAKOUT else None)
        strategy = Strategy(form_value(request, "strategy", "mix"))
    except ValueError as exc:
        return failed(request, InvalidValue(f"The activity is not valid: {exc}."),
                      f"/o/m/{request.match_info['meeting']}")
    except (DomainError, FacilitationError) as exc:
        return failed(request, exc, f"/o/m/{request.match_info['meeting']}")
    return await _run(request, lambda st: preparation.add_activity(st, activity, strategy, lang))


@signed_in
async def agenda_remove(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    index = form_value(request, "index")
    return await _run(request, lambda st: preparation.remove_activity(
        st, int(index) if index.isdigit() else -1, lang))


@signed_in
async def guest_link(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    s = _meeting(request)
    token = request.app[TOKENS].invite(s.id, Role.PARTICIPANT)
    url = f"{base_url(request)}/m/{s.id}?t={token}"
    days = request.app[TOKENS].invite_ttl_s // 86400
    body = (f'<p>{t("guest.ready", days=days)}</p><div class="field">'
            f'<label for="guest">{t("guest.link")}</label>'
            f'<input id="guest" class="link" readonly value="{esc(url)}"></div>'
            f'<p><button type="button" class="copy" data-copy="guest">{t("links.copy")}'
            f'</button> <span role="status" class="copied" '
            f'data-done="{t("links.copied")}"></span></p>'
            f'<p><a href="/o/m/{esc(s.id)}">{t("nav.back")}</a></p>')
    return page(request, t.raw("guest.title"), body, session=session)


@signed_in
async def end_meeting(request: web.Request) -> web.StreamResponse:
    s = _meeting(request)
    try:
        await request.app[HUB].execute(s.id, ADMIN, lambda st: cmd.end_meeting(st.meeting))
    except DomainError as exc:
        return failed(request, exc, f"/o/m/{s.id}")
    await request.app[GATEWAY].close_meeting(s.id)
    raise web.HTTPSeeOther(f"/o/m/{s.id}")
