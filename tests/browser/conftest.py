"""Headless Chromium against a real server: Debian's chromium with fake media devices.

WebRTC between pages needs the private network namespace made by ./scripts/test
(LEDARSTIG_NETNS=1); tests marked ``webrtc`` are skipped without it.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from server.clock import FakeClock
from tests.support import Meeting, RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web_client" / "dist" / "index.html"
AXE = ROOT / "web_client" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("LEDARSTIG_NETNS") == "1":
        return
    skip = pytest.mark.skip(reason="WebRTC between pages needs the private network namespace: "
                                   "run ./scripts/test (it sets LEDARSTIG_NETNS=1)")
    for item in items:
        if "webrtc" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "headless": True, "args": FLAGS}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    return {"viewport": {"width": 1280, "height": 800}, "locale": "sv-FI"}


@pytest.fixture(scope="session", autouse=True)
def built_client() -> None:
    if not DIST.exists():
        pytest.fail("The web client is not built: run `npm ci && npm run build` in web_client/ "
                    "(./scripts/test does it).")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """One JSON server per test (the browser client speaks JSON). Its clock flows with
    real time (pages keep talking; rate limits refill) and jumps when the test advances
    it past a deadline or a countdown."""
    running = await start_server(tmp_path / "data", "json", grace_s=5.0, clock=real_time())
    yield running
    await running.stop()


@pytest.fixture
async def links(server: RunningServer) -> dict[str, str]:
    meeting_id = await server.create_meeting("Ledarstig – dag 1")
    tokens = await server.invites(meeting_id)
    return {role: f"{server.url}/m/{meeting_id}?t={token}" for role, token in tokens.items()} | {
        "meeting": meeting_id}


def real_time() -> FakeClock:
    """A server clock for browser tests: real time that ``RunningServer.advance`` jumps."""
    return FakeClock(flowing=True)


@pytest.fixture
def meeting_of(server: RunningServer):  # type: ignore[no-untyped-def]
    async def make(links: dict[str, str]) -> Meeting:
        tokens = {role: links[role].split("?t=")[1] for role in ("facilitator", "participant")}
        return Meeting(server, links["meeting"], tokens)
    return make


@pytest.fixture
async def open_page(new_context):  # type: ignore[no-untyped-def]
    """A page in its own browser context (its own storage), like a separate person."""
    async def make(url: str) -> Page:
        ctx: BrowserContext = await new_context()
        page = await ctx.new_page()
        page.set_default_timeout(8000)
        page.on("pageerror", lambda exc: errors.append(f"{url}: {exc}"))
        await page.goto(url)
        return page
    errors: list[str] = []
    yield make
    assert not errors, errors


@pytest.fixture
def shot():  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    return take
