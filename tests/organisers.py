"""An organiser's browser session driven over plain HTTP: sign in, follow forms."""

import re
from typing import Any

import aiohttp

from tests.support import RunningServer

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def make_organiser(server: RunningServer, username: str = "ulla",
                         password: str = PASSWORD) -> None:
    status, body = await server.api("POST", "/api/organisers", {
        "username": username, "password": password, "name": "Ulla Organiser"})
    assert status == 201, body


class Organiser:
    """An aiohttp session with a cookie jar, as a browser would keep it."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> "Organiser":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def sign_in(self, username: str = "ulla",
                      password: str = PASSWORD) -> aiohttp.ClientResponse:
        page = await self.get("/")
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        resp = await self.http.post(self.server.url + "/signin", data={
            "csrf": token, "username": username, "password": password}, allow_redirects=False)
        await resp.read()
        return resp

    async def get(self, path: str, status: int = 200) -> str:
        async with self.http.get(self.server.url + path) as resp:
            text = await resp.text()
            assert resp.status == status, (resp.status, text[:500])
            found = CSRF.search(text)
            if found:
                self.csrf = found.group(1)
            return text

    async def post(self, path: str, data: Any = None, *, csrf: str | None = None,
                   follow: bool = False) -> tuple[int, str, str]:
        """POST a form with the session's CSRF token; (status, location, text)."""
        form = aiohttp.FormData()
        form.add_field("csrf", self.csrf if csrf is None else csrf)
        for key, value in (data.items() if isinstance(data, dict) else data or []):
            if isinstance(value, tuple):
                form.add_field(key, value[1], filename=value[0], content_type="text/csv")
            else:
                form.add_field(key, value)
        async with self.http.post(self.server.url + path, data=form,
                                  allow_redirects=follow) as resp:
            return resp.status, resp.headers.get("Location", ""), await resp.text()
