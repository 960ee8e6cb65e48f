"""The plenary through Janus's VideoRoom, TURN through coturn, and the fallback.

Janus and coturn run as real processes inside the test network namespace."""

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from rooms.media import Sfu
from server.keys import HUB, VIDEO
from tests.media_servers import (
    NETNS_IP,
    Janus,
    needs_coturn,
    running_coturn,
)
from tests.support import Meeting, RunningServer, start_server
from tests.tcp_proxy import TcpProxy
from tests.webrtc import needs_netns
from tests.webrtc_sfu import SfuPeer, relay_config

pytestmark = [needs_netns, pytest.mark.webrtc]


@pytest.fixture
async def sfu_server(tmp_path: Path, janus: Janus):  # type: ignore[no-untyped-def]
    server = await start_server(tmp_path / "d", **janus.settings)
    yield server
    await server.stop()


async def peers_joined(server: RunningServer, m: Meeting, count: int,
                       cameras: int) -> list[SfuPeer]:
    """A facilitator and ``count - 1`` participants; the first ``cameras`` publish."""
    out = []
    for i in range(count):
        role = "facilitator" if i == 0 else "participant"
        peer = SfuPeer(server.client(m.tokens[role]), camera=i < cameras)
        out.append(peer)
        await peer.client.connect()
        await peer.client.join(f"P{i}", ["Vasa", "Borgå", "Esbo", "Pargas", "Hangö"][i % 5])
    return out


async def test_one_publisher_and_five_subscribers_receive_frames(
        sfu_server: RunningServer) -> None:
    m = await sfu_server.new_meeting()
    peers = await peers_joined(sfu_server, m, 6, cameras=1)
    try:
        host = peers[0]
        for peer in peers:
            await peer.wait_mode("sfu")
        for peer in peers[1:]:
            await peer.wait_sfu_frames(host.id, n=5)
        assert [p.errors for p in peers] == [[]] * len(peers)
        assert all(p.pcs == {} for p in peers)  # no peer-to-peer connection in the plenary
    finally:
        for peer in peers:
            await peer.close()


async def test_subscribing_is_only_to_ones_own_room(sfu_server: RunningServer) -> None:
    m = await sfu_server.new_meeting()
    fia = await m.facilitator()
    anna = await m.participant("Anna")
    await anna.inbox.wait("peers", lambda d: d["mode"] == "sfu")
    other = await (await sfu_server.new_meeting("Other")).participant("Bo")
    refused = await anna.call("sfu.subscribe", {"feeds": [{"id": other.participant}]})
    assert refused["error"]["code"] == "unknown_peer"
    refused = await anna.call("sfu.answer", {"description": {"type": "answer", "sdp": "v=0"}})
    assert refused["error"]["code"] == "sfu_no_subscription"
    refused = await anna.call("sfu.publish", {"description": {"type": "answer", "sdp": "v=0"}})
    assert refused["error"]["code"] == "invalid_payload"
    for screen in (5, "x" * 65, ["0"]):  # the shared screen's mid: a short string or null
        refused = await anna.call("sfu.publish", {"description": {"type": "offer", "sdp": "v=0"},
                                                  "screen": screen})
        assert refused["error"]["code"] == "invalid_payload", screen
    refused = await anna.call("sfu.publish", {"description": {"type": "offer", "sdp": "v=0"},
                                              "update": "yes"})
    assert refused["error"]["code"] == "invalid_payload"
    # Renegotiating a publisher connection that Anna does not have: nothing is published.
    refused = await anna.call("sfu.publish", {"description": {"type": "offer", "sdp": "v=0"},
                                              "update": True})
    assert refused["error"]["code"] == "sfu_no_publisher"
    await fia.ok("round.preview", {"group_count": 1})
    await fia.ok("round.open")
    await anna.inbox.wait("peers", lambda d: d["mode"] == "mesh")
    refused = await anna.call("sfu.publish", {"description": {"type": "offer", "sdp": "v=0"}})
    assert refused["error"]["code"] == "not_in_room"
    nothing = await fia.ok("sfu.subscribe", {"feeds": []})
    assert nothing == {"description": None, "streams": []}


async def test_a_round_switches_to_the_mesh_and_back_within_two_seconds(
        sfu_server: RunningServer) -> None:
    m = await sfu_server.new_meeting()
    peers = await peers_joined(sfu_server, m, 5, cameras=5)
    fia, people = peers[0], peers[1:]
    try:
        for x in peers:
            for y in peers:
                if x is not y:
                    await x.wait_sfu_frames(y.id, n=1, seconds=20)
        started = time.monotonic()
        await fia.client.ok("round.preview", {"group_count": 2})
        await fia.client.ok("round.open")
        r = sfu_server.app[HUB].get(m.id).state.current()
        by_id = {p.id: p for p in people}
        for group in r.groups:
            for a in group:
                for b in group:
                    if a != b:
                        await by_id[a].wait_frames(b, n=1, seconds=5)
        to_mesh = time.monotonic() - started
        assert all(p.subscriber is None and p.publisher is not None for p in people)
        await fia.until(lambda: fia.told[-1] == ("plenary", [fia.id]), 5)  # alone there
        told = {p.id: len(p.told) for p in peers}
        started = time.monotonic()
        await fia.client.ok("round.close")
        for x in peers:
            for y in peers:
                if x is not y:
                    await x.wait_sfu_frames(y.id, n=1, seconds=10)
        to_sfu = time.monotonic() - started
        print(f"room switch, 5 participants: to mesh {to_mesh:.2f} s, back {to_sfu:.2f} s")
        assert to_mesh < 2.0 and to_sfu < 2.0
        assert [p.errors for p in peers] == [[]] * len(peers)
        # Back in the plenary, each client heard the feed list once (before: with its new
        # plan, and then again with the room's).
        everyone = ("plenary", sorted(p.id for p in peers))
        assert [p.told[told[p.id]:] for p in peers] == [[everyone]] * len(peers)
    finally:
        for peer in peers:
            await peer.close()


async def test_janus_down_falls_back_to_the_mesh_and_back(sfu_server: RunningServer,
                                                          janus: Janus) -> None:
    m = await sfu_server.new_meeting()
    fia = await m.facilitator()
    anna = await m.participant("Anna")
    await anna.inbox.wait("peers", lambda d: d["mode"] == "sfu")
    await janus.stop()
    plan = await anna.inbox.wait("peers", lambda d: d["fallback"], timeout=10)
    assert plan["mode"] == "mesh" and [p["id"] for p in plan["peers"]] == [fia.participant]
    assert sfu_server.app[VIDEO].status is Sfu.DOWN
    refused = await anna.call("sfu.publish", {"description": {"type": "offer", "sdp": "v=0"}})
    assert refused["error"]["code"] == "not_in_room"
    count = len(anna.inbox.named("peers"))
    await janus.start()
    back = await anna.inbox.wait("peers", lambda d: d["mode"] == "sfu"
                                 and len(anna.inbox.named("peers")) > count, timeout=10)
    assert back["fallback"] is False and back["peers"] == []


async def test_a_cut_connection_to_janus_starts_a_new_session_and_the_plenary_recovers(
        tmp_path: Path, janus: Janus) -> None:
    """Every connection between the server and Janus is reset at once (a NAT's or a
    load balancer's blip), the long-poll's included. Janus does not replay the events
    it wrote to the dead poll, so the session ends and a new one starts: the plenary
    falls back for a moment and comes back, and a newcomer's subscription works.
    Before, aiohttp sent the poll again on a new connection and the session looked
    alive, but Janus's answer to the newcomer's subscription went to the dead poll:
    the newcomer saw no video, and nothing noticed."""
    cfg = janus.config
    async with TcpProxy(cfg.api_ip, cfg.api_port, host=NETNS_IP) as proxy:
        url = f"http://{NETNS_IP}:{proxy.port}/janus"
        server = await start_server(tmp_path / "d", **{**janus.settings, "janus_url": url})
        video = server.app[VIDEO]
        changes: list[Sfu] = []
        back = asyncio.Event()

        async def status_changed() -> None:
            changes.append(video.status)
            if video.status is Sfu.UP:
                back.set()
        video.on_status.append(status_changed)
        m = await server.new_meeting()
        peers = await peers_joined(server, m, 2, cameras=1)
        host, bo = peers
        try:
            await bo.wait_sfu_frames(host.id, n=3, seconds=20)
            session = video._session
            assert session is not None and video.status is Sfu.UP
            changes.clear()
            back.clear()
            assert proxy.cut() >= 1  # the long-poll at least
            await asyncio.wait_for(back.wait(), 10)
            assert changes == [Sfu.DOWN, Sfu.UP] and session.closed.is_set()
            assert video._session is not session
            cleo = SfuPeer(server.client(m.tokens["participant"]), camera=False)
            peers.append(cleo)
            await cleo.client.connect()
            await cleo.client.join("Cleo", "Esbo")
            await cleo.wait_sfu_frames(host.id, n=3, seconds=20)
            frames = bo.sfu_frames.get(host.id, 0)
            await bo.wait_sfu_frames(host.id, n=frames + 3, seconds=20)
            # what was in flight at the cut may be refused (the room left the SFU for a
            # moment); nothing else may fail
            assert [e for p in peers for e in p.errors if "'not_in_room'" not in e] == []
        finally:
            for peer in peers:
                await peer.close()
            await server.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for the namespace's address, made for the test with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "turn.pem", folder / "turn.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", f"/CN={NETNS_IP}", "-addext", f"subjectAltName=IP:{NETNS_IP}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@needs_coturn
@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_relay_only_peers_connect_through_coturn_with_issued_credentials(
        tmp_path: Path, transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cert = self_signed(tmp_path / "cert") if transport == "tls" else None
    if cert is not None:  # aioice verifies the TURN server's certificate: trust ours
        monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    async with running_coturn(tmp_path / "turn", cert=cert) as turn:
        url = (turn.url if transport == "udp" else turn.tcp_url if transport == "tcp"
               else turn.tls_url)
        server = await start_server(tmp_path / "d", turn_urls=(url,),
                                    turn_secret=turn.secret, turn_ttl_s=600)
        a = b = None
        try:
            m = await server.new_meeting()
            anna, bo = await m.participant("Anna"), await m.participant("Bo")
            ice_a = (await anna.inbox.wait("welcome"))["ice_servers"]
            ice_b = (await bo.inbox.wait("welcome"))["ice_servers"]
            a, b = RTCPeerConnection(relay_config(ice_a)), RTCPeerConnection(relay_config(ice_b))
            channel = a.createDataChannel("chat")
            opened, got = asyncio.Event(), asyncio.get_running_loop().create_future()
            channel.on("open", opened.set)
            b.on("datachannel", lambda ch: ch.on("message", got.set_result))
            await a.setLocalDescription(await a.createOffer())
            offer = a.localDescription.sdp
            await b.setRemoteDescription(a.localDescription)
            await b.setLocalDescription(await b.createAnswer())
            await a.setRemoteDescription(b.localDescription)
            for sdp in (offer, b.localDescription.sdp):
                candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
                assert candidates and all(" typ relay" in c for c in candidates), candidates
            async with asyncio.timeout(10):
                await opened.wait()
            channel.send("via TURN")
            assert await asyncio.wait_for(got, 5) == "via TURN"
            log = turn.log_text()
            assert f":{anna.participant}>" in log and f":{bo.participant}>" in log
            # The allocations were made over the transport asked for (coturn names it).
            sessions = [line for line in log.splitlines() if "new, realm" in line]
            assert len(sessions) >= 2, log[-3000:]
            streams = log.count("tcp or tls connected to")  # one per TCP/TLS client
            assert streams == 0 if transport == "udp" else streams >= 2, log[-3000:]
            if transport == "tls":  # coturn names the cipher of a TLS session
                assert all("TLS" in line for line in sessions), sessions
        finally:
            for pc in (a, b):
                if pc is not None:
                    await pc.close()
            await server.stop()


@needs_coturn
async def test_an_expired_credential_gets_no_relay_candidate(tmp_path: Path) -> None:
    async with running_coturn(tmp_path / "turn") as turn:
        server = await start_server(tmp_path / "d", turn_urls=(turn.url,),
                                    turn_secret=turn.secret, turn_ttl_s=-60)
        pc = None
        try:
            anna = await (await server.new_meeting()).participant("Anna")
            welcome = await anna.inbox.wait("welcome")
            assert welcome["ice_expires_at"] < time.time() * 1000
            pc = RTCPeerConnection(relay_config(welcome["ice_servers"]))
            pc.createDataChannel("chat")
            await pc.setLocalDescription(await pc.createOffer())
            assert "a=candidate" not in pc.localDescription.sdp
            assert "Unauthorized" in turn.log_text() or "401" in turn.log_text()
        finally:
            if pc is not None:
                await pc.close()
            await server.stop()


async def test_a_publisher_leaving_keeps_the_others_flowing(sfu_server: RunningServer) -> None:
    m = await sfu_server.new_meeting()
    fia, anna, bo = await peers_joined(sfu_server, m, 3, cameras=2)
    try:
        await bo.wait_sfu_frames(fia.id, n=3)
        await bo.wait_sfu_frames(anna.id, n=3)
        await anna.close()
        await anna.client.close()
        await bo.until(lambda: bo.feeds == [fia.id], 10)
        before = bo.sfu_frames[fia.id]
        await bo.wait_sfu_frames(fia.id, n=before + 15)
        assert bo.errors == [] and fia.errors == []
        assert bo.janus_offers == 1  # Janus renegotiated without Anna; relayed and answered
    finally:
        for peer in (fia, anna, bo):
            await peer.close()
