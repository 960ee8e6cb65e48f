"""The workspace for scripts: read programmes and personal links with the admin token
(the /api/ middleware checks it)."""

from aiohttp import web

from rooms.exceptions import DomainError
from server.api import json_error
from server.keys import HUB
from server.organisers import WORKSPACE


async def list_programmes(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    await request.app[HUB].adopt_all()  # cluster: this process may hold only some
    return web.json_response([
        {"id": ledger.state.id, "name": ledger.state.name,
         "cohorts": [{"id": c.id, "name": c.name, "ends_on": c.ends_on,
                      "people": len(c.roster()),
                      "meetings": [s.id for s in workspace.meetings(c.id)]}
                     for c in ledger.state.cohorts.values()]}
        for ledger in workspace.programmes.values()])


async def cohort_links(request: web.Request) -> web.Response:
    """Each roster person's personal link, to ``?meeting=`` or to the whole cohort."""
    from server.pages.links import personal_links

    workspace = request.app[WORKSPACE]
    try:
        found = personal_links(request, workspace, request.match_info["cohort"],
                               request.query.get("meeting", ""))
    except DomainError as exc:
        return json_error(404, exc.code, exc.message)
    except web.HTTPNotFound:
        return json_error(404, "meeting_not_found", "That meeting is not in this cohort.")
    return web.json_response([{"person": p.id, "name": p.name, "email": p.email,
                               "municipality": p.municipality, "role": p.role, "url": url}
                              for p, url in found])


def routes() -> list[web.RouteDef]:
    return [web.get("/api/programmes", list_programmes),
            web.get("/api/cohorts/{cohort}/links", cohort_links)]
