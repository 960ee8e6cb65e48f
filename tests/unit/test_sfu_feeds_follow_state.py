"""The SFU feeds a room's members are told of follow the meeting's state as well as the
feeds: with several processes, another process's feed can arrive before the join of its
publisher does (they travel separately), and the feed must reach the room once the join
is in."""

from typing import Any

from facilitation import breakouts as b
from rooms import PLENARY, Role
from rooms.media import Sfu
from server.clock import FakeClock
from server.config import Settings
from server.connections import Connection, Connections
from server.fanout import ToConnection, ToRoom
from server.hub import Hub
from server.limits import TokenBucket
from server.media_plans import MediaPlans
from server.sfu.videorooms import Feed, VideoRoom, VideoRooms
from server.store import MemoryStore
from tests.unit.ports import Nowhere, Sent


class _Sent(Sent):
    def feeds(self) -> list[tuple[list[str], Any]]:
        return [(data["feeds"], to) for name, data, to in self.items if name == "sfu.feeds"]


async def _join(hub: Hub, m: str, pid: str) -> None:
    await hub.execute(m, pid, lambda s: b.join(s, pid, Role.PARTICIPANT, name=pid,
                                                 municipality="Vasa"))


async def _setup() -> tuple[Hub, str, Connections, _Sent, VideoRooms, MediaPlans]:
    hub = Hub(MemoryStore(), Nowhere(), FakeClock())
    m = (await hub.create("T", "2026-12-01", "A")).id
    conns, sent = Connections(), _Sent()
    video = VideoRooms(Settings())
    video.status = Sfu.UP  # the plenary runs through the SFU
    media = MediaPlans(hub, conns, sent, video, 8)  # type: ignore[arg-type]
    await _join(hub, m, "host")
    conn = Connection("s-host", m, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
    conn.authenticated(None, None)
    conns.add(conn)
    conns.bind(conn, "host")
    plan = media.first("s-host", m, "host")
    assert plan is not None and plan.mode == "sfu"
    video._rooms[m] = VideoRoom(1, {"host": Feed(11, live=True)}, created=True)
    return hub, m, conns, sent, video, media


async def test_a_feed_that_came_before_its_publisher_s_join_reaches_the_room_with_the_join(
        ) -> None:
    hub, m, _, sent, video, media = await _setup()
    # Anna publishes through another process; her feed is heard of here first.
    video._rooms[m].feeds["anna"] = Feed(22, live=True, proc="b")
    await media.room_feeds(m, PLENARY)
    assert sent.feeds() == [(["host"], ToRoom(m, PLENARY))]  # not a member here yet
    sent.items.clear()
    await _join(hub, m, "anna")  # her join comes in (the follower applies it)
    await media.refresh_rooms(m, frozenset({PLENARY}))  # what the join's effects do
    assert sent.feeds() == [(["anna", "host"], ToRoom(m, PLENARY))]


async def test_the_room_hears_of_its_feeds_only_when_they_change() -> None:
    hub, m, _, sent, video, media = await _setup()
    await media.room_feeds(m, PLENARY)
    await media.room_feeds(m, PLENARY)  # nothing new: nothing sent
    await _join(hub, m, "bo")  # a member with no feed: the feeds are as they were
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert sent.feeds() == [(["host"], ToRoom(m, PLENARY))]
    video._rooms[m].feeds["bo"] = Feed(33, live=True)
    await media.room_feeds(m, PLENARY)
    assert sent.feeds()[-1] == (["bo", "host"], ToRoom(m, PLENARY))


async def test_after_the_sfu_came_back_the_room_hears_of_its_feeds_again() -> None:
    """The SFU went away and came back: every plan went to the fallback and back to the
    SFU (each connection told the feeds of that moment, none), and then the feeds came
    back as they were before. The room must hear of them, though it was last told the
    same list."""
    _, m, _, sent, video, media = await _setup()
    await media.room_feeds(m, PLENARY)  # the room: ["host"]
    video.status = Sfu.DOWN
    video._rooms[m].feeds.clear()
    await media.refresh_rooms(m, frozenset({PLENARY}))  # the fallback: mesh
    video.status = Sfu.UP
    await media.refresh_rooms(m, frozenset({PLENARY}))  # back: the SFU, no feed yet
    # Its plan changed and so did the room's list: the room is told, once.
    assert [f for f in sent.feeds() if f[0] == []] == [([], ToRoom(m, PLENARY))]
    sent.items.clear()
    video._rooms[m].feeds["host"] = Feed(44, live=True)  # published again
    await media.room_feeds(m, PLENARY)
    assert sent.feeds() == [(["host"], ToRoom(m, PLENARY))]


async def test_a_new_plan_with_the_same_feeds_does_not_tell_them_again() -> None:
    """Bo comes online: the host's plan changes (one more peer) but the feeds do not; the
    host hears the new plan only (before: the same list again with every plan)."""
    hub, m, conns, sent, video, media = await _setup()
    plan = media.first("s-host", m, "host")
    assert plan is not None
    await media.welcomed("s-host", plan)
    assert sent.feeds() == [(["host"], ToConnection("s-host"))]
    sent.items.clear()
    await _join(hub, m, "bo")
    bo = Connection("s-bo", m, Role.PARTICIPANT, TokenBucket(10, 10, 0.0, 10, 1.0))
    bo.authenticated(None, None)
    conns.add(bo)
    conns.bind(bo, "bo")
    await media.refresh_rooms(m, frozenset({PLENARY}))
    assert [name for name, _, to in sent.items if to == ToConnection("s-host")] == ["peers"]
    assert sent.feeds() == []  # the room's list is what the room was told: nothing
