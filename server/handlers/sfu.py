"""The plenary's SFU: publish, subscribe, answer and trickle, relayed to Janus.

Browsers never reach Janus's API: they send their session descriptions and
candidates here, over their Socket.IO connection, and we make the Janus
requests on their behalf. Who may publish and whom one may receive are the
pure rules of ``rooms.media`` (``check_publish``, ``check_subscribe``).
"""

from collections.abc import Sequence
from typing import Any

import msgspec

from rooms import PLENARY, Event
from rooms.media import check_publish, check_subscribe, visible_feeds
from server import protocol as p
from server.broadcast import room_room
from server.connections import Connection
from server.gateway import Gateway
from server.live import LiveMeeting
from server.sfu.videorooms import VideoRooms


def register(gw: Gateway, video: VideoRooms) -> None:
    def meeting_of(conn: Connection) -> Any:
        return gw.hub.get(conn.meeting).state.meeting

    async def publish(conn: Connection, msg: p.SfuPublish) -> dict[str, Any]:
        me = gw.pid(conn)
        check_publish(meeting_of(conn), me, video.status)
        if msg.description.type != "offer":
            raise p.InvalidMessage("Publish with an offer.")
        answer = await video.publish(conn.sid, conn.meeting, me,
                                     msgspec.to_builtins(msg.description))
        return {"description": answer}

    async def subscribe(conn: Connection, msg: p.SfuSubscribe) -> dict[str, Any]:
        me = gw.pid(conn)
        check_subscribe(meeting_of(conn), me, [f.id for f in msg.feeds], video.status)
        offer, streams = await video.subscribe(conn.sid, conn.meeting, me,
                                               [(f.id, f.audio, f.video) for f in msg.feeds],
                                               {f.id: f.layer for f in msg.feeds})
        return {"description": offer, "streams": streams}

    async def answer(conn: Connection, msg: p.SfuAnswer) -> dict[str, Any]:
        check_publish(meeting_of(conn), gw.pid(conn), video.status)
        if msg.description.type != "answer":
            raise p.InvalidMessage("Answer with an answer.")
        await video.answer(conn.sid, msgspec.to_builtins(msg.description))
        return {}

    async def trickle(conn: Connection, msg: p.SfuTrickle) -> dict[str, Any]:
        check_publish(meeting_of(conn), gw.pid(conn), video.status)
        candidate = None if msg.candidate is None else msgspec.to_builtins(msg.candidate)
        await video.trickle(conn.sid, msg.target, candidate)
        return {}

    async def on_feeds(meeting: str, feeds: list[str]) -> None:
        visible = visible_feeds(gw.hub.get(meeting).state.meeting, PLENARY, feeds)
        await gw.sio.fanout("sfu.feeds", {"room": PLENARY, "feeds": visible},
                            to=room_room(meeting, PLENARY))

    async def on_offer(sid: str, offer: dict[str, Any], streams: list[dict[str, Any]]) -> None:
        await gw.sio.fanout("sfu.offer", {"description": offer, "streams": streams}, to=sid)

    async def on_events(live: LiveMeeting, events: Sequence[Event]) -> None:
        if any(e.type == "meeting.ended" for e in events):
            await video.close_meeting(live.id)

    gw.command("sfu.publish", p.SfuPublish, publish)
    gw.command("sfu.subscribe", p.SfuSubscribe, subscribe)
    gw.command("sfu.answer", p.SfuAnswer, answer)
    gw.command("sfu.trickle", p.SfuTrickle, trickle)
    video.on_feeds.append(on_feeds)
    video.on_offer.append(on_offer)
    gw.hub.listeners.append(on_events)
