"""WebRTC signalling: the relay between two members of one room, media state, speaking
and ICE servers. Peer plans are pushed by ``server.media_plans`` (an effect).

SDP and candidates carry participants' addresses: they are relayed, never
logged or recorded.
"""

from functools import partial
from typing import Any

import msgspec

from rooms import commands as cmd
from rooms.exceptions import DomainError, NotJoined
from rooms.media import check_signal
from server import protocol as p
from server.connections import Connection
from server.fanout import ToFacilitators, ToParticipant
from server.gateway import Gateway
from server.handlers.command import Command
from server.ice import ice_servers

# ``speaking``: at most this many messages per connection in a sliding window. The
# client sends at most ~2/s (hysteresis), so a burst after a reconnect still passes.
SPEAKING_MAX, SPEAKING_WINDOW_S = 8, 4.0


class SpeakingTooOften(DomainError):
    code = "rate_limited"


async def signal(gw: Gateway, conn: Connection, msg: p.Signal) -> dict[str, Any]:
    me = gw.pid(conn)
    check_signal(gw.hub.get(conn.meeting).state.meeting, me, msg.to)
    relayed = msgspec.to_builtins(msg)
    del relayed["to"]
    relayed["from"] = me
    await gw.fanout.send("signal", relayed, ToParticipant(conn.meeting, msg.to))
    gw.metrics.relayed.inc()
    return {}


async def media(gw: Gateway, conn: Connection, msg: p.Media) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.media(
        s.meeting, pid, mic=msg.mic, camera=msg.camera, screen=msg.screen))


async def speaking(gw: Gateway, conn: Connection, msg: p.Speaking) -> dict[str, Any]:
    """Relay the sender's own speaking state to the facilitators (its own browser
    measures it; they are not in a group's mesh). Ephemeral: never logged."""
    me = gw.pid(conn)
    person = gw.hub.get(conn.meeting).state.meeting.participants.get(me)
    if person is None or not person.present:
        raise NotJoined("Join the meeting first.")
    now = gw.clock.monotonic()
    recent = [t for t in conn.speaking if now - t < SPEAKING_WINDOW_S]
    if len(recent) >= SPEAKING_MAX:
        conn.speaking = recent
        raise SpeakingTooOften("Speaking state sent too often.")
    conn.speaking = [*recent, now]
    await gw.fanout.send("speaking", {"participant": me, "room": person.room, "on": msg.on},
                         ToFacilitators(conn.meeting))
    return {}


async def stage_add(gw: Gateway, conn: Connection, msg: p.Target) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.stage_add(s.meeting, pid, msg.participant))


async def stage_remove(gw: Gateway, conn: Connection, msg: p.Target) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.stage_remove(s.meeting, pid, msg.participant))


async def refresh_ice(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    servers, expires_at = ice_servers(gw.settings, gw.pid(conn), gw.clock.now_ms())
    return {"ice_servers": servers, "expires_at": expires_at}


def commands(gw: Gateway) -> list[Command]:
    return [
        Command("signal", p.Signal, partial(signal, gw)),
        Command("media", p.Media, partial(media, gw)),
        Command("speaking", p.Speaking, partial(speaking, gw)),
        Command("stage.add", p.Target, partial(stage_add, gw)),
        Command("stage.remove", p.Target, partial(stage_remove, gw)),
        Command("ice.refresh", p.Empty, partial(refresh_ice, gw)),
    ]
