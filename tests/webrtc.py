"""Real aiortc peers that negotiate through the server's signalling relay.

WebRTC needs a non-loopback interface (aiortc skips loopback candidates), so
these peers run only inside the private network namespace that
``scripts/test`` creates (``LEDARSTIG_NETNS=1``).
"""

import asyncio
import fractions
import os
import re
from typing import Any

import numpy
import pytest
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from tests.support import Client

IN_NETNS = os.environ.get("LEDARSTIG_NETNS") == "1"
needs_netns = pytest.mark.skipif(
    not IN_NETNS, reason="WebRTC needs the private network namespace made by ./scripts/test")


class ColourBars(VideoStreamTrack):
    """A synthetic 320x240 camera."""

    def __init__(self) -> None:
        super().__init__()
        self._frame = numpy.zeros((240, 320, 3), numpy.uint8)
        self._frame[:, :160] = (200, 60, 40)

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(self._frame, format="bgr24")
        frame.pts, frame.time_base = pts, time_base or fractions.Fraction(1, 90000)
        return frame


class Peer:
    """A Socket.IO client with one RTCPeerConnection per peer the server plans."""

    def __init__(self, client: Client, trickle: bool = False) -> None:
        self.client = client
        self.trickle = trickle
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.channels: dict[str, RTCDataChannel] = {}
        self.messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.frames: dict[str, int] = {}
        self.tracks: dict[str, int] = {}
        self.plans: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        # python-socketio's client runs each handler in its own task; one queue
        # and one worker keep the server's order (a candidate after its offer).
        self._inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        client.also("peers", lambda data: self._inbox.put_nowait(("peers", data)))
        client.also("signal", lambda data: self._inbox.put_nowait(("signal", data)))
        self._spawn(self._work())

    async def _work(self) -> None:
        while True:
            kind, data = await self._inbox.get()
            if kind == "peers":
                await self._on_peers(data)
            else:
                await self._on_signal(data)

    @property
    def id(self) -> str:
        assert self.client.participant is not None
        return self.client.participant

    async def _on_peers(self, plan: dict[str, Any]) -> None:
        self.plans.append(plan)
        for gone in plan["close"]:
            pc = self.pcs.pop(gone, None)
            if pc is not None:
                await pc.close()
        for peer in plan["peers"]:
            if peer["id"] not in self.pcs:
                pc = self._pc(peer["id"])
                if not peer["polite"]:
                    self._spawn(self._offer(peer["id"], pc))
        self._poke()

    def _pc(self, other: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[other] = pc
        pc.addTrack(ColourBars())

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            self._watch(other, channel)

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.tracks[other] = self.tracks.get(other, 0) + 1
            self._poke()
            self._spawn(self._count_frames(other, track))
        return pc

    def _watch(self, other: str, channel: RTCDataChannel) -> None:
        self.channels[other] = channel
        channel.on("open", self._poke)
        if channel.readyState == "open":
            self._poke()

        @channel.on("message")
        def on_message(message: str) -> None:
            self.messages.put_nowait((other, message))

    async def _count_frames(self, other: str, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError
        try:
            while True:
                await track.recv()
                self.frames[other] = self.frames.get(other, 0) + 1
                self._poke()
        except MediaStreamError:
            return

    async def _offer(self, other: str, pc: RTCPeerConnection) -> None:
        self._watch(other, pc.createDataChannel("chat"))
        await pc.setLocalDescription(await pc.createOffer())
        await self._send_description(other, pc)

    async def _send_description(self, other: str, pc: RTCPeerConnection) -> None:
        desc = pc.localDescription
        if not self.trickle:
            await self._signal(other, description={"type": desc.type, "sdp": desc.sdp})
            return
        bare = "\r\n".join(line for line in desc.sdp.split("\r\n")
                           if not line.startswith(("a=candidate:", "a=end-of-candidates")))
        await self._signal(other, description={"type": desc.type, "sdp": bare})
        index = -1
        mid = None
        for line in desc.sdp.split("\r\n"):
            if line.startswith("m="):
                index += 1
            elif line.startswith("a=mid:"):
                mid = line[6:]
            elif line.startswith("a=candidate:"):
                await self._signal(other, candidate={"candidate": line[2:], "sdpMid": mid,
                                                     "sdpMLineIndex": index})
        await self._signal(other, candidate=None)

    async def _signal(self, to: str, **body: Any) -> None:
        answer = await self.client.call("signal", {"to": to, **body})
        if not answer["ok"]:
            # The peer left our room meanwhile (e.g. a round opened): drop the pair,
            # as a browser client would.
            assert answer["error"]["code"] == "peer_not_in_room", answer
            self.refused.append(to)

    async def _on_signal(self, data: dict[str, Any]) -> None:
        other = data["from"]
        if not self.plans or other not in {p["id"] for p in self.plans[-1]["peers"]}:
            return  # sent before the sender left our room: stale
        pc = self.pcs.get(other) or self._pc(other)
        if "description" in data:
            desc = data["description"]
            await pc.setRemoteDescription(RTCSessionDescription(desc["sdp"], desc["type"]))
            if desc["type"] == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                await self._send_description(other, pc)
        elif data.get("candidate"):
            c = data["candidate"]
            candidate = candidate_from_sdp(re.sub(r"^candidate:", "", c["candidate"]))
            candidate.sdpMid, candidate.sdpMLineIndex = c["sdpMid"], c["sdpMLineIndex"]
            await pc.addIceCandidate(candidate)

    async def add_track(self, other: str, track: Any) -> None:
        """Renegotiate the connection to ``other`` with one more track (screen share)."""
        pc = self.pcs[other]
        pc.addTrack(track)
        await pc.setLocalDescription(await pc.createOffer())
        await self._send_description(other, pc)

    async def wait_peers(self, expected: set[str], seconds: float = 10) -> None:
        """Until this peer holds connections to exactly ``expected``."""
        await self.until(lambda: set(self.pcs) == expected, seconds)

    async def wait_tracks(self, other: str, n: int, seconds: float = 10) -> None:
        await self.until(lambda: self.tracks.get(other, 0) >= n, seconds)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def until(self, done: Any, seconds: float) -> None:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(done)

    async def wait_connected(self, other: str, seconds: float = 10) -> None:
        await self.until(lambda: other in self.channels
                          and self.channels[other].readyState == "open", seconds)

    async def wait_frames(self, other: str, n: int = 3, seconds: float = 10) -> None:
        await self.until(lambda: self.frames.get(other, 0) >= n, seconds)

    def _poke(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        self._spawn(notify())

    async def close(self) -> None:
        for pc in list(self.pcs.values()):
            await pc.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
