"""The network picture of a cohort: graph, municipality matrix, per-person lists,
filtered by meeting, exported as CSV, SVG and PNG."""

import asyncio

from aiohttp import web

from facilitation.cohort_network import CohortNetwork, Node, cohort_network
from programmes.exports import to_csv
from rooms.exceptions import DomainError
from rooms.municipalities import display_name, municipality_id
from server.organisers import WORKSPACE
from server.pages import graph
from server.pages.template import SESSION, Text, esc, lang_of, page, signed_in, table


def _network(request: web.Request) -> tuple[str, CohortNetwork, list[tuple[str, str]], str]:
    workspace = request.app[WORKSPACE]
    try:
        _, cohort = workspace.cohort(request.match_info["cohort"])
    except DomainError as exc:
        raise web.HTTPNotFound() from exc
    sessions = workspace.meetings(cohort.id)
    meeting = request.query.get("meeting", "")
    if meeting and meeting not in {s.id for s in sessions}:
        raise web.HTTPNotFound()
    net = cohort_network(sessions, {meeting} if meeting else ())
    roster = {f"person:{p.id}": p for p in cohort.roster()}
    for key in list(net.nodes):  # the roster's name, not what was typed
        if key in roster:
            net.nodes[key] = Node(key, roster[key].name, roster[key].municipality,
                                  municipality_id(roster[key].municipality))
    return cohort.name, net, [(s.id, s.meeting.title) for s in sessions], meeting


@signed_in
async def network_page(request: web.Request) -> web.Response:
    t, session = Text(lang_of(request)), request[SESSION]
    name, net, meetings, meeting = _network(request)
    base = f"/o/c/{request.match_info['cohort']}/network"
    scope = f"?meeting={esc(meeting)}" if meeting else ""
    options = "".join(f'<option value="{esc(v)}"{" selected" if v == meeting else ""}>'
                      f'{esc(label)}</option>'
                      for v, label in [("", t.raw("network.all_meetings")), *meetings])
    geo = graph.layout(net)
    legend = "".join(
        f'<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
        f'<circle cx="5" cy="5" r="5" fill="{geo.colours[mid]}"/></svg>'
        f'{esc(display_name(mname, t.lang))}</li>' for mid, mname in net.municipalities())
    label = t.raw("network.graph_label", people=len(net.nodes), pairs=len(net.edges),
                  repeats=sum(1 for v in net.edges.values() if v > 1))
    body = f"""<form method="get" class="inline-form"><div class="field">
<label for="f-meeting">{t("network.filter")}</label>
<select id="f-meeting" name="meeting">{options}</select></div>
<button type="submit">{t("network.show")}</button></form>
<p role="status">{esc(label)}</p>
<p class="actions"><a href="{base}.csv{scope}" download>{t("network.csv")}</a>
<a href="{base}.svg{scope}" download>SVG</a><a href="{base}.png{scope}" download>PNG</a></p>
<h2>{t("network.graph")}</h2>
<figure>{graph.svg(net, label)}<figcaption><ul class="legend">{legend}</ul>
<p>{t("network.graph_help")}</p></figcaption></figure>
<h2>{t("network.matrix")}</h2>{_matrix(t, net)}
<h2>{t("network.people")}</h2>{_people(t, net)}
<p><a href="/o/c/{esc(request.match_info['cohort'])}">{t("nav.back")}</a></p>"""
    return page(request, t.raw("network.page_title", cohort=name), body, session=session)


def _matrix(t: Text, net: CohortNetwork) -> str:
    munis = net.municipalities()
    header = [""] + [esc(display_name(n, t.lang)) for _, n in munis]
    rows = []
    for a, aname in munis:
        cells = [f"<strong>{esc(display_name(aname, t.lang))}</strong>"]
        for b, _ in munis:
            cells.append(str(net.matrix.get(tuple(sorted((a, b))), 0)))  # type: ignore[arg-type]
        rows.append(cells)
    return table(t("network.matrix"), header, rows)


def _people(t: Text, net: CohortNetwork) -> str:
    rows = []
    for key, node in sorted(net.nodes.items(), key=lambda kv: kv[1].name.casefold()):
        met = net.met(key)
        people = ", ".join(f"{esc(net.nodes[k].name)}{' ×' + str(n) if n > 1 else ''}"
                           for k, n in sorted(met.items(),
                                              key=lambda kv: net.nodes[kv[0]].name.casefold()))
        munis = ", ".join(esc(display_name(m, t.lang)) for m in net.municipalities_met(key))
        rows.append([esc(node.name), esc(display_name(node.municipality, t.lang)),
                     str(len(met)), people, munis])
    return table(t("network.people"), [t("people.name"), t("people.municipality"),
                                       t("network.count"), t("network.met"),
                                       t("network.municipalities_met")], rows)


@signed_in
async def network_csv(request: web.Request) -> web.Response:
    t = Text(lang_of(request))
    _, net, _, _ = _network(request)
    rows = []
    for pair, times in sorted(net.edges.items(), key=lambda kv: sorted(kv[0])):
        a, b = (net.nodes[k] for k in sorted(pair))
        rows.append([a.name, display_name(a.municipality, t.lang), b.name,
                     display_name(b.municipality, t.lang), times])
    header = [t.raw("people.name"), t.raw("people.municipality"), t.raw("people.name"),
              t.raw("people.municipality"), t.raw("network.times")]
    return web.Response(body=("\ufeff" + to_csv(header, rows)).encode("utf-8"),
                        content_type="text/csv", charset="utf-8", headers={
                            "Content-Disposition": 'attachment; filename="network.csv"',
                            "Cache-Control": "no-store"})


@signed_in
async def network_image(request: web.Request) -> web.Response:
    name, net, _, _ = _network(request)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if request.match_info["fmt"] == "svg":
        return web.Response(text=graph.svg(net, name), content_type="image/svg+xml",
                            headers=headers)
    body = await asyncio.to_thread(graph.png, net)
    return web.Response(body=body, content_type="image/png", headers=headers)
