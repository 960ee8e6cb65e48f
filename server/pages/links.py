"""Personal links: per meeting or per cohort, copy one or all, export for a mail merge."""

from aiohttp import web

from programmes.exports import to_csv
from programmes.state import Person
from rooms.exceptions import DomainError
from rooms.municipalities import display_name
from server.keys import SETTINGS
from server.organisers import WORKSPACE, Workspace
from server.pages.template import SESSION, Text, esc, lang_of, page, signed_in, table


def base_url(request: web.Request) -> str:
    return request.app[SETTINGS].public_url or f"{request.scheme}://{request.host}"


def personal_links(request: web.Request, workspace: Workspace, cohort_id: str,
                   meeting: str) -> list[tuple[Person, str]]:
    """Each roster person's link: to ``meeting``, or (empty) to the whole cohort."""
    _, cohort = workspace.cohort(cohort_id)
    base = base_url(request)
    if meeting:
        if meeting not in {s.id for s in workspace.meetings(cohort_id)}:
            raise web.HTTPNotFound()
        return [(p, f"{base}/m/{meeting}?t={workspace.personal_token(meeting, p)}")
                for p in cohort.roster()]
    return [(p, f"{base}/p/{workspace.cohort_token(cohort_id, p)}") for p in cohort.roster()]


@signed_in
async def links_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    workspace, cohort_id = request.app[WORKSPACE], request.match_info["cohort"]
    meeting = request.query.get("meeting", "")
    try:
        _, cohort = workspace.cohort(cohort_id)
        links = personal_links(request, workspace, cohort_id, meeting)
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    choices = [("", t.raw("links.whole_cohort"))] + [
        (s.id, s.meeting.title) for s in workspace.meetings(cohort_id)]
    options = "".join(f'<option value="{esc(v)}"{" selected" if v == meeting else ""}>'
                      f'{esc(label)}</option>' for v, label in choices)
    rows = []
    for i, (p, url) in enumerate(links):
        rows.append([esc(p.name), esc(display_name(p.municipality, t.lang)),
                     t(f"role.{p.role}"),
                     f'<input id="link-{i}" class="link" readonly value="{esc(url)}" '
                     f'aria-label="{t("links.link_of", name=p.name)}">'
                     f'<button type="button" class="copy" data-copy="link-{i}">'
                     f'{t("links.copy")}<span class="sr-only"> {esc(p.name)}</span></button>'])
    everything = "\n".join(f"{p.name}\t{url}" for p, url in links)
    revoked = request.query.get("revoked")
    note = f'<p role="status" class="ok">{t("links.revoked")}</p>' if revoked else ""
    scope = f"?meeting={esc(meeting)}" if meeting else ""
    body = f"""{note}<form method="get" class="inline-form"><div class="field">
<label for="f-meeting">{t("links.for")}</label>
<select id="f-meeting" name="meeting">{options}</select>
</div><button type="submit">{t("links.show")}</button></form>
<p>{t("links.help_meeting") if meeting else t("links.help_cohort")}</p>
<p class="actions"><button type="button" class="copy primary" data-copy="all-links">
{t("links.copy_all")}</button>
<a href="/o/c/{esc(cohort_id)}/links.csv{scope}" download>{t("links.csv")}</a>
<span role="status" class="copied" data-done="{t('links.copied')}"></span></p>
<div class="field"><label for="all-links">{t("links.all")}</label>
<textarea id="all-links" readonly rows="4">{esc(everything)}</textarea></div>
{table(t("links.title"), [t("people.name"), t("people.municipality"), t("people.role"),
                          t("links.link")], rows)}
<p><a href="/o/c/{esc(cohort_id)}">{t("nav.back")}</a></p>"""
    return page(request, t.raw("links.page_title", cohort=cohort.name), body, session=session)


@signed_in
async def links_csv(request: web.Request) -> web.Response:
    t = Text(lang_of(request))
    workspace, cohort_id = request.app[WORKSPACE], request.match_info["cohort"]
    try:
        links = personal_links(request, workspace, cohort_id, request.query.get("meeting", ""))
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    header = [t.raw(k) for k in ("people.name", "people.email", "people.municipality",
                                 "people.role_title", "people.role", "links.link")]
    rows = [[p.name, p.email, display_name(p.municipality, t.lang), p.title,
             t.raw(f"role.{p.role}"), url] for p, url in links]
    return web.Response(body=("\ufeff" + to_csv(header, rows)).encode("utf-8"),
                        content_type="text/csv", charset="utf-8", headers={
                            "Content-Disposition": 'attachment; filename="links.csv"',
                            "Cache-Control": "no-store"})
