"""Peer plans (whom each connection connects to) and TURN credentials, pushed to clients.

Who is in which room is asked of the fold every time; the only thing kept per
connection is the plan last sent, so that a client hears only of a change (and of
the peers it should close).
"""

from typing import Any

from facilitation.session import Session
from rooms.media import PeerPlan, peer_plan, room_plans, visible_feeds
from server.clock import Clock
from server.config import Settings
from server.connections import Connections
from server.fanout import Fanout, ToConnection, ToRoom
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
        # The SFU feed list last sent to each connection (with its room), sent to it alone
        # or to its room: a connection never hears the same list twice in a row.
        self._told: dict[str, tuple[str, list[str]]] = {}
        # The last room planned, and what it was planned from: a join plans its room
        # (``refresh_rooms``) and then the joiner (``first``) from the same state.
        self._last: tuple[Session, tuple[Any, ...], dict[str, PeerPlan]] | None = None

    async def refresh_rooms(self, meeting: str, rooms: frozenset[str] | set[str]) -> None:
        """Re-plan every online member of ``rooms``: each connection that has its first
        plan. A connection still joining gets that in its welcome (``first``): a plan
        before the welcome would reach a client with no meeting to apply it to."""
        online = self._conns.online_set(meeting)
        sent = self._sent
        for room in rooms:
            plans = self._plans(meeting, room)
            first = next(iter(plans.values()), None)  # a room's plans share their mode
            # A feed list new to someone in the room goes to the room once, after the plans;
            # otherwise a connection hears the list with its plan only if it is new to it.
            room_wide = (first is not None and first.mode == "sfu"
                         and self._unaware(meeting, room, self._visible(meeting, room)))
            for pid, plan in plans.items():
                for sid in list(online.get(pid, ())):
                    if sid in sent:
                        await self.send(sid, plan, feeds=not room_wide)
            if room_wide:
                await self.room_feeds(meeting, room)

    async def room_feeds(self, meeting: str, room: str) -> None:
        """Tell ``room`` which SFU feeds its members may receive, if one of its connections
        was last told another list: a feed came or went (``VideoRooms``' announcements), or the
        meeting's state did (who is present, and where). With several processes,
        another process's feed may be heard of before its publisher's join is applied
        here: it reaches the room with the join, through ``refresh_rooms``."""
        if self._hub.held(meeting) is None:
            return  # cluster: a meeting not held here has no client here
        told = (room, self._visible(meeting, room))
        planned = self._planned(meeting, room)
        if all(self._told.get(sid) == told for sid in planned):
            return
        await self._fanout.send("sfu.feeds", {"room": room, "feeds": told[1]},
                                ToRoom(meeting, room))
        for sid in planned:
            self._told[sid] = told

    def _planned(self, meeting: str, room: str) -> list[str]:
        """The connections of ``room`` that have their first plan (the others hear the
        feeds with it, in their welcome's wake)."""
        online = self._conns.online_set(meeting)
        return [sid for pid in self._plans(meeting, room) for sid in online.get(pid, ())
                if sid in self._sent]

    def _unaware(self, meeting: str, room: str, feeds: list[str]) -> bool:
        """Whether a connection of ``room`` was last told another feed list, or none."""
        return any(self._told.get(sid) != (room, feeds)
                   for sid in self._planned(meeting, room))

    def _visible(self, meeting: str, room: str) -> list[str]:
        return visible_feeds(self._hub.get(meeting).state.meeting, room,
                             self._video.feeds(meeting))

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

    async def send(self, sid: str, plan: PeerPlan, *, feeds: bool = True) -> None:
        """``feeds``: False when the room hears its new feed list right after."""
        before = self._sent.get(sid)
        if before == plan:
            return
        closed = before.peer_ids() - plan.peer_ids() if before is not None else frozenset()
        self._sent[sid] = plan
        await self._fanout.send("peers", plan.to_wire(closed), ToConnection(sid))
        await self._after(sid, plan, before, feeds=feeds)

    async def _after(self, sid: str, plan: PeerPlan, before: PeerPlan | None, *,
                     feeds: bool = True) -> None:
        """The SFU's part of a plan sent: the feeds to show (unless this connection was
        told that very list last), or leaving the SFU."""
        if plan.mode == "sfu":
            conn = self._conns.by_sid.get(sid)
            if conn is not None and feeds:
                visible = self._visible(conn.meeting, plan.room)
                if self._told.get(sid) != (plan.room, visible):
                    self._told[sid] = (plan.room, visible)
                    await self._fanout.send("sfu.feeds", {"room": plan.room, "feeds": visible},
                                            ToConnection(sid))
            return
        self._told.pop(sid, None)  # out of the SFU: back in it, it hears the list anew
        if before is not None and before.mode == "sfu":
            if plan.fallback:
                await self._video.leave(sid)  # the SFU went down
            else:
                await self._video.step_out(sid)  # to a breakout: the publisher waits

    def forget(self, sid: str) -> None:
        self._sent.pop(sid, None)
        self._told.pop(sid, None)
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
