"""Steps people take in the browser client, and checks on what it shows."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Page, expect

from tests.browser.conftest import AXE


async def join(page: Page, name: str, municipality: str, title: str | None = None) -> None:
    await page.get_by_label("Ditt namn").fill(name)
    await page.get_by_label("Kommun", exact=True).fill(municipality)
    if title:
        await page.get_by_label("Titel eller uppdrag (frivilligt)").fill(title)
    await page.get_by_role("button", name="Gå med i mötet").click()
    await expect(page.locator(".meeting")).to_be_visible()


async def poll(check: Callable[[], Awaitable[Any]], timeout: float = 10.0,
               interval: float = 0.1, what: str = "condition") -> Any:
    """Await check() until it returns something truthy (for Promise-returning page checks)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout} s; last value {last!r}")


VIDEO_FLOWING = """async () => {
  const app = window.ledarstig
  const others = `.tile:not([data-peer="${app.store.me}"]) video`
  const videos = [...document.querySelectorAll(others)]
  const width = Math.max(0, ...videos.map((v) => v.videoWidth))
  const stats = await app.view.mesh.stats()
  const frames = Object.values(stats).reduce((n, s) => n + s.framesDecoded, 0)
  return {ok: width > 0 && frames > 0, width, frames, stats, peers: app.store.peers}
}"""


async def video_flowing(page: Page, timeout: float = 15.0) -> dict[str, Any]:
    last: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal last
        last = await page.evaluate(VIDEO_FLOWING)
        return bool(last["ok"])
    try:
        await poll(check, timeout, what="remote video")
    except AssertionError as exc:
        raise AssertionError(f"no remote video: {last}") from exc
    return last


async def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[
        dict[str, Any]]:
    if not await page.evaluate("() => Boolean(window.axe)"):
        await page.add_script_tag(content=AXE.read_text("utf-8"))
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in impacts]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)
