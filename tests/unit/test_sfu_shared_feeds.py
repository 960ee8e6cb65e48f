"""How one process keeps the other processes' plenary feeds (``VideoRooms`` with a
shared ``Rooms`` port): read when first asked, changed by each message, never brought
back by a stale one, and dropped when their process dies. Janus is not needed here;
tests/cluster/test_sfu_cluster_functional.py runs the whole thing with Janus."""

from typing import Any

from rooms.media import Sfu
from server.config import Settings
from server.sfu.registry import Apply, RemoteFeed
from server.sfu.videorooms import Feed, VideoRoom, VideoRooms

VIDEO = [{"type": "video", "mid": "0"}]


class Shared:
    """The other processes, as the port shows them."""

    shared = True

    def __init__(self) -> None:
        self.listed: dict[str, list[RemoteFeed]] = {}
        self.down: set[str] = set()
        self.released: list[tuple[str, int | None]] = []

    async def room_id(self, meeting: str) -> int:
        return 7

    async def release(self, meeting: str, known: int | None) -> int | None:
        self.released.append((meeting, known))
        return None  # another process destroys it

    async def published(self, *args: Any) -> None:
        return None

    async def unpublished(self, *args: Any) -> None:
        return None

    async def feeds(self, meeting: str) -> list[RemoteFeed]:
        return self.listed.get(meeting, [])

    async def dead(self, procs: set[str]) -> set[str]:
        return procs & self.down

    async def run(self, apply: Apply, resubscribed: Any) -> None:
        return None


def feed(pid: str, feed_id: int, proc: str = "p2", live: bool = True) -> RemoteFeed:
    return RemoteFeed(proc, "m", 7, pid, feed_id, VIDEO if live else None)


async def video_with(shared: Shared) -> tuple[VideoRooms, list[list[str]]]:
    video = VideoRooms(Settings(), shared)
    video.status = Sfu.UP
    announced: list[list[str]] = []

    async def on_feeds(meeting: str, feeds: list[str]) -> None:
        announced.append(feeds)
    video.on_feeds.append(on_feeds)
    return video, announced


async def drain(video: VideoRooms) -> None:
    while not video._jobs.empty():
        await video._jobs.get_nowait()()


async def test_other_processes_feeds_are_read_when_first_asked_then_followed() -> None:
    shared = Shared()
    shared.listed["m"] = [feed("anna", 11)]
    video, announced = await video_with(shared)
    await video._remote(feed("bo", 12))  # nobody here receives "m" yet: ignored
    assert video.feeds("m") == []  # asking starts the read...
    await drain(video)
    assert video.feeds("m") == ["anna"] and announced == [["anna"]]  # ...and announces
    await video._remote(feed("bo", 12))
    assert video.feeds("m") == ["anna", "bo"]
    await video._remote(feed("bo", 12, live=False))
    await video._remote(feed("bo", 12))  # a stale "live" after the stop: stays stopped
    assert video.feeds("m") == ["anna"]
    await video._remote(feed("anna", 99, live=False))  # not the feed we know: kept
    assert video.feeds("m") == ["anna"]
    assert announced == [["anna"], ["anna", "bo"], ["anna"]]


async def test_a_feed_published_here_is_not_replaced_by_another_process() -> None:
    video, _ = await video_with(Shared())
    video.feeds("m")
    await drain(video)
    # (no Janus here: our publisher's feed is put in by hand, as ``publish`` would)
    video._rooms["m"] = VideoRoom(7, {"anna": Feed(5, VIDEO, live=True)})
    await video._remote(feed("anna", 11))  # the same participant, another tab elsewhere
    assert video._rooms["m"].feeds["anna"].id == 5  # ours stands


async def test_feeds_of_a_dead_process_are_dropped_and_a_reread_reconciles() -> None:
    shared = Shared()
    shared.listed["m"] = [feed("anna", 11, proc="p2"), feed("bo", 12, proc="p3")]
    video, announced = await video_with(shared)
    video.feeds("m")
    await drain(video)
    assert video.feeds("m") == ["anna", "bo"]
    shared.down = {"p3"}
    await video.sweep()
    assert video.feeds("m") == ["anna", "bo"]  # one lapse of its heartbeat: not yet
    await video.sweep()  # the next sweep, 2 s later: dead
    assert video.feeds("m") == ["anna"] and announced[-1] == ["anna"]
    await video._remote(feed("bo", 12, proc="p3"))  # a late message of the dead one
    assert video.feeds("m") == ["anna"]
    # a resubscription (messages may have been lost): the shared list is the truth
    shared.listed["m"] = [feed("cy", 13, proc="p2")]
    await video._reload_all()
    assert video.feeds("m") == ["cy"] and announced[-1] == ["cy"]
    await video.close_meeting("m")
    assert shared.released == [("m", None)] and video.feeds("m") == []


async def test_a_meeting_released_here_is_forgotten_and_read_again_when_asked() -> None:
    """The hub released the meeting (no connection here uses it): what this process
    knew of its room goes (it grew with every meeting ever served), other processes'
    messages about it are ignored, and the next plan here reads the shared list again."""
    shared = Shared()
    shared.listed["m"] = [feed("anna", 11)]
    video, _ = await video_with(shared)
    video.feeds("m")
    await drain(video)
    assert video.feeds("m") == ["anna"]
    video.forget("m")
    assert video._rooms == {} and video._room_locks == {} and video._loaded == set()
    await video._remote(feed("bo", 12))  # nobody here receives "m" now: ignored
    assert video._rooms == {}
    shared.listed["m"] = [feed("anna", 11), feed("bo", 12)]
    assert video.feeds("m") == []  # asked again: read again...
    await drain(video)
    assert video.feeds("m") == ["anna", "bo"]  # ...as the shared list has it now


async def test_a_feed_heard_of_while_the_list_is_read_is_not_undone_by_that_read() -> None:
    """The first read of the shared list is under way when another process's message
    says a new feed went live; the list as read (from before it) must not remove that
    feed again: no further message comes for it, so this process's subscribers would
    never see it."""
    import asyncio

    class Slow(Shared):
        def __init__(self) -> None:
            super().__init__()
            self.reading = asyncio.Event()
            self.gate = asyncio.Event()

        async def feeds(self, meeting: str) -> list[RemoteFeed]:
            listed = list(self.listed.get(meeting, []))  # the list as it is now
            self.reading.set()
            await self.gate.wait()
            return listed

    shared = Slow()
    shared.listed["m"] = [feed("anna", 11)]
    video, _ = await video_with(shared)
    video.feeds("m")
    loading = asyncio.create_task(drain(video))
    await shared.reading.wait()  # read, not yet taken in
    shared.listed["m"].append(feed("bo", 12))  # bo goes live: listed, then announced
    await video._remote(feed("bo", 12))
    shared.gate.set()
    await loading
    assert video.feeds("m") == ["anna", "bo"]


async def test_a_process_whose_heartbeat_lapsed_once_keeps_its_feeds() -> None:
    """A process's loop stalled on a busy machine and its heartbeat key lapsed for one
    sweep: its feeds stay. Dropped, they were gone for good (no message or read brings
    a feed back once dropped), and this process's subscribers never saw them again."""
    shared = Shared()
    shared.listed["m"] = [feed("anna", 11, proc="p2")]
    video, _ = await video_with(shared)
    video.feeds("m")
    await drain(video)
    shared.down = {"p2"}
    await video.sweep()
    shared.down = set()  # beating again
    await video.sweep()
    await video.sweep()
    assert video.feeds("m") == ["anna"]
