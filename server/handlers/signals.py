"""WebRTC signalling: the relay between two members of one room, the peer
plans that tell each client whom to connect to, media state and ICE servers.

SDP and candidates carry participants' addresses: they are relayed, never
logged or recorded.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from rooms import PLENARY, Event, moves_of
from rooms import commands as cmd
from rooms.exceptions import DomainError, NotJoined
from rooms.media import PeerPlan, check_signal, peer_plan, room_plans, visible_feeds
from server import protocol as p
from server.broadcast import facilitators_room, participant_room
from server.connections import Connection
from server.gateway import Gateway
from server.ice import ice_servers
from server.live import LiveMeeting
from server.sfu.videorooms import VideoRooms

# A joining participant is re-planned by the presence hook once its connection is bound
# (at ``participant.joined`` it is not online yet), so joins are not listed here.
_MEMBERSHIP = frozenset({"participant.left", "stage.added", "stage.removed"})


# ``speaking``: at most this many messages per connection in a sliding window. The
# client sends at most ~2/s (hysteresis), so a burst after a reconnect still passes.
SPEAKING_MAX, SPEAKING_WINDOW_S = 8, 4.0


class SpeakingTooOften(DomainError):
    code = "rate_limited"


class Planner:
    """Sends each connection its peer plan, and what to close, when it changes."""

    def __init__(self, gw: Gateway, video: VideoRooms) -> None:
        self._gw = gw
        self._video = video
        self._sent: dict[str, PeerPlan] = {}

    async def refresh_rooms(self, meeting: str, rooms: set[str]) -> None:
        """Re-plan every online member of ``rooms`` (a mover is planned in its new room)."""
        state = self._gw.hub.get(meeting).state.meeting
        online = self._gw.conns.online_set(meeting)
        cap = self._gw.settings.publisher_cap
        for room in rooms:
            for pid, plan in room_plans(state, room, online, cap, self._video.status).items():
                for sid in list(online.get(pid, ())):
                    await self.send(sid, plan)

    async def send(self, sid: str, plan: PeerPlan) -> None:
        before = self._sent.get(sid)
        if before == plan:
            return
        closed = before.peer_ids() - plan.peer_ids() if before is not None else frozenset()
        self._sent[sid] = plan
        await self._gw.sio.fanout("peers", plan.to_wire(closed), to=sid)
        if plan.mode == "sfu":
            conn = self._gw.conns.by_sid.get(sid)
            if conn is not None:
                state = self._gw.hub.get(conn.meeting).state.meeting
                feeds = visible_feeds(state, plan.room, self._video.feeds(conn.meeting))
                await self._gw.sio.fanout("sfu.feeds", {"room": plan.room, "feeds": feeds},
                                          to=sid)
        elif before is not None and before.mode == "sfu":
            if plan.fallback:
                await self._video.leave(sid)  # the SFU went down
            else:
                await self._video.step_out(sid)  # to a breakout: the publisher waits

    def rooms_of(self, meeting: str, participants: Iterable[str]) -> set[str]:
        """The rooms these participants were last planned in (where they come from)."""
        online = self._gw.conns.online_set(meeting)
        return {self._sent[sid].room for pid in participants
                for sid in online.get(pid, ()) if sid in self._sent}

    def forget(self, sid: str) -> None:
        self._sent.pop(sid, None)


def register(gw: Gateway, video: VideoRooms) -> None:
    planner = Planner(gw, video)

    async def signal(conn: Connection, msg: p.Signal) -> dict[str, Any]:
        me = gw.pid(conn)
        check_signal(gw.hub.get(conn.meeting).state.meeting, me, msg.to)
        relayed = msgspec.to_builtins(msg)
        del relayed["to"]
        relayed["from"] = me
        await gw.sio.fanout("signal", relayed, to=participant_room(conn.meeting, msg.to))
        gw.metrics.relayed.inc()
        return {}

    async def media(conn: Connection, msg: p.Media) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.media(
            s.meeting, pid, mic=msg.mic, camera=msg.camera, screen=msg.screen))

    speaking_sent: dict[str, list[float]] = {}

    async def speaking(conn: Connection, msg: p.Speaking) -> dict[str, Any]:
        """Relay the sender's own speaking state to the facilitators (its own browser
        measures it; they are not in a group's mesh). Ephemeral: never logged."""
        me = gw.pid(conn)
        person = gw.hub.get(conn.meeting).state.meeting.participants.get(me)
        if person is None or not person.present:
            raise NotJoined("Join the meeting first.")
        now = gw.clock.monotonic()
        recent = [t for t in speaking_sent.get(conn.sid, ()) if now - t < SPEAKING_WINDOW_S]
        if len(recent) >= SPEAKING_MAX:
            speaking_sent[conn.sid] = recent
            raise SpeakingTooOften("Speaking state sent too often.")
        speaking_sent[conn.sid] = [*recent, now]
        await gw.sio.fanout("speaking", {"participant": me, "room": person.room, "on": msg.on},
                            to=facilitators_room(conn.meeting))
        return {}

    async def stage_add(conn: Connection, msg: p.Target) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.stage_add(s.meeting, pid, msg.participant))

    async def stage_remove(conn: Connection, msg: p.Target) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.stage_remove(s.meeting, pid,
                                                                  msg.participant))

    def ice_for(conn: Connection) -> dict[str, Any]:
        servers, expires_at = ice_servers(gw.settings, gw.pid(conn), gw.clock.now_ms())
        return {"ice_servers": servers, "expires_at": expires_at}

    async def refresh_ice(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        return ice_for(conn)

    def schedule_ice(conn: Connection) -> None:
        if not (gw.settings.turn_urls and gw.settings.turn_secret):
            return

        async def push() -> None:
            if conn.sid in gw.conns.by_sid and conn.participant is not None:
                await gw.sio.fanout("ice", ice_for(conn), to=conn.sid)
                schedule_ice(conn)
        gw.scheduler.after(f"ice:{conn.sid}", gw.settings.turn_ttl_s * 0.8, push)

    async def on_attach(conn: Connection) -> None:
        state = gw.hub.get(conn.meeting).state.meeting
        pid = gw.pid(conn)
        online = gw.conns.online_set(conn.meeting)
        await planner.send(conn.sid, peer_plan(state, pid, online, gw.settings.publisher_cap,
                                               video.status))
        schedule_ice(conn)

    def on_detach(conn: Connection) -> None:
        planner.forget(conn.sid)
        speaking_sent.pop(conn.sid, None)
        video.later(lambda: video.leave(conn.sid))
        gw.scheduler.cancel(f"ice:{conn.sid}")

    async def on_presence(meeting: str, participant: str) -> None:
        person = gw.hub.get(meeting).state.meeting.participants.get(participant)
        if person is not None:
            await planner.refresh_rooms(meeting, {person.room})

    async def on_events(live: LiveMeeting, events: Sequence[Event]) -> None:
        rooms: set[str] = set()
        for e in events:
            moves = moves_of(e)
            rooms.update(moves.values())
            rooms.update(planner.rooms_of(live.id, moves))
            if e.type in _MEMBERSHIP:
                person = live.state.meeting.participants.get(e.data["id"])
                if person is not None:
                    rooms.add(person.room)
        if rooms:
            await planner.refresh_rooms(live.id, rooms)

    async def on_sfu_status() -> None:
        """The video server came or went: every plenary switches mode."""
        for live in gw.hub.all():
            await planner.refresh_rooms(live.id, {PLENARY})

    gw.command("signal", p.Signal, signal)
    gw.command("media", p.Media, media)
    gw.command("speaking", p.Speaking, speaking)
    gw.command("stage.add", p.Target, stage_add)
    gw.command("stage.remove", p.Target, stage_remove)
    gw.command("ice.refresh", p.Empty, refresh_ice)
    gw.on_attach.append(on_attach)
    gw.on_detach.append(on_detach)
    gw.on_presence.append(on_presence)
    gw.hub.listeners.append(on_events)
    video.on_status.append(on_sfu_status)

