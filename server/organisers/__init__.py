"""Organisers: accounts, browser sessions, programmes and personal links."""

from collections.abc import AsyncIterator

from aiohttp import web

from server.keys import CLOCK, GATEWAY, HUB, STORE, TOKENS
from server.organisers.workspace import Workspace

WORKSPACE = web.AppKey("workspace", Workspace)


async def workspace_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load accounts and programmes once the store and the live side are up."""
    workspace = await Workspace.load(app[STORE], app[CLOCK], app[TOKENS])
    workspace.hub = app[HUB]
    app[GATEWAY].admit = workspace.admit
    app[WORKSPACE] = workspace
    yield


__all__ = ["WORKSPACE", "Workspace", "workspace_ctx"]
