"""Keeping a long-polling client on one process behind nginx.

Engine.IO's long-polling is a series of HTTP requests that must all reach the
process holding the session. nginx's open-source build has no sticky cookie and
``ip_hash`` sends everyone behind one NAT address (a municipal office, every test
client on loopback) to one process. So each process names itself in a cookie on
its Socket.IO responses (``ledarstig_node``), and nginx routes ``/socket.io/`` by
that cookie with a ``map`` (docs/deploy.md). A client without the cookie, or with
the name of a process that is gone, is balanced as usual and pinned by the answer.
"""

from aiohttp import web

from server.keys import SETTINGS

COOKIE = "ledarstig_node"


async def pin_cookie(request: web.Request, response: web.StreamResponse) -> None:
    name = request.app[SETTINGS].node_name
    if name and request.path.startswith("/socket.io") and request.cookies.get(COOKIE) != name:
        # aiohttp has already turned response.cookies into headers by now
        response.headers.add("Set-Cookie",
                             f"{COOKIE}={name}; HttpOnly; Path=/socket.io/; SameSite=Lax")
