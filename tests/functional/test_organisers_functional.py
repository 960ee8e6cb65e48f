"""Organiser sign-in: accounts, session cookies, CSRF, expiry, sign-out, bearer API."""

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from rooms import Event
from server.organisers import WORKSPACE
from server.organisers.sessions import COOKIE, SignInThrottle
from server.store import MemoryStore, StoreError
from tests.organisers import Organiser, make_organiser
from tests.support import RunningServer, start_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data")
    yield running
    await running.stop()


async def test_the_admin_token_bootstraps_organisers(server: RunningServer) -> None:
    status, _ = await server.api("POST", "/api/organisers", {
        "username": "ulla", "password": "correct horse battery"}, token=None)
    assert status == 401
    status, body = await server.api("POST", "/api/organisers", {
        "username": "ulla", "password": "short"})
    assert status == 400 and body["error"]["code"] == "account_invalid"
    await make_organiser(server)
    status, body = await server.api("POST", "/api/organisers", {
        "username": "ULLA", "password": "another long password"})
    assert status == 409
    stored = server.app[WORKSPACE].accounts.state.by_username["ulla"].hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_sign_in_sets_a_strict_http_only_cookie(server: RunningServer) -> None:
    await make_organiser(server)
    async with Organiser(server) as org:
        resp = await org.sign_in(password="wrong password!")
        assert resp.status == 401 and COOKIE not in resp.cookies
        resp = await org.sign_in()
        assert resp.status == 303 and resp.headers["Location"] == "/o"
        cookie = resp.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
        assert not cookie["secure"]  # plain http on loopback
        page = await org.get("/o")
        assert "Kommunens" not in page and 'action="/signout"' in page
        # The front page of a signed-in organiser is the workspace; of anyone else, sign-in.
        assert "/signin" not in await org.get("/")


async def test_the_cookie_is_secure_behind_https(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data", public_url="https://ledarstig.example")
    try:
        await make_organiser(server)
        async with Organiser(server) as org:
            resp = await org.sign_in()
            assert resp.cookies[COOKIE]["secure"]
    finally:
        await server.stop()


async def test_unsafe_requests_need_the_session_csrf_token(server: RunningServer) -> None:
    await make_organiser(server)
    async with Organiser(server) as org:
        await org.sign_in()
        await org.get("/o")
        for forged in ("", "forged-token"):
            status, _, text = await org.post("/o/programmes", {"name": "Forged"}, csrf=forged)
            assert status == 403 and "Inget har sparats" in text
        assert server.app[WORKSPACE].programmes == {}
        status, location, _ = await org.post("/o/programmes", {"name": "Ledarstig 2026–27"})
        assert status == 303 and location.startswith("/o/p/")
        # A sign-in form needs the form's own token too.
        resp = await org.http.post(server.url + "/signin", data={
            "username": "ulla", "password": "correct horse battery"}, allow_redirects=False)
        assert resp.status == 403


async def test_expired_and_signed_out_sessions_are_refused(server: RunningServer) -> None:
    await make_organiser(server)
    async with Organiser(server) as org:
        await org.sign_in()
        await org.get("/o")
        for session in server.app[WORKSPACE].sessions.all():
            session.expires_at = 0  # as if twelve hours had passed
        status, _, text = await org.post("/o/programmes", {"name": "Late"})
        assert status == 401 and server.app[WORKSPACE].programmes == {}
        page = await org.get("/o")  # follows the redirect to the sign-in page
        assert 'action="/signin"' in page and "gått ut" in page
        await org.sign_in()
        await org.get("/o")
        status, location, _ = await org.post("/signout")
        assert status == 303 and location == "/"
        assert server.app[WORKSPACE].sessions.all() == []
        assert 'action="/signin"' in await org.get("/o")


async def test_the_front_page_discloses_nothing(server: RunningServer) -> None:
    await server.create_meeting("Hemlig träff")
    async with Organiser(server) as org:
        page = await org.get("/?lang=fi")
        assert "Hemlig" not in page and "henkilökohtainen linkki" in page
        assert 'lang="fi"' in page


async def test_the_rest_api_still_takes_the_bearer_token(server: RunningServer) -> None:
    status, _ = await server.api("GET", "/api/meetings")
    assert status == 200
    await make_organiser(server)
    async with Organiser(server) as org:
        await org.sign_in()
        async with org.http.get(server.url + "/api/meetings") as resp:
            assert resp.status == 401  # a browser session is not the admin token


async def test_municipalities_come_from_the_server(server: RunningServer) -> None:
    status, body = await server.api("GET", "/municipalities.json", token=None)
    assert status == 200 and len(body) == 309
    assert {"id": "Helsingfors", "sv": "Helsingfors", "fi": "Helsinki",
            "group": "bilingual"} in body


async def test_password_guessing_is_slowed_down(server: RunningServer) -> None:
    await make_organiser(server)
    server.app[WORKSPACE].throttle = SignInThrottle(limit=2)  # five by default
    async with Organiser(server) as org:
        for _ in range(2):
            assert (await org.sign_in(password="guess guess guess")).status == 401
        resp = await org.sign_in()  # even the right password, for a while
        assert resp.status == 429 and COOKIE not in resp.cookies
        assert (await org.sign_in(username="someone-else")).status == 401


class FlakyStore(MemoryStore):
    """The in-memory store, failing the appends it is told to fail."""

    fail_next = 0

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise StoreError("The disk is full.")
        await super().append(meeting, events)


async def test_a_store_failure_is_named_and_saves_nothing(tmp_path: Path) -> None:
    store = FlakyStore()
    server = await start_server(tmp_path / "data", store=store)
    try:
        await make_organiser(server)
        async with Organiser(server) as org:
            await org.sign_in()
            await org.get("/o")
            status, location, page = await org.post("/o/programmes", {"name": "Ledarstig"})
            assert status == 303, page
            await org.get(location)
            store.fail_next = 1
            status, _, page = await org.post(location + "/cohorts", {"name": "A"})
            assert status == 503 and "Inget har sparats" in page
            programme = server.app[WORKSPACE].programme(location.rsplit("/", 1)[1]).state
            assert programme.cohorts == {} and programme.seq == 1
            status, _, _ = await org.post(location + "/cohorts", {"name": "A"})
            assert status == 303 and len(programme.cohorts) == 1
    finally:
        await server.stop()
