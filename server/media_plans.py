"""Peer plans (whom each connection connects to) and TURN credentials, pushed to clients.

Who is in which room is asked of the fold every time; the only thing kept per
connection is the plan last sent, so that a client hears only of a change (and of
the peers it should close).
"""

from rooms.media import PeerPlan, peer_plan, room_plans, visible_feeds
from server.clock import Clock
from server.config import Settings
from server.connections import Connections
from server.fanout import Fanout, ToConnection
from server.hub import Hub
from server.ice import ice_servers
from server.scheduler import Scheduler
from server.sfu.videorooms import VideoRooms


class MediaPlans:
    """Sends each connection its peer plan, and what to close, when it changes."""

    def __init__(self, hub: Hub, conns: Connections, fanout: Fanout, video: VideoRooms,
                 publisher_cap: int) -> None:
        self._hub, self._conns, self._fanout, self._video = hub, conns, fanout, video
        self._cap = publisher_cap
        self._sent: dict[str, PeerPlan] = {}

    async def refresh_rooms(self, meeting: str, rooms: frozenset[str] | set[str]) -> None:
        """Re-plan every online member of ``rooms``."""
        state = self._hub.get(meeting).state.meeting
        online = self._conns.online_set(meeting)
        for room in rooms:
            for pid, plan in room_plans(state, room, online, self._cap,
                                        self._video.status).items():
                for sid in list(online.get(pid, ())):
                    await self.send(sid, plan)

    async def send_own(self, sid: str, meeting: str, participant: str) -> None:
        """A connection just bound to ``participant``: its plan in its room."""
        state = self._hub.get(meeting).state.meeting
        online = self._conns.online_set(meeting)
        await self.send(sid, peer_plan(state, participant, online, self._cap,
                                       self._video.status))

    async def send(self, sid: str, plan: PeerPlan) -> None:
        before = self._sent.get(sid)
        if before == plan:
            return
        closed = before.peer_ids() - plan.peer_ids() if before is not None else frozenset()
        self._sent[sid] = plan
        await self._fanout.send("peers", plan.to_wire(closed), ToConnection(sid))
        if plan.mode == "sfu":
            conn = self._conns.by_sid.get(sid)
            if conn is not None:
                state = self._hub.get(conn.meeting).state.meeting
                feeds = visible_feeds(state, plan.room, self._video.feeds(conn.meeting))
                await self._fanout.send("sfu.feeds", {"room": plan.room, "feeds": feeds},
                                        ToConnection(sid))
        elif before is not None and before.mode == "sfu":
            if plan.fallback:
                await self._video.leave(sid)  # the SFU went down
            else:
                await self._video.step_out(sid)  # to a breakout: the publisher waits

    def forget(self, sid: str) -> None:
        self._sent.pop(sid, None)
        self._video.later(lambda: self._video.leave(sid))


class IceRefresh:
    """Pushes fresh TURN credentials to a connection before its current ones expire."""

    def __init__(self, settings: Settings, scheduler: Scheduler, clock: Clock,
                 conns: Connections, fanout: Fanout) -> None:
        self._settings, self._scheduler, self._clock = settings, scheduler, clock
        self._conns, self._fanout = conns, fanout

    def credentials(self, participant: str) -> dict[str, object]:
        servers, expires_at = ice_servers(self._settings, participant, self._clock.now_ms())
        return {"ice_servers": servers, "expires_at": expires_at}

    def arm(self, sid: str) -> None:
        if not (self._settings.turn_urls and self._settings.turn_secret):
            return

        async def push() -> None:
            conn = self._conns.by_sid.get(sid)
            if conn is not None and conn.joined:
                await self._fanout.send("ice", self.credentials(conn.pid), ToConnection(sid))
                self.arm(sid)
        self._scheduler.after(_key(sid), self._settings.turn_ttl_s * 0.8, push)

    def cancel(self, sid: str) -> None:
        self._scheduler.cancel(_key(sid))


def _key(sid: str) -> str:
    return f"ice:{sid}"
