"""aiortc peers for the plenary's SFU: publish to Janus and subscribe to feeds
through our server's ``sfu.*`` events, and keep the mesh of ``tests.webrtc.Peer``
for breakout rooms."""

import asyncio
import contextlib
import time
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)

from tests.support import Client
from tests.webrtc import ColourBars, Peer


class SfuPeer(Peer):
    """A participant's client: SFU in ``sfu`` mode, otherwise the mesh."""

    def __init__(self, client: Client, camera: bool = True) -> None:
        super().__init__(client)
        self.camera = camera
        self.mode: str | None = None
        self.publisher: RTCPeerConnection | None = None
        self.subscriber: RTCPeerConnection | None = None
        self.published = asyncio.Event()
        self.feeds: list[str] = []
        self.told: list[tuple[str, list[str]]] = []  # every sfu.feeds, in order
        self.subscribed: frozenset[str] = frozenset()
        self.carried: dict[str, str] = {}
        self.screens: set[str] = set()  # the subscriber mids that carry a shared screen
        self.mid_frames: dict[str, int] = {}
        self.closing = False
        self.marks: list[tuple[str, int, float]] = []
        self.sfu_frames: dict[str, int] = {}
        self.errors: list[Any] = []
        client.sio.on("sfu.feeds", lambda d: self._inbox.put_nowait(("sfu.feeds", d)))
        client.sio.on("sfu.offer", lambda d: self._inbox.put_nowait(("sfu.offer", d)))
        self.janus_offers = 0

    async def _work(self) -> None:
        while not self.closing:
            kind, data = await self._inbox.get()
            if self.client.participant is None:  # a plan may overtake join's answer
                welcome = await self.client.inbox.wait("welcome")
                self.client.participant = welcome["participant"]
            try:
                if kind == "peers":
                    await self._on_plan(data)
                elif kind == "sfu.feeds":
                    self.feeds = data["feeds"]
                    self.told.append((data["room"], sorted(data["feeds"])))
                    self.marks.append(("feeds", len(self.feeds), time.monotonic()))
                    await self._resubscribe()
                elif kind == "sfu.offer" and self.mode == "sfu":
                    self.janus_offers += 1
                    self._carry(data["streams"])
                    await self._answer(data["description"])
                else:
                    await self._on_signal(data)
            except Exception as exc:  # recorded: the test asserts there were none
                self.errors.append(repr(exc))
            self._poke()

    async def _on_plan(self, plan: dict[str, Any]) -> None:
        was, self.mode = self.mode, plan["mode"]
        if plan["mode"] != "sfu":
            if plan["fallback"]:
                await self._close_sfu()
            else:  # a breakout: stop receiving; the publisher waits, paused
                await self._close_subscriber()
                self._pause(True)
            await self._on_peers(plan)
            return
        self.plans.append(plan)
        if was != "sfu" and self.camera:
            if self.publisher is None:
                await self._publish()
            else:
                self._pause(False)

    async def _publish(self) -> None:
        pc = self.publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(ColourBars())
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.client.ok("sfu.publish", {"description": {
            "type": "offer", "sdp": pc.localDescription.sdp}})
        desc = answer["description"]
        await pc.setRemoteDescription(RTCSessionDescription(desc["sdp"], desc["type"]))
        self.published.set()
        self.marks.append(("published", 0, time.monotonic()))

    async def _resubscribe(self) -> None:
        wanted = frozenset(self.feeds) - {self.id}
        if self.mode != "sfu" or wanted == self.subscribed:
            return
        reply = await self.client.call("sfu.subscribe", {
            "feeds": [{"id": pid} for pid in sorted(wanted)]})
        if not reply["ok"] and reply["error"]["code"] == "peer_not_in_room":
            return  # someone just left the plenary; a fresh feed list follows
        assert reply["ok"], reply
        self.subscribed, answer = wanted, reply["data"]
        self._carry(answer["streams"])
        if answer["description"] is None:
            return
        pc = self.subscriber
        if pc is None:
            pc = self.subscriber = RTCPeerConnection(RTCConfiguration(iceServers=[]))

            @pc.on("track")
            def on_track(track: Any) -> None:
                mid = next(t.mid for t in pc.getTransceivers() if t.receiver.track is track)
                self._spawn(self._count_sfu_frames(mid, track, pc))

        await self._answer(answer["description"])

    def _carry(self, streams: list[dict[str, Any]]) -> None:
        self.carried = {s["mid"]: s["participant"] for s in streams}
        self.screens = {s["mid"] for s in streams if s.get("screen")}

    async def _answer(self, offer: dict[str, Any]) -> None:
        pc = self.subscriber
        if pc is None:
            return
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.client.ok("sfu.answer", {"description": {
            "type": "answer", "sdp": pc.localDescription.sdp}})

    async def _count_sfu_frames(self, mid: str, track: Any, pc: RTCPeerConnection) -> None:
        from aiortc.mediastreams import MediaStreamError
        try:
            while True:
                await track.recv()
                if self.subscriber is not pc:
                    return  # a frame still queued from a closed subscription
                who = self.carried.get(mid, "?")  # a mid may carry another feed later
                if who not in self.sfu_frames:
                    self.marks.append(("frame", 0, time.monotonic()))
                self.sfu_frames[who] = self.sfu_frames.get(who, 0) + 1
                self.mid_frames[mid] = self.mid_frames.get(mid, 0) + 1
                self._poke()
        except MediaStreamError:
            return

    def _pause(self, paused: bool) -> None:
        """Send nothing to the SFU while in a breakout (as a browser's replaceTrack(null))."""
        for sender in self.publisher.getSenders() if self.publisher is not None else ():
            sender._enabled = not paused  # aiortc drops frames of a disabled sender

    async def _close_subscriber(self) -> None:
        if self.subscriber is not None:
            await self.subscriber.close()
        self.subscriber = None
        self.subscribed = frozenset()
        self.sfu_frames.clear()

    async def _close_sfu(self) -> None:
        await self._close_subscriber()
        if self.publisher is not None:
            await self.publisher.close()
        self.publisher = None
        self.published.clear()

    async def wait_sfu_frames(self, other: str, n: int = 3, seconds: float = 10) -> None:
        try:
            await self.until(lambda: self.sfu_frames.get(other, 0) >= n, seconds)
        except TimeoutError:
            raise AssertionError(f"{n} frames of {other} not in {seconds} s: {self.state()}"
                                 ) from None

    def state(self) -> dict[str, Any]:
        """What this peer knows, for a failure's message."""
        return {"me": self.client.participant, "mode": self.mode, "feeds": self.feeds,
                "subscribed": sorted(self.subscribed), "carried": self.carried,
                "screens": sorted(self.screens),
                "frames": self.sfu_frames, "janus_offers": self.janus_offers,
                "published": self.published.is_set(), "errors": self.errors,
                "marks": self.marks[-12:],
                "joined": [e["data"]["id"] for e in self.client.inbox.events()
                           if e["type"] == "participant.joined"],
                "online": sorted(self.client.inbox.named("welcome")[-1]["online"])
                if self.client.inbox.named("welcome") else None,
                "subscriber": self.subscriber and self.subscriber.connectionState,
                "publisher": self.publisher and self.publisher.connectionState}

    async def wait_mode(self, mode: str, seconds: float = 10) -> None:
        await self.until(lambda: self.mode == mode, seconds)

    async def close(self) -> None:
        self.closing = True
        for task in list(self._tasks):
            task.cancel()
        # python-socketio's call uses wait_for, which on 3.11 can swallow a cancel.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for pc in [self.publisher, self.subscriber, *self.pcs.values()]:
            if pc is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):  # aiortc's close can hang on a dead peer
                        await pc.close()


def relay_config(ice_servers: list[dict[str, Any]]) -> RTCConfiguration:
    """A relay-only configuration from the ``ice_servers`` our server issued."""
    servers = [RTCIceServer(urls=s["urls"], username=s.get("username"),
                            credential=s.get("credential")) for s in ice_servers]
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)
