"""Chromium pages in the plenary through Janus: one publishes, another receives."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import real_time
from tests.browser.helpers import join, poll
from tests.media_servers import Janus
from tests.support import RunningServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.webrtc]

SFU_VIDEO = """async (other) => {
  const app = window.ledarstig
  const stats = await app.view.plenary.sfu.stats()
  const video = document.querySelector(`.tile[data-peer="${other}"] video`)
  const frames = stats[other]?.framesDecoded ?? 0
  return {ok: frames > 0 && (video?.videoWidth ?? 0) > 0, frames, width: video?.videoWidth,
          mode: app.store.peers?.mode, pcs: app.view.mesh.peers.size}
}"""


@pytest.fixture
async def server(tmp_path: Path, janus: Janus) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", "json", grace_s=5.0, clock=real_time(),
                                 **janus.settings)
    yield running
    await running.stop()


async def test_a_page_publishes_into_janus_and_another_receives_it(
        open_page, links: dict[str, str], janus: Janus) -> None:  # type: ignore[no-untyped-def]
    # Two people, so two browser contexts: one context would offer "continue as Anna".
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Vasa")
    bo = await open_page(links["participant"])
    await join(bo, "Bo Lind", "Borgå")
    anna_id = await anna.evaluate("window.ledarstig.store.me")
    bo_id = await bo.evaluate("window.ledarstig.store.me")
    async def receiving(page: Page, other: str) -> dict[str, Any] | None:
        got: dict[str, Any] = await page.evaluate(SFU_VIDEO, other)
        return got if got["ok"] else None
    seen = await poll(lambda: receiving(bo, anna_id), 20, what="Anna through Janus")
    assert seen["mode"] == "sfu" and seen["pcs"] == 0, seen  # no peer-to-peer connection
    back = await poll(lambda: receiving(anna, bo_id), 20, what="Bo through Janus")
    assert back["frames"] > 0 and back["width"] > 0
    # Janus stops: the plenary falls back to the mesh, and says so; then it comes back.
    await janus.stop()
    await expect(anna.locator(".toast", has_text="Videoservern svarar inte")).to_be_visible()
    await poll(lambda: bo.evaluate("window.ledarstig.view.mesh.peers.size === 1"), 10,
               what="the mesh instead")
    await janus.start()
    await expect(bo.locator(".toast", has_text="Videoservern är tillbaka")).to_be_visible()
    again = await poll(lambda: receiving(bo, anna_id), 20, what="Anna through Janus again")
    assert again["pcs"] == 0


# The camera and microphone answer only when the test says so: a person who allows them
# after joining (the permission prompt answered late, a slow phone, a camera plugged in).
HOLD_CAMERA = """(() => {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices)
  let allow
  const allowed = new Promise((resolve) => { allow = resolve })
  window.allowCamera = () => allow()
  navigator.mediaDevices.getUserMedia = async (wanted) => { await allowed; return ask(wanted) }
})()"""


async def test_a_camera_allowed_after_joining_reaches_the_plenary(
        new_context, open_page, links: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Anna joins the plenary before her camera answers. Before, her SFU client made a
    publisher with nothing to send and never published again: nobody ever saw her."""
    ctx = await new_context()
    await ctx.add_init_script(HOLD_CAMERA)
    anna = await ctx.new_page()
    await anna.goto(links["participant"])
    await join(anna, "Anna Berg", "Vasa")
    await poll(lambda: anna.evaluate("window.ledarstig.view.plenary.mode === 'sfu'"), 10,
               what="Anna in the plenary through Janus")
    assert await anna.evaluate("window.ledarstig.local.stream.getTracks().length") == 0
    bo = await open_page(links["participant"])
    await join(bo, "Bo Lind", "Borgå")
    anna_id = await anna.evaluate("window.ledarstig.store.me")
    await anna.evaluate("window.allowCamera()")

    async def bo_sees_anna() -> dict[str, Any] | None:
        got: dict[str, Any] = await bo.evaluate(SFU_VIDEO, anna_id)
        return got if got["ok"] else None
    seen = await poll(bo_sees_anna, 20, what="Anna's camera through Janus")
    assert seen["mode"] == "sfu" and seen["pcs"] == 0, seen


# In Bo's page: every stream the SFU client takes down, and the camera track it shows.
WATCH_TAKEN_DOWN = """() => {
  const sfu = window.ledarstig.view.plenary.sfu
  const show = sfu.onStream
  window.takenDown = []
  sfu.onStream = (id, stream, kind) => {
    if (!stream) window.takenDown.push(`${id}:${kind}`)
    return show(id, stream, kind)
  }
}"""
CAMERA_TRACK = """(other) =>
  window.ledarstig.view.plenary.sfu.streams.get(other)?.getVideoTracks()[0]?.id ?? null"""


async def test_a_shared_screen_reaches_the_plenary_through_janus(
        open_page, links: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """A screen shared in the plenary goes through Janus as a second video stream of the
    sharer's feed, shown as its own tile, and goes away when the sharing stops. Before,
    the SFU client published the camera and microphone only: nobody saw the screen.
    Sharing and stopping renegotiate the sharer's publishing connection: the others'
    view of her camera goes on, the same track, never taken down (before, she published
    anew and her camera went dark for everyone at each start and stop)."""
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Vasa")
    bo = await open_page(links["participant"])
    await join(bo, "Bo Lind", "Borgå")
    anna_id = await anna.evaluate("window.ledarstig.store.me")

    async def bo_sees_anna() -> dict[str, Any] | None:
        got: dict[str, Any] = await bo.evaluate(SFU_VIDEO, anna_id)
        return got if got["ok"] else None
    await poll(bo_sees_anna, 20, what="Anna's camera through Janus")
    await bo.evaluate(WATCH_TAKEN_DOWN)
    camera = await bo.evaluate(CAMERA_TRACK, anna_id)
    await anna.evaluate("window.ledarstig.view.plenary.sfu.publisher.firstOne = true")
    screen = bo.locator(f'.tile-screen[data-peer="{anna_id}"] video')
    for _ in range(2):  # the second time the stopped screen's stream is taken up again
        await anna.get_by_role("button", name="Dela skärmen").click()
        await expect(screen).to_have_count(1, timeout=15000)
        await poll(lambda: screen.evaluate("(v) => v.videoWidth"), 15, what="Anna's screen")
        assert await bo.evaluate("window.ledarstig.view.mesh.peers.size") == 0  # no mesh
        seen = await poll(bo_sees_anna, 15, what="Anna's camera beside her screen")
        assert seen["mode"] == "sfu", seen
        await anna.get_by_role("button", name="Sluta dela").click()
        await expect(bo.locator(".tile-screen")).to_have_count(0, timeout=15000)
        await poll(bo_sees_anna, 15, what="Anna's camera after the screen")
    assert await anna.evaluate("window.ledarstig.view.plenary.sfu.publisher.firstOne") is True
    assert await bo.evaluate(CAMERA_TRACK, anna_id) == camera
    assert await bo.evaluate("window.takenDown") == [f"{anna_id}:screen"] * 2


PUBLISHED_RIDS = """async () => {
  const pc = window.ledarstig.view.plenary.sfu.publisher
  const rids = []
  ;(await pc.getStats()).forEach((s) => {
    const sent = s.type === 'outbound-rtp' && s.kind === 'video' && (s.framesEncoded ?? 0) > 0
    if (sent) rids.push(s.rid)
  })
  return {rids: rids.sort(), answer: pc.remoteDescription?.sdp ?? ''}
}"""
WIDTH = """async (other) =>
  (await window.ledarstig.view.plenary.sfu.stats())[other]?.frameWidth ?? 0"""


async def test_thumbnails_take_the_low_simulcast_layer_and_a_pinned_tile_the_high(
        open_page, links: dict[str, str], janus: Janus) -> None:  # type: ignore[no-untyped-def]
    anna = await open_page(links["participant"])
    await join(anna, "Anna Berg", "Vasa")
    # Anna's microphone off: she never becomes the active speaker (who gets the high layer).
    await anna.evaluate("window.ledarstig.view.plenary.sfu.local.setMic(false)")
    anna_id = await anna.evaluate("window.ledarstig.store.me")
    async def two_layers() -> dict[str, Any] | None:
        got: dict[str, Any] = await anna.evaluate(PUBLISHED_RIDS)
        return got if got["rids"] == ["h", "l"] else None
    published = await poll(two_layers, 20, what="Anna sending two simulcast layers")
    assert "a=simulcast:recv h;l" in published["answer"]  # Janus accepted both
    bo = await open_page(links["participant"])
    await join(bo, "Bo Lind", "Borgå")
    async def width(test: Any) -> int | None:
        w: int = await bo.evaluate(WIDTH, anna_id)
        return w if test(w) else None
    low = await poll(lambda: width(lambda w: 0 < w <= 200), 20, what="Anna's thumbnail layer")
    await bo.locator(f'.tile[data-peer="{anna_id}"]').dblclick()  # pin: the high layer
    await poll(lambda: width(lambda w: w >= 3 * low), 20, what="Anna's full layer")
    await bo.locator(f'.tile[data-peer="{anna_id}"]').dblclick()  # unpin: back to low
    await poll(lambda: width(lambda w: 0 < w <= 200), 20, what="the thumbnail layer again")


PLENARY_STATE = """() => { const v = window.ledarstig.view.plenary
  return {me: window.ledarstig.store.me, mode: v.mode, feeds: v.gallery.feeds,
          publisher: v.sfu.publisher?.connectionState} }"""
WANTED = "JSON.parse(window.ledarstig.view.plenary.sfu.wanted || '[]')"


async def test_gallery_pages_pinning_and_only_video_of_those_speaking(
        open_page, links: dict[str, str], janus: Janus) -> None:  # type: ignore[no-untyped-def]
    pages: list[Page] = []
    for name in ("Anna Berg", "Bo Lind", "Cem Aho", "Dag Ek"):
        page = await open_page(links["participant"])
        await join(page, name, "Vasa")
        # Microphones off: nobody becomes the speaker, so "only video of those speaking"
        # shows exactly the pinned.
        await page.evaluate("window.ledarstig.view.plenary.sfu.local.setMic(false)")
        pages.append(page)
    dag = pages[-1]
    others = sorted([await p.evaluate("window.ledarstig.store.me") for p in pages[:3]])
    try:
        await poll(lambda: dag.evaluate("window.ledarstig.view.plenary.gallery.feeds.length === 3"),
                   20, what="three feeds in Dag's gallery")
    except AssertionError as exc:  # say what each page had
        raise AssertionError(f"{exc}: {[await p.evaluate(PLENARY_STATE) for p in pages]}") from exc
    # Two tiles a page (25 in use), so that three publishers make two pages.
    await dag.evaluate("""() => { const v = window.ledarstig.view.plenary
                                  v.gallery.pageSize = 2; v.resubscribe() }""")
    bar = dag.locator(".gallery-bar")
    async def wanted() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = await dag.evaluate(WANTED)
        return got
    assert [f["id"] for f in await wanted()] == others[:2]
    await bar.locator("button").nth(1).click()  # next page
    assert [f["id"] for f in await wanted()] == others[2:]
    third = f"(await window.ledarstig.view.plenary.sfu.stats())['{others[2]}']?.framesDecoded"
    await poll(lambda: dag.evaluate(f"async () => {third} > 0"), 20,
               what="the second page's video")
    # Pin the one on page two: first on page one from now on, with the high layer.
    await dag.locator(f'.tile[data-peer="{others[2]}"]').dblclick()
    await bar.locator("button").nth(0).click()  # previous page
    got = await wanted()
    assert [(f["id"], f["layer"]) for f in got] == [(others[2], "high"), (others[0], "low")]
    await bar.locator("input[type=checkbox]").check()  # only video of those speaking
    got = await wanted()
    assert [(f["id"], f["video"], f["audio"]) for f in got] == [
        (others[2], True, True), (others[0], False, True)], got
