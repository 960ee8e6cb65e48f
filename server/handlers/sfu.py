"""The plenary's SFU: publish, subscribe, answer and trickle, relayed to Janus.

Browsers never reach Janus's API: they send their session descriptions and
candidates here, over their Socket.IO connection, and we make the Janus
requests on their behalf. Who may publish and whom one may receive are the
pure rules of ``rooms.media`` (``check_publish``, ``check_subscribe``).
"""

from functools import partial
from typing import Any

import msgspec

from rooms import PLENARY
from rooms.media import check_publish, check_subscribe
from server import protocol as p
from server.connections import Connection
from server.dispatcher import Dispatcher
from server.effects import ReplanMedia
from server.fanout import ToConnection
from server.gateway import Gateway
from server.handlers.command import Command
from server.media_plans import MediaPlans
from server.sfu.videorooms import VideoRooms


def _meeting(gw: Gateway, conn: Connection) -> Any:
    return gw.hub.get(conn.meeting).state.meeting


async def publish(gw: Gateway, video: VideoRooms, conn: Connection,
                  msg: p.SfuPublish) -> dict[str, Any]:
    me = gw.pid(conn)
    check_publish(_meeting(gw, conn), me, video.status)
    if msg.description.type != "offer":
        raise p.InvalidMessage("Publish with an offer.")
    answer = await video.publish(conn.sid, conn.meeting, me,
                                 msgspec.to_builtins(msg.description), screen=msg.screen,
                                 update=msg.update)
    return {"description": answer}


async def subscribe(gw: Gateway, video: VideoRooms, conn: Connection,
                    msg: p.SfuSubscribe) -> dict[str, Any]:
    me = gw.pid(conn)
    check_subscribe(_meeting(gw, conn), me, [f.id for f in msg.feeds], video.status)
    offer, streams = await video.subscribe(conn.sid, conn.meeting, me,
                                           [(f.id, f.audio, f.video) for f in msg.feeds],
                                           {f.id: f.layer for f in msg.feeds})
    return {"description": offer, "streams": streams}


async def answer(gw: Gateway, video: VideoRooms, conn: Connection,
                 msg: p.SfuAnswer) -> dict[str, Any]:
    check_publish(_meeting(gw, conn), gw.pid(conn), video.status)
    if msg.description.type != "answer":
        raise p.InvalidMessage("Answer with an answer.")
    await video.answer(conn.sid, msgspec.to_builtins(msg.description))
    return {}


async def trickle(gw: Gateway, video: VideoRooms, conn: Connection,
                  msg: p.SfuTrickle) -> dict[str, Any]:
    check_publish(_meeting(gw, conn), gw.pid(conn), video.status)
    candidate = None if msg.candidate is None else msgspec.to_builtins(msg.candidate)
    await video.trickle(conn.sid, msg.target, candidate)
    return {}


def commands(gw: Gateway, video: VideoRooms) -> list[Command]:
    return [
        Command("sfu.publish", p.SfuPublish, partial(publish, gw, video)),
        Command("sfu.subscribe", p.SfuSubscribe, partial(subscribe, gw, video)),
        Command("sfu.answer", p.SfuAnswer, partial(answer, gw, video)),
        Command("sfu.trickle", p.SfuTrickle, partial(trickle, gw, video)),
    ]


class SfuEvents:
    """What the video server tells us: new feeds, offers, and its own coming and going."""

    def __init__(self, gw: Gateway, video: VideoRooms, dispatcher: Dispatcher,
                 media: MediaPlans) -> None:
        self._gw, self._dispatcher, self._media = gw, dispatcher, media
        video.on_feeds.append(self.feeds)
        video.on_offer.append(self.offer)
        video.on_status.append(self.status)

    async def feeds(self, meeting: str, feeds: list[str]) -> None:
        """A feed came or went (``feeds``: all of the meeting's): what the plenary may
        receive of them is ``MediaPlans``' to say, and only if that changed."""
        await self._media.room_feeds(meeting, PLENARY)

    async def offer(self, sid: str, offer: dict[str, Any], streams: list[dict[str, Any]]) -> None:
        await self._gw.fanout.send("sfu.offer", {"description": offer, "streams": streams},
                                   ToConnection(sid))

    async def status(self) -> None:
        """The video server came or went: every plenary switches mode."""
        for live in self._gw.hub.all():
            await self._dispatcher.run(live.id, [ReplanMedia(frozenset({PLENARY}))])
