"""Several processes (``--redis-url``): when Redis stops answering, the page says the
meeting waits, and when it is back the banner goes and the page catches up."""

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import real_time
from tests.browser.helpers import join, poll
from tests.redis_support import RedisServer
from tests.support import RunningServer, start_server

STORE_DOWN = "Servern kan inte spara just nu – ansluter igen …"
RECORD_REQUESTS = """() => {
  const conn = window.ledarstig.conn
  const request = conn.request.bind(conn)
  window.requests = []
  conn.request = (event, data, opts) => {
    window.requests.push([event, data])
    return request(event, data, opts)
  }
}"""


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture
async def server(redis: RedisServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", "json", grace_s=5.0, clock=real_time(),
                                 redis_url=redis.url)
    yield running
    await running.stop()


async def test_the_page_shows_it_waits_while_redis_is_down_and_asks_to_catch_up_after(
        links: dict[str, str], meeting_of, open_page, redis: RedisServer) -> None:  # type: ignore[no-untyped-def]
    page = await open_page(links["participant"])
    await join(page, "Anna Berg", "Borgå")
    bo = await (await meeting_of(links)).participant("Bo Ek", "Vasa")
    await page.evaluate(RECORD_REQUESTS)
    status = page.locator(".conn-status")
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)  # a Redis that hangs
    try:
        await expect(status).to_have_text(STORE_DOWN, timeout=5000)
        await page.evaluate("window.ledarstig.conn.socket.io.engine.close()")  # a drop too
        await expect(status).to_have_text(
            "Anslutningen bröts – ansluter igen …", timeout=3000)
        await expect(status).to_have_text(STORE_DOWN, timeout=5000)  # back, still waiting
        await expect(page.locator(".meeting")).to_be_visible()  # no error screen
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    await expect(status).to_have_text("", timeout=8000)
    seq = await page.evaluate("window.ledarstig.store.seq")
    syncs = await poll(lambda: page.evaluate(
        "window.requests.filter(([e]) => e === 'sync')"), 5, what="a catch-up sync")
    assert syncs == [["sync", {"last_seq": seq}]]
    await bo.ok("chat", {"text": "Hej efter avbrottet"})
    await page.get_by_role("tab", name="Chatt").click()
    await expect(page.locator(".chat-text")).to_have_text("Hej efter avbrottet")


