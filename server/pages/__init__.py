"""The organisers' workspace as server-rendered pages (see ``template``)."""

from aiohttp import web

from server.organisers import rest
from server.pages import cohorts, front, links, meetings, network


def routes() -> list[web.RouteDef]:
    c, m = "/o/c/{cohort}", "/o/m/{meeting}"
    return [
        web.post("/signin", front.signin),
        web.post("/signout", front.signout),
        web.get("/p/{token}", front.cohort_link),
        web.get("/municipalities.json", front.municipalities),
        web.post("/api/organisers", front.create_organiser),
        web.get("/o", cohorts.programmes_index),
        web.post("/o/programmes", cohorts.create_programme),
        web.get("/o/p/{programme}", cohorts.programme_page),
        web.post("/o/p/{programme}/cohorts", cohorts.create_cohort),
        web.get(c, cohorts.cohort_page),
        web.post(c + "/meetings", cohorts.create_meeting),
        web.post(c + "/people", cohorts.add_person),
        web.get(c + "/people/{person}", cohorts.person_page),
        web.post(c + "/people/{person}", cohorts.person_action),
        web.post(c + "/people/{person}/{action:remove|revoke}", cohorts.person_action),
        web.post(c + "/import", cohorts.import_preview),
        web.post(c + "/import/confirm", cohorts.import_confirm),
        web.get(c + "/links", links.links_page),
        web.get(c + "/links.csv", links.links_csv),
        web.get(c + "/network", network.network_page),
        web.get(c + "/network.csv", network.network_csv),
        web.get(c + "/network.{fmt:svg|png}", network.network_image),
        web.get(m, meetings.meeting_page),
        web.post(m, meetings.edit_meeting),
        web.post(m + "/agenda/template", meetings.agenda_template),
        web.post(m + "/agenda/add", meetings.agenda_add),
        web.post(m + "/agenda/remove", meetings.agenda_remove),
        web.post(m + "/guest-link", meetings.guest_link),
        web.post(m + "/end", meetings.end_meeting),
        web.post(m + "/cohort", meetings.move_meeting),
        *rest.routes(),
    ]
