"""The plenary's VideoRooms in Janus, and each connection's seat in them.

One Janus session for the whole process, kept by a supervisor task: while it
lives the SFU is ``UP``; when it is lost (Janus stopped or restarted) the SFU
is ``DOWN``, every room and handle is forgotten, listeners re-plan (clients
fall back to mesh/stage) and the supervisor reconnects, re-planning again
once Janus answers. One VideoRoom per meeting's plenary, created when the
first participant publishes and destroyed when the meeting ends. Each
connection has at most one publisher handle and one subscriber handle.

With several processes (``--redis-url``) they all use one Janus, and the
``Rooms`` port (``server.sfu.registry``; Redis-backed in ``server.sfu.shared``)
gives every process the same VideoRoom id per meeting, tells each of them the
feeds the others publish (kept beside our own in ``VideoRoom.feeds``, with the
publishing process), and lets exactly one of them destroy the room at the end.

Janus learns only random ids: the VideoRoom id, the participant id, and what
WebRTC itself carries; never names or tokens.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp

from rooms.media import Sfu
from server.config import Settings
from server.sfu.exceptions import JanusError, NoPublisher, NoSubscription, SfuError, SfuUnavailable
from server.sfu.janus import Handle, JanusSession, Json
from server.sfu.registry import LocalRooms, RemoteFeed, Rooms
from server.store import StoreError

log = logging.getLogger("ledarstig.sfu")
SCREEN = "screen"  # a publisher stream's description in Janus: a shared screen
RETRY_S = (0.5, 1.0, 2.0, 3.0)  # reconnect back-off, then every 3 s
LOW, HIGH = 0, 1  # simulcast substreams: the client's "l" (1/4 scale) and "h" layers
SWEEP_S = 2.0  # how often feeds of other processes are checked for a dead publisher
ROOM_EXISTS = 427  # Janus VideoRoom: another process created the room first
#: How often ``_load`` reads the shared list while other processes' messages keep coming
#: during the read; after that the last read only adds feeds, removing none.
LOAD_READS = 3


@dataclass
class Feed:
    id: int
    streams: list[Json] = field(default_factory=list)  # Janus's {type, mid, ...}
    live: bool = False
    proc: str = ""  # the process that publishes it; "" for this one

    @property
    def screen(self) -> str | None:
        """The ``mid`` of the feed's shared screen (described so at ``publish``)."""
        return next((s.get("mid") for s in self.streams if s.get("description") == SCREEN),
                    None)


@dataclass
class VideoRoom:
    janus_id: int
    feeds: dict[str, Feed] = field(default_factory=dict)  # participant -> feed
    created: bool = False  # known to exist in Janus (created here, or found there)
    gone: set[int] = field(default_factory=set)  # feeds of other processes that stopped

    def live(self) -> list[str]:
        return sorted(pid for pid, f in self.feeds.items() if f.live)


@dataclass
class Seat:
    """One connection's handles."""

    meeting: str
    participant: str
    publisher: Handle | None = None
    feed: Feed | None = None  # what the publisher handle publishes
    subscriber: Handle | None = None
    wanted: list[tuple[str, bool, bool]] = field(default_factory=list)  # (pid, audio, video)
    layers: dict[str, str] = field(default_factory=dict)  # pid -> "low" | "high"
    streams: list[Json] = field(default_factory=list)  # what the subscriber asked for
    carried: list[Json] = field(default_factory=list)  # mid -> participant, from Janus
    substreams: dict[str, int] = field(default_factory=dict)  # video mid -> simulcast layer
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class VideoRooms:
    def __init__(self, settings: Settings, rooms: Rooms | None = None) -> None:
        self._settings = settings
        self.rooms: Rooms = rooms or LocalRooms()
        self._loaded: set[str] = set()  # meetings whose other processes' feeds we follow
        self._heard: dict[str, int] = {}  # of those, messages about each taken in (_load)
        self._seem_dead: set[str] = set()  # processes the last sweep found dead
        self.status = Sfu.DOWN if settings.janus_url else Sfu.OFF
        self.on_status: list[Callable[[], Awaitable[None]]] = []
        self.on_feeds: list[Callable[[str, list[str]], Awaitable[None]]] = []
        # Janus renegotiates a subscription itself (a publisher left): (sid, offer, streams)
        self.on_offer: list[Callable[[str, Json, list[Json]], Awaitable[None]]] = []
        self._session: JanusSession | None = None
        self._rooms: dict[str, VideoRoom] = {}
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._seats: dict[str, Seat] = {}
        self._jobs: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None

    # -- lifetime ---------------------------------------------------------------

    async def __aenter__(self) -> "VideoRooms":
        if self._settings.janus_url:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
            self._tasks = [asyncio.create_task(self._supervise(), name="sfu-supervisor"),
                           asyncio.create_task(self._work(), name="sfu-jobs")]
            if self.rooms.shared:
                self._tasks += [
                    asyncio.create_task(self.rooms.run(self._remote, self._reload_all),
                                        name="sfu-shared-feeds"),
                    asyncio.create_task(self._sweep(), name="sfu-dead-publishers")]
        return self

    def share(self, rooms: Rooms) -> None:
        """Several processes: rooms and feeds through ``rooms`` (before starting)."""
        self.rooms = rooms

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()

    async def _supervise(self) -> None:
        assert self._http is not None and self._settings.janus_url
        failures = 0
        while True:
            try:
                async with JanusSession(self._http, self._settings.janus_url,
                                        self._settings.janus_secret) as session:
                    self._session, failures = session, 0
                    await self._set_status(Sfu.UP)
                    await session.closed.wait()
            except SfuError as exc:
                if failures == 0:
                    log.warning("video server unavailable: %s", exc.message)
            except Exception:  # the supervisor must outlive any surprise from Janus
                log.exception("video server session failed")
            own = [(m, pid, f.id) for m, room in self._rooms.items()
                   for pid, f in room.feeds.items() if f.live and not f.proc]
            self._session = None
            self._rooms.clear()
            self._seats.clear()
            self._loaded.clear()
            await self._set_status(Sfu.DOWN)
            await self._withdraw(own)
            await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])  # back-off
            failures += 1

    async def _set_status(self, status: Sfu) -> None:
        if status is self.status:
            return
        log.info("video server %s -> %s", self.status, status)
        self.status = status
        for hook in self.on_status:
            try:
                await hook()
            except Exception:
                log.exception("sfu status hook failed")

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                log.exception("sfu job failed")

    def later(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` on the service's own task (from synchronous hooks)."""
        self._jobs.put_nowait(job)

    # -- rooms ------------------------------------------------------------------

    def feeds(self, meeting: str) -> list[str]:
        """The meeting's live feeds, whichever process publishes them. The first time
        a meeting is asked for, the other processes' feeds are read in the background
        (and announced, if any)."""
        if self.rooms.shared and meeting not in self._loaded and self.status is Sfu.UP:
            self._loaded.add(meeting)
            self.later(lambda: self._load(meeting))
        room = self._rooms.get(meeting)
        return room.live() if room is not None else []

    def _live_session(self) -> JanusSession:
        if self._session is None or self.status is not Sfu.UP:
            raise SfuUnavailable("The video server is not reachable.")
        return self._session

    async def _room(self, meeting: str) -> VideoRoom:
        """The meeting's VideoRoom, created in Janus if this process has not yet; the
        id is the deployment's (``Rooms.room_id``), and a room another process created
        first is taken as it is."""
        async with self._room_locks.setdefault(meeting, asyncio.Lock()):
            room = self._rooms.get(meeting)
            if room is None or not room.created:
                janus_id = await self.rooms.room_id(meeting)
                session = self._live_session()
                room = self._rooms.setdefault(meeting, VideoRoom(janus_id))
                room.janus_id = janus_id
                handle = await session.attach()
                try:
                    await handle.request({
                        "request": "create", "room": janus_id, "permanent": False,
                        "is_private": True, "publishers": 100, "videocodec": "vp8",
                        # 800 kbit/s: room for both simulcast layers (600 + 100 kbit/s);
                        # a keyframe request every 2 s, since Janus's own request on a
                        # layer switch does not reach the high layer (measured).
                        "audiocodec": "opus", "bitrate": 800_000, "fir_freq": 2,
                        "notify_joining": False,
                        "admin_key": self._settings.janus_admin_key or ""})
                except JanusError as exc:
                    if exc.janus_code != ROOM_EXISTS:
                        raise
                finally:
                    await handle.detach()
                room.created = True
            return room

    def forget(self, meeting: str) -> None:
        """This process stops holding the meeting (cluster: released, no connection
        here uses it): what it knew of its VideoRoom goes; the room itself stays in
        Janus for the processes that serve it, and is read again if needed here."""
        self._rooms.pop(meeting, None)
        self._room_locks.pop(meeting, None)
        self._loaded.discard(meeting)
        self._heard.pop(meeting, None)

    async def close_meeting(self, meeting: str) -> None:
        """Destroy a meeting's VideoRoom (the meeting ended): every process forgets it,
        and the one ``Rooms.release`` answers destroys it."""
        room = self._rooms.get(meeting)
        self.forget(meeting)
        known = room.janus_id if room is not None and room.created else None
        try:
            janus_id = await self.rooms.release(meeting, known)
        except StoreError:
            log.warning("the VideoRoom of meeting %s was not released", meeting)
            return
        if janus_id is None or self._session is None:
            return
        with contextlib.suppress(SfuError):
            handle = await self._session.attach()
            try:
                await handle.request({"request": "destroy", "room": janus_id,
                                      "admin_key": self._settings.janus_admin_key or ""})
                log.info("destroyed the VideoRoom of meeting %s", meeting)
            finally:
                await handle.detach()

    # -- other processes' feeds --------------------------------------------------

    async def _load(self, meeting: str) -> None:
        """Take in what the other processes publish in ``meeting`` (the shared list is
        the truth: ours are kept, theirs replaced). If one of their messages about the
        meeting came while the list was read, it is read again: the list as read may
        be older than that message, and would undo it (a feed gone live meanwhile,
        removed again, and no message would bring it back)."""
        try:
            for _ in range(LOAD_READS):
                heard = self._heard.get(meeting, 0)
                found = {f.participant: f for f in await self.rooms.feeds(meeting)}
                stale = self._heard.get(meeting, 0) != heard
                if not stale:
                    break
        except StoreError:
            self._loaded.discard(meeting)  # asked again at the next plan
            return
        if meeting not in self._loaded:
            return  # closed meanwhile
        room = self._rooms.get(meeting)
        if room is None and not found:
            return
        if room is None:
            room = self._rooms[meeting] = VideoRoom(next(iter(found.values())).room)
        changed = False
        for pid, feed in list(room.feeds.items()):
            if feed.proc and not stale and (pid not in found or found[pid].feed != feed.id):
                del room.feeds[pid]  # (a stale read removes nothing the messages brought)
                changed = True
        for pid, f in found.items():
            here = room.feeds.get(pid)
            if f.feed in room.gone or (here is not None and (not here.proc or here.id == f.feed)):
                continue
            room.feeds[pid] = Feed(f.feed, list(f.streams or []), True, f.proc)
            changed = True
        if changed:
            await self._announce(meeting)

    async def _reload_all(self) -> None:
        for meeting in list(self._loaded):
            await self._load(meeting)

    async def _remote(self, change: RemoteFeed) -> None:
        """Another process's feed went live or stopped."""
        if change.meeting not in self._loaded:
            return  # no one here receives that meeting; read when someone does
        self._heard[change.meeting] = self._heard.get(change.meeting, 0) + 1
        room = self._rooms.get(change.meeting)
        here = room.feeds.get(change.participant) if room is not None else None
        if change.streams is None:
            if room is None:
                return
            room.gone.add(change.feed)
            if here is None or not here.proc or here.id != change.feed:
                return
            del room.feeds[change.participant]
        else:
            if room is None:
                room = self._rooms[change.meeting] = VideoRoom(change.room)
            if change.feed in room.gone or (here is not None and not here.proc):
                return  # stopped already; or published through this process: ours stands
            streams = list(change.streams)
            room.feeds[change.participant] = Feed(change.feed, streams, True, change.proc)
            if here is not None and here.id == change.feed and here.streams != streams:
                self._restream(change.meeting, change.participant)  # renegotiated there
        try:
            await self._announce(change.meeting)
        except Exception:
            log.exception("announcing the feeds of %s failed", change.meeting)

    async def _sweep(self) -> None:
        """Drop the feeds of processes that died (their Janus session lingers a while)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:
                log.debug("checking other processes' feeds failed", exc_info=True)

    async def sweep(self) -> None:
        """Drop the feeds of the processes found dead by this sweep and the one before:
        one lapse of a heartbeat (a process whose loop stalled on a busy machine) is
        not a death, and a feed dropped here stays gone (``VideoRoom.gone``)."""
        procs = {f.proc for room in self._rooms.values() for f in room.feeds.values() if f.proc}
        found = await self.rooms.dead(procs) if procs else set()
        dead, self._seem_dead = found & self._seem_dead, found
        for meeting, room in list(self._rooms.items()):
            drop = [pid for pid, f in room.feeds.items() if f.proc in dead]
            for pid in drop:
                room.gone.add(room.feeds.pop(pid).id)
            if drop:
                await self._announce(meeting)

    async def _share(self, meeting: str, room: int, participant: str, feed: Feed) -> None:
        """Tell the other processes that one of our feeds went live or stopped."""
        if not self.rooms.shared:
            return
        try:
            if feed.live:
                await self.rooms.published(meeting, room, participant, feed.id, feed.streams)
            else:
                await self.rooms.unpublished(meeting, participant, feed.id)
        except StoreError:
            log.warning("the feed of %s in %s was not shared", participant, meeting)

    async def _withdraw(self, own: list[tuple[str, str, int]]) -> None:
        """The Janus session is lost: our feeds are gone for the other processes too."""
        for meeting, pid, feed_id in own:
            await self._share(meeting, 0, pid, Feed(feed_id))

    # -- publishing -------------------------------------------------------------

    def _seat(self, sid: str, meeting: str, participant: str) -> Seat:
        seat = self._seats.get(sid)
        if seat is None or seat.meeting != meeting or seat.participant != participant:
            seat = self._seats[sid] = Seat(meeting, participant)
        return seat

    async def publish(self, sid: str, meeting: str, participant: str, offer: Json,
                      screen: str | None = None, update: bool = False) -> Json:
        """Publish the connection's tracks into the meeting's VideoRoom; Janus's answer.
        ``screen``: the offer's ``mid`` of a shared screen, described to Janus as such
        (its stream description travels with the feed's streams to every subscriber's
        ``streams``, and to the other processes). ``update``: the offer renegotiates
        the connection's publisher (a screen shared or no longer): the feed stays, and
        only the subscriptions to its changed streams are updated."""
        seat = self._seat(sid, meeting, participant)
        async with seat.lock:
            if update:
                return await self._renegotiate(seat, offer, screen)
            await self._unpublish(seat)
            room = await self._room(meeting)
            handle = await self._live_session().attach()
            seat.publisher = handle
            joined, _ = await handle.message({"request": "join", "ptype": "publisher",
                                              "room": room.janus_id})
            feed = seat.feed = room.feeds[participant] = Feed(int(joined["id"]))
            janus_id = room.janus_id
            handle.on_event = lambda e: self._publisher_event(meeting, janus_id, participant,
                                                              feed, e)
            configure: Json = {"request": "configure", "audio": True, "video": True}
            if screen is not None:
                configure["descriptions"] = [{"mid": screen, "description": SCREEN}]
            configured, answer = await handle.message(configure, jsep=offer)
            feed.streams = list(configured.get("streams", []))
            if answer is None:
                raise JanusError(0, "no answer to the offer")
            return answer

    async def _renegotiate(self, seat: Seat, offer: Json, screen: str | None) -> Json:
        """A new offer on the seat's publisher connection (Janus's ``update`` JSEP): a
        stream added, or made inactive, with the feed, its other streams and every
        subscription to them untouched (no camera goes dark for the others)."""
        handle, feed = seat.publisher, seat.feed
        if handle is None or feed is None:
            raise NoPublisher("There is no publisher connection to renegotiate.")
        configure: Json = {"request": "configure"}
        if screen is not None:
            configure["descriptions"] = [{"mid": screen, "description": SCREEN}]
        configured, answer = await handle.message(configure, jsep={**offer, "update": True})
        if answer is None:
            raise JanusError(0, "no answer to the offer")
        streams = list(configured.get("streams", feed.streams))
        if streams != feed.streams:
            feed.streams = streams
            if feed.live:
                room = self._rooms.get(seat.meeting)
                await self._share(seat.meeting, room.janus_id if room else 0, seat.participant,
                                  Feed(feed.id, feed.streams, True))
                self._restream(seat.meeting, seat.participant)
        return answer

    def _restream(self, meeting: str, participant: str) -> None:
        """The streams of ``participant``'s feed changed: bring every subscription here
        that receives them up to date (each gets Janus's new offer as ``on_offer``)."""
        for sid, seat in list(self._seats.items()):
            if (seat.meeting == meeting and seat.subscriber is not None
                    and any(w[0] == participant for w in seat.wanted)):
                self.later(partial(self._resubscribe, sid, seat))

    async def _resubscribe(self, sid: str, seat: Seat) -> None:
        async with seat.lock:
            room = self._rooms.get(seat.meeting)
            if room is None or seat.subscriber is None or self._seats.get(sid) is not seat:
                return
            try:
                changed = await self._update(seat, room, _streams(room, seat.wanted))
            except SfuError:
                log.warning("updating the subscription of %s failed", sid, exc_info=True)
                return
        offer, carried = changed if changed is not None else (None, [])
        if offer is not None:
            await self._relay(sid, offer, carried)

    async def _relay(self, sid: str, offer: Json, carried: list[Json]) -> None:
        """An offer Janus made for a subscription without the client asking (``sfu.offer``)."""
        for hook in self.on_offer:
            await hook(sid, offer, carried)

    def _publisher_event(self, meeting: str, room: int, participant: str, feed: Feed,
                         event: Json) -> None:
        kind = event.get("janus")
        if kind == "media" and event.get("receiving") and not feed.live:
            feed.live = True
        elif kind == "hangup" and feed.live:
            feed.live = False
        else:
            return
        live = feed.live

        async def changed() -> None:
            await self._share(meeting, room, participant, Feed(feed.id, feed.streams, live))
            await self._announce(meeting)
        self.later(changed)

    async def _announce(self, meeting: str) -> None:
        feeds = self.feeds(meeting)
        for hook in self.on_feeds:
            await hook(meeting, feeds)

    async def _unpublish(self, seat: Seat) -> None:
        handle, seat.publisher = seat.publisher, None
        feed, seat.feed = seat.feed, None
        if handle is None:
            return
        room = self._rooms.get(seat.meeting)
        if room is not None and feed is not None and room.feeds.get(seat.participant) is feed:
            del room.feeds[seat.participant]
        await handle.detach()
        if feed is not None and feed.live:
            await self._share(seat.meeting, 0, seat.participant, Feed(feed.id))
            await self._announce(seat.meeting)

    # -- subscribing ------------------------------------------------------------

    async def subscribe(self, sid: str, meeting: str, participant: str,
                        wanted: list[tuple[str, bool, bool]],
                        layers: dict[str, str] | None = None) -> tuple[Json | None, list[Json]]:
        """Receive the ``(participant, audio, video)`` feeds that are live.

        The first subscription joins a subscriber handle; later ones update it
        (Janus renegotiates the same PeerConnection). ``layers`` picks each
        participant's simulcast layer ("low" for thumbnails; "high" by default).
        Returns Janus's offer, when there is one to answer, and which participant
        each ``mid`` carries."""
        seat = self._seat(sid, meeting, participant)
        async with seat.lock:
            room = self._rooms.get(meeting)
            streams = _streams(room, wanted) if room is not None else []
            if room is None or (seat.subscriber is None and not streams):
                return None, []
            seat.wanted, seat.layers = list(wanted), dict(layers or {})
            if seat.subscriber is None:
                handle = await self._live_session().attach()
                seat.subscriber = handle
                handle.on_event = lambda e: self._subscriber_event(sid, seat, room, e)
                data, offer = await handle.message({
                    "request": "join", "ptype": "subscriber", "room": room.janus_id,
                    "streams": streams, "use_msid": True})
                return await self._took(seat, room, streams, data, offer)
            changed = await self._update(seat, room, streams)
            return changed if changed is not None else (None, seat.carried)

    async def _update(self, seat: Seat, room: VideoRoom,
                      streams: list[Json]) -> tuple[Json | None, list[Json]] | None:
        """Make the seat's subscription these ``streams``: Janus's offer and what each
        mid carries, or None if they are what it receives already."""
        assert seat.subscriber is not None
        present = {f.id for f in room.feeds.values()}  # Janus dropped the others
        add = [x for x in streams if x not in seat.streams]
        drop = [x for x in seat.streams if x not in streams and x["feed"] in present]
        if not add and not drop:
            await self._choose_layers(seat)
            return None
        body: Json = {"request": "update"}
        if add:
            body["subscribe"] = add
        if drop:
            body["unsubscribe"] = drop
        data, offer = await seat.subscriber.message(body)
        return await self._took(seat, room, streams, data, offer)

    async def _took(self, seat: Seat, room: VideoRoom, streams: list[Json], data: Json,
                    offer: Json | None) -> tuple[Json | None, list[Json]]:
        """Janus took the subscription to ``streams``: what each mid carries, and layers."""
        seat.streams = streams
        seat.carried = _carried(room, data)
        await self._choose_layers(seat)
        return offer, seat.carried

    async def _choose_layers(self, seat: Seat) -> None:
        """Tell Janus which simulcast substream each received video should carry
        (``seat.layers``, as the last ``subscribe`` asked).

        Janus numbers substreams from 0 (lowest); our client publishes two layers,
        so the high one is 1. Janus switches on the target layer's next keyframe
        (see ``fir_freq`` at room creation). Video without simulcast ignores this."""
        want = {x["mid"]: LOW if seat.layers.get(x["participant"] or "") == "low" else HIGH
                for x in seat.carried if x["type"] == "video"}
        changed = [{"mid": mid, "substream": sub} for mid, sub in want.items()
                   if seat.substreams.get(mid, HIGH) != sub]
        seat.substreams = want
        if changed and seat.subscriber is not None:
            await seat.subscriber.message({"request": "configure", "streams": changed})

    def _subscriber_event(self, sid: str, seat: Seat, room: VideoRoom, event: Json) -> None:
        jsep = event.get("jsep")
        if not jsep or jsep.get("type") != "offer" or seat.subscriber is None:
            return
        data = event.get("plugindata", {}).get("data", {})
        if "streams" in data:
            seat.carried = _carried(room, data)
        self.later(partial(self._relay, sid, jsep, seat.carried))

    async def answer(self, sid: str, answer: Json) -> None:
        seat = self._seats.get(sid)
        if seat is None or seat.subscriber is None:
            raise NoSubscription("There is no subscription to answer.")
        await seat.subscriber.message({"request": "start"}, jsep=answer)

    async def trickle(self, sid: str, target: str, candidate: Json | None) -> None:
        seat = self._seats.get(sid)
        handle = (seat.publisher if target == "publisher" else seat.subscriber) if seat else None
        if handle is None:
            raise NoSubscription(f"There is no {target} connection for that candidate.")
        await handle.trickle(candidate)

    async def _unsubscribe(self, seat: Seat) -> None:
        handle, seat.subscriber = seat.subscriber, None
        seat.streams, seat.carried, seat.substreams = [], [], {}
        seat.wanted, seat.layers = [], {}
        if handle is not None:
            await handle.detach()

    async def step_out(self, sid: str) -> None:
        """The connection went to a breakout: stop receiving, keep the publisher.

        Its feed stays in the VideoRoom, paused by the client (no media is sent) and
        receivable by no one (``visible_feeds`` and ``check_subscribe`` go by room), so
        that coming back needs no new ICE and DTLS: the plenary resumes at once."""
        seat = self._seats.get(sid)
        if seat is None:
            return
        async with seat.lock:
            await self._unsubscribe(seat)

    async def leave(self, sid: str) -> None:
        """Drop the connection's publisher and subscriber (disconnect, SFU lost)."""
        seat = self._seats.pop(sid, None)
        if seat is None:
            return
        async with seat.lock:
            await self._unsubscribe(seat)
            await self._unpublish(seat)


def _carried(room: VideoRoom, data: Json) -> list[Json]:
    """Which participant each of Janus's subscriber ``mid``s carries, and whether it
    is their shared screen (``screen``: true) rather than their camera."""
    by_feed = {f.id: (pid, f) for pid, f in room.feeds.items()}
    out = []
    for x in data.get("streams", []):
        if not x.get("active", True) or x.get("type") == "data":
            continue
        pid, feed = by_feed.get(x.get("feed_id", 0), (None, None))
        carried: Json = {"mid": x.get("mid"), "type": x.get("type"), "participant": pid}
        if feed is not None and feed.screen is not None and x.get("feed_mid") == feed.screen:
            carried["screen"] = True
        out.append(carried)
    return out


def _streams(room: VideoRoom, wanted: list[tuple[str, bool, bool]]) -> list[dict[str, Any]]:
    """The Janus streams of the wanted ``(participant, audio, video)``. A shared screen
    comes with any wish for its sharer: ``video: false`` (the gallery's "only video of
    those speaking") leaves out a face, not what is being shown."""
    out: list[dict[str, Any]] = []
    for pid, audio, video in wanted:
        feed = room.feeds.get(pid)
        if feed is None or not feed.live:
            continue
        if not feed.streams:
            out.append({"feed": feed.id})
        screen = feed.screen
        for s in feed.streams:
            kind = s.get("type")
            if s.get("disabled"):  # made inactive by a renegotiation (a screen no longer shared)
                continue
            if (kind == "audio" and audio) or (kind == "video" and (video or s["mid"] == screen)):
                out.append({"feed": feed.id, "mid": s["mid"]})
    return out


__all__ = ["Feed", "Seat", "VideoRoom", "VideoRooms"]
