"""The plenary's SFU with two server processes sharing Redis and one Janus.

Janus, redis-server and the two ``ledarstig serve --redis-url --janus-url``
processes are real and started here; the peers are aiortc, inside the test
network namespace (``./scripts/test``)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from tests.cluster_support import Proc, spawn, wait_healthy
from tests.media_servers import Janus
from tests.redis_support import RedisServer
from tests.webrtc import ColourBars, needs_netns
from tests.webrtc_sfu import SfuPeer

pytestmark = [needs_netns, pytest.mark.webrtc]
DESTROYED = "destroyed the VideoRoom of meeting"


@pytest.fixture
async def two(tmp_path: Path, janus: Janus) -> AsyncIterator[tuple[RedisServer, list[Proc]]]:
    server = RedisServer(tmp_path / "redis").start()
    extra = ("--janus-url", janus.config.url, "--janus-secret", janus.config.api_secret,
             "--janus-admin-key", janus.config.admin_key)
    procs = [spawn(server.url, tmp_path, name, extra=extra) for name in ("a", "b")]
    try:
        await asyncio.gather(*(wait_healthy(p) for p in procs))
        yield server, procs
    finally:
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in procs))
        server.kill()


async def _room_exists(janus: Janus, room: int) -> bool:
    """Ask Janus itself (a session of the test's own) whether the VideoRoom exists."""
    from server.sfu.janus import JanusSession
    async with aiohttp.ClientSession() as http, JanusSession(
            http, janus.config.url, janus.config.api_secret) as session:
        handle = await session.attach()
        try:
            return bool((await handle.request({"request": "exists", "room": room}))["exists"])
        finally:
            await handle.detach()


async def _until(check, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.1)  # polling logs and Janus: nothing to await


async def test_publishers_on_one_process_reach_subscribers_on_the_other_and_the_room_ends_once(
        two: tuple[RedisServer, list[Proc]], janus: Janus) -> None:
    redis_server, (a, b) = two
    meeting = await a.new_meeting()
    host = SfuPeer(a.client(meeting.tokens["facilitator"]))  # publishes, on a
    anna = SfuPeer(b.client(meeting.tokens["participant"], meeting=meeting.id))  # on b
    bo = SfuPeer(b.client(meeting.tokens["participant"], meeting=meeting.id),
                 camera=False)  # only receives, on b
    peers = [host, anna, bo]
    try:
        for peer, name in zip(peers, ("Fia", "Anna", "Bo"), strict=True):
            await peer.client.connect()
            await peer.client.join(name, "Vasa")
        for peer in peers:
            await peer.wait_mode("sfu", seconds=15)
        # a's publisher is received on b, and b's on a: real frames, through one room
        await bo.wait_sfu_frames(host.id, n=5, seconds=20)
        await anna.wait_sfu_frames(host.id, n=5, seconds=20)
        await host.wait_sfu_frames(anna.id, n=5, seconds=20)
        await bo.wait_sfu_frames(anna.id, n=5, seconds=20)
        assert sorted(host.feeds) == sorted(bo.feeds) == sorted([host.id, anna.id])
        assert [p.errors for p in peers] == [[], [], []]
        assert all(p.pcs == {} for p in peers)  # no peer-to-peer connection in the plenary
        room = int(redis.Redis.from_url(redis_server.url).get(f"ls:sfu:room:{meeting.id}"))
        assert await _room_exists(janus, room)
        # the meeting ends: the room is destroyed, by one process only
        await host.client.ok("meeting.end")

        async def destroyed() -> bool:
            return (not await _room_exists(janus, room)
                    and sum(p.log.read_text().count(DESTROYED) for p in (a, b)) >= 1)
        await _until(destroyed)
        await asyncio.sleep(1.0)  # what a second destroyer would log, if any: it must not
        assert sum(p.log.read_text().count(DESTROYED) for p in (a, b)) == 1
        assert redis.Redis.from_url(redis_server.url).exists(
            f"ls:sfu:room:{meeting.id}", f"ls:sfu:feeds:{meeting.id}") == 0
    finally:
        for peer in peers:
            await peer.close()
            await peer.client.close()


async def test_a_dead_process_s_feeds_leave_the_other_processes_plans(
        two: tuple[RedisServer, list[Proc]]) -> None:
    _, (a, b) = two
    meeting = await a.new_meeting()
    host = SfuPeer(a.client(meeting.tokens["facilitator"]))  # publishes, on a
    bo = SfuPeer(b.client(meeting.tokens["participant"], meeting=meeting.id), camera=False)
    try:
        for peer, name in ((host, "Fia"), (bo, "Bo")):
            await peer.client.connect()
            await peer.client.join(name, "Vasa")
        await bo.wait_sfu_frames(host.id, n=3, seconds=20)
        a.kill9()  # its Janus session lingers for a minute; its feed must not
        await bo.until(lambda: bo.feeds == [], 10)
        assert bo.errors == []
    finally:
        for peer in (host, bo):
            await peer.close()
            await peer.client.close()


async def test_after_a_janus_restart_the_processes_share_one_room_again(
        two: tuple[RedisServer, list[Proc]], janus: Janus) -> None:
    _, (a, b) = two
    meeting = await a.new_meeting()
    host = SfuPeer(a.client(meeting.tokens["facilitator"]))  # publishes, on a
    bo = SfuPeer(b.client(meeting.tokens["participant"], meeting=meeting.id))  # and on b
    try:
        for peer, name in ((host, "Fia"), (bo, "Bo")):
            await peer.client.connect()
            await peer.client.join(name, "Vasa")
        await bo.wait_sfu_frames(host.id, n=3, seconds=20)
        await janus.stop()
        for peer in (host, bo):
            await peer.wait_mode("mesh", seconds=10)  # the fallback, while Janus is away
        await janus.start()
        for peer in (host, bo):
            await peer.wait_mode("sfu", seconds=15)
        await bo.wait_sfu_frames(host.id, n=3, seconds=20)
        await host.wait_sfu_frames(bo.id, n=3, seconds=20)
        # A request in flight as Janus went away is refused with not_in_room (the room
        # does not use the SFU now; the fallback plan follows): nothing else may fail.
        assert [e for e in host.errors + bo.errors if "'not_in_room'" not in e] == []
    finally:
        for peer in (host, bo):
            await peer.close()
            await peer.client.close()


async def _offer(pc: RTCPeerConnection, client: Any, screen: Any = None,
                 update: bool = False) -> None:
    """Publish (or renegotiate, ``update``) ``pc`` through our server; ``screen``: the
    transceiver of a shared screen."""
    await pc.setLocalDescription(await pc.createOffer())
    answer = await client.ok("sfu.publish", {
        "description": {"type": "offer", "sdp": pc.localDescription.sdp}, "update": update,
        "screen": screen.mid if screen is not None else None})
    desc = answer["description"]
    await pc.setRemoteDescription(RTCSessionDescription(desc["sdp"], desc["type"]))


async def test_a_screen_shared_through_one_process_comes_and_goes_on_the_other(
        two: tuple[RedisServer, list[Proc]]) -> None:
    """Fia shares her screen through process a; Bo receives on b. Her screen is marked
    as a screen there, and when she stops and shares again (renegotiating her publishing
    connection), b brings Bo's subscription up to date by itself (`sfu.offer`) while her
    camera keeps flowing to him on the same stream."""
    _, (a, b) = two
    meeting = await a.new_meeting()
    fia = SfuPeer(a.client(meeting.tokens["facilitator"]), camera=False)  # publishes below
    bo = SfuPeer(b.client(meeting.tokens["participant"], meeting=meeting.id), camera=False)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for peer, name in ((fia, "Fia"), (bo, "Bo")):
            await peer.client.connect()
            await peer.client.join(name, "Vasa")
            await peer.wait_mode("sfu", seconds=15)
        pc.addTransceiver(ColourBars(), "sendonly")
        screen = pc.addTransceiver(ColourBars(), "sendonly")
        await _offer(pc, fia.client, screen)
        await bo.wait_sfu_frames(fia.id, n=5, seconds=20)
        await bo.until(lambda: len(bo.screens) == 1, 10)
        (shown,) = bo.screens
        camera = next(m for m, who in bo.carried.items() if who == fia.id and m != shown
                      and m in bo.mid_frames)
        offers = bo.janus_offers
        screen.direction = "inactive"  # she stops sharing
        await _offer(pc, fia.client, update=True)
        try:
            await bo.until(lambda: bo.janus_offers > offers and not bo.screens, 10)
        except TimeoutError:
            raise AssertionError(f"the screen stayed: {bo.state()}") from None
        before = bo.mid_frames[camera]
        await bo.until(lambda: bo.mid_frames[camera] >= before + 5, 10)  # the same stream
        screen.direction = "sendonly"  # and shares again
        await _offer(pc, fia.client, screen, update=True)
        try:
            await bo.until(lambda: len(bo.screens) == 1, 10)
        except TimeoutError:
            raise AssertionError(f"the screen did not come back: {bo.state()}") from None
        assert bo.errors == [] and fia.errors == []
    finally:
        await pc.close()
        for peer in (fia, bo):
            await peer.close()
            await peer.client.close()
