"""Peer plans (whom each connection connects to) and TURN credentials, pushed to clients.

Who is in which room is asked of the fold every time; the only thing kept per
connection is the plan last sent, so that a client hears only of a change (and of
the peers it should close).
"""

import weakref
from typing import Any

from facilitation.session import Session
from rooms.media import PeerPlan, peer_plan, room_plans, visible_feeds
from server.clock import Clock
from server.config import Settings
from server.connections import Connections
from server.fanout import Fanout, ToConnection, ToRoom
from server.hub import Hub
from server.ice import ice_servers
from server.live import LiveMeeting
from server.scheduler import Scheduler
from server.sfu.videorooms import VideoRooms


class MediaPlans:
    """Sends each connection its peer plan, and what to close, when it changes."""

    def __init__(self, hub: Hub, conns: Connections, fanout: Fanout, video: VideoRooms,
                 publisher_cap: int) -> None:
        self._hub, self._conns, self._fanout, self._video = hub, conns, fanout, video
        self._cap = publisher_cap
        self._sent: dict[str, PeerPlan] = {}
        # The last room planned, and what it was planned from: a join plans its room
        # (``refresh_rooms``) and then the joiner (``first``) from the same state.
        self._last: tuple[Session, tuple[Any, ...], dict[str, PeerPlan]] | None = None
        # The SFU feeds last sent to each room of a meeting (gone with the meeting).
        self._feeds: weakref.WeakKeyDictionary[LiveMeeting, dict[str, list[str]]] = (
            weakref.WeakKeyDictionary())

    async def refresh_rooms(self, meeting: str, rooms: frozenset[str] | set[str]) -> None:
        """Re-plan every online member of ``rooms``: each connection that has its first
        plan. A connection still joining gets that in its welcome (``first``): a plan
        before the welcome would reach a client with no meeting to apply it to."""
        online = self._conns.online_set(meeting)
        sent = self._sent
        for room in rooms:
            plans = self._plans(meeting, room)
            for pid, plan in plans.items():
                for sid in list(online.get(pid, ())):
                    if sid in sent:
                        await self.send(sid, plan)
            first = next(iter(plans.values()), None)  # a room's plans share their mode
            if first is not None and first.mode == "sfu":
                await self.room_feeds(meeting, room)

    async def room_feeds(self, meeting: str, room: str) -> None:
        """Tell ``room`` which SFU feeds its members may receive, if that changed since
        it was last told: a feed came or went (``VideoRooms``' announcements), or the
        meeting's state did (who is present, and where). With several processes,
        another process's feed may be heard of before its publisher's join is applied
        here: it reaches the room with the join, through ``refresh_rooms``."""
        live = self._hub.held(meeting)
        if live is None:
            return  # cluster: a meeting not held here has no client here
        feeds = visible_feeds(live.state.meeting, room, self._video.feeds(meeting))
        told = self._feeds.setdefault(live, {})
        if told.get(room) == feeds:
            return
        told[room] = feeds
        await self._fanout.send("sfu.feeds", {"room": room, "feeds": feeds},
                                ToRoom(meeting, room))

    def first(self, sid: str, meeting: str, participant: str) -> PeerPlan | None:
        """The first plan of a connection just bound to ``participant``, for its welcome
        to carry, made when the welcome goes out and kept as sent from then on (later
        changes reach it as ``peers``); None if the connection closed meanwhile."""
        if sid not in self._conns.by_sid:
            return None
        state = self._hub.get(meeting).state.meeting
        online = self._conns.online_set(meeting)
        if participant in online:
            plan = self._plans(meeting, state.participants[participant].room)[participant]
        else:  # not online any more (it left meanwhile): planned as if it were
            plan = peer_plan(state, participant, online, self._cap, self._video.status)
        self._sent[sid] = plan
        return plan

    async def welcomed(self, sid: str, plan: PeerPlan) -> None:
        """After a welcome that carried ``plan``: what a plan in ``sfu`` mode brings."""
        await self._after(sid, plan, None)

    def _plans(self, meeting: str, room: str) -> dict[str, PeerPlan]:
        """``room_plans`` of the room's online members, computed once per state of the
        meeting and of its connections. Kept only while who is online is this process's
        own connections (``Connections.version`` counts their changes; with several
        processes, others' participants come and go without it)."""
        state = self._hub.get(meeting).state
        online = self._conns.online_set(meeting)
        own = online is self._conns.by_meeting.get(meeting)
        key = (state.seq, room, self._conns.version, self._video.status)
        last = self._last
        if own and last is not None and last[0] is state and last[1] == key:
            return last[2]
        plans = room_plans(state.meeting, room, online, self._cap, self._video.status)
        self._last = (state, key, plans) if own else None
        return plans

    async def send(self, sid: str, plan: PeerPlan) -> None:
        before = self._sent.get(sid)
        if before == plan:
            return
        closed = before.peer_ids() - plan.peer_ids() if before is not None else frozenset()
        self._sent[sid] = plan
        await self._fanout.send("peers", plan.to_wire(closed), ToConnection(sid))
        await self._after(sid, plan, before)

    async def _after(self, sid: str, plan: PeerPlan, before: PeerPlan | None) -> None:
        """The SFU's part of a plan sent: the feeds to show, or leaving the SFU."""
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
