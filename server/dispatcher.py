"""The one place where effects (``server.effects``) are carried out, in order.

``deliver`` runs inside ``LiveMeeting.publish``, once events are durable and in log
order: it re-addresses movers and sends each event to its audience. ``run`` runs
after a commit was delivered (``Hub.execute``) or after a fact of a connection
(``happened``). A follow-up decision is committed through ``Hub.apply``, which does
not run effects itself: its effects join this queue, behind everything before them.
So nothing here calls back into a commit that is still under way.

Every effect is carried out on its own: one that fails is logged and the rest
still run (a failed follow-up is not logged in the log, and not lost either: the
timers that want it retry).
"""

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from facilitation import breakouts
from rooms import SYSTEM, Draft, Event
from rooms.board import prompt_update
from rooms.events import BoardUpdated
from server.connections import Connections
from server.effects import (
    ArmIce,
    CloseMedia,
    Deliver,
    Detached,
    Effect,
    Fact,
    ForgetBoards,
    ForgetConnection,
    IndexForReview,
    LogPresence,
    MoveConnections,
    PlaceReturning,
    ReplanMedia,
    ReplanNext,
    SeedPrompts,
    SendBoard,
    SyncTimer,
    coalesce,
    delivery,
    effects,
    follow_up,
)
from server.fanout import Fanout, ToConnection, ToParticipant
from server.hub import Hub, MeetingNotFound
from server.media_plans import IceRefresh, MediaPlans
from server.metrics import Metrics
from server.planner import NextRound
from server.presence_log import PresenceLog
from server.round_timer import RoundTimer
from server.sfu.videorooms import VideoRooms
from server.state import new_state

if TYPE_CHECKING:
    from server.review import Review

log = logging.getLogger("ledarstig.dispatcher")


@dataclass
class Services:
    """What the effects are carried out with (built once the hub exists)."""

    hub: Hub
    timer: RoundTimer
    media: MediaPlans
    ice: IceRefresh
    next_round: NextRound
    presence: PresenceLog
    video: VideoRooms
    review: "Review | None" = None  # set once review is up (server/review_pages.py)


class Dispatcher:
    def __init__(self, fanout: Fanout, conns: Connections, metrics: Metrics) -> None:
        self._fanout, self._conns, self._metrics = fanout, conns, metrics
        self._s: Services | None = None

    def serve(self, services: Services) -> None:
        self._s = services

    @property
    def services(self) -> Services:
        if self._s is None:
            raise RuntimeError("The dispatcher has no services yet.")
        return self._s

    # -- in log order, inside publish ----------------------------------------------

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        for event in events:
            self._metrics.event(event.type).inc()
            for effect in delivery(meeting, event):
                await self._carry_out(meeting, effect)

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        """``deliver`` at once, for a caller that is not a coroutine (the store's commit,
        ``LiveMeeting.deliver_durable``): only when every delivery effect of ``events``
        is a send the fan-out makes at once (a chat, a hand, a board update); False,
        with nothing done, otherwise (moves, a fan-out that publishes elsewhere)."""
        sends = []
        for event in events:
            for effect in delivery(meeting, event):
                if type(effect) is not Deliver:
                    return False
                sends.append(("event", effect.event.to_wire(), effect.to))
        if not self._fanout.send_now(sends):
            return False
        for event in events:
            self._metrics.event(event.type).inc()
        return True

    # -- after the commit ------------------------------------------------------------

    async def happened(self, meeting: str, fact: Fact) -> None:
        """A fact of this process's connections (attached, detached, presence)."""
        try:
            state = self.services.hub.get(meeting).state
        except MeetingNotFound:  # removed (its cohort ended): only the connection is left
            state = new_state()
            if not isinstance(fact, Detached):
                return
        await self.run(meeting, effects(state, fact))

    async def run(self, meeting: str, todo: Sequence[Effect]) -> None:
        queue = deque(coalesce(todo))
        while queue:
            effect = queue.popleft()
            try:
                if follow_up(effect):
                    queue.extend(coalesce(await self._follow_up(meeting, effect)))
                else:
                    await self._carry_out(meeting, effect)
            except Exception:
                log.exception("effect %r of meeting %s failed", effect, meeting)

    async def _carry_out(self, meeting: str, effect: Effect) -> None:  # noqa: C901 (one match)
        s = self._s
        match effect:
            case Deliver(event, to):
                await self._fanout.send("event", event.to_wire(), to)
            case MoveConnections(moves):
                await self._fanout.move(meeting, dict(moves), self._conns.online_set(meeting))
            case SyncTimer() if s is not None:
                s.timer.sync(s.hub.get(meeting))
            case ReplanNext() if s is not None:
                s.next_round.changed(meeting)
            case ReplanMedia(rooms) if s is not None:
                await s.media.refresh_rooms(meeting, rooms)
            case CloseMedia() if s is not None:
                await s.video.close_meeting(meeting)
            case IndexForReview() if s is not None and s.review is not None:
                s.review.build_later(s.hub.get(meeting))
            case ForgetBoards() if s is not None:
                s.hub.get(meeting).boards.forget()
            case SendBoard(pid, room, sid) if s is not None:
                await self._send_board(s.hub, meeting, pid, room, sid)
            case ArmIce(sid) if s is not None:
                s.ice.arm(sid)
            case ForgetConnection(sid) if s is not None:
                s.media.forget(sid)
                s.ice.cancel(sid)

    async def _send_board(self, hub: Hub, meeting: str, pid: str, room: str,
                          sid: str | None) -> None:
        update = await hub.get(meeting).boards.state_of(room)
        to = ToConnection(sid) if sid is not None else ToParticipant(meeting, pid)
        await self._fanout.send("board.state", {"room": room, "update": update,
                                                "seq": hub.get(meeting).state.seq}, to)

    async def _follow_up(self, meeting: str, effect: Effect) -> list[Effect]:
        """Commit a follow-up decision; its effects are returned, to be queued."""
        s = self.services
        match effect:
            case SeedPrompts(seeds):
                drafts: list[Draft] = [BoardUpdated(room=room, origin="prompt",
                                                    update=prompt_update(text, SYSTEM))
                          for room, text in seeds]
                return (await s.hub.apply(meeting, SYSTEM, lambda _: drafts))[1]
            case PlaceReturning(pid):
                encounters = s.hub.encounters(meeting)
                return (await s.hub.apply(meeting, SYSTEM, lambda st: breakouts.place_returning(
                    st, pid, encounters)))[1]
            case LogPresence(pid, online):
                return await s.presence.changed(meeting, pid, online)
        raise TypeError(f"not a follow-up: {effect!r}")
