"""The cluster's fan-out port (server/cluster, --redis-url): what is never logged is
sent here and queued for the other processes with its audience, which each of them
resolves against its own connections; logged events are not relayed (each process
delivers those from the log)."""

from typing import Any

import msgspec

from server.cluster import ClusterFanout, decode_audience
from server.fanout import (
    ToConnection,
    ToConnections,
    ToFacilitators,
    ToMeeting,
    ToParticipant,
    ToRoom,
    address,
)


class Sio:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, Any]] = []

    async def fanout(self, name: str, data: Any, to: Any) -> None:
        self.sent.append((name, data, to))


async def test_ephemeral_messages_are_relayed_with_their_audience() -> None:
    sio = Sio()
    fanout = ClusterFanout(sio)
    fanout.proc = "p1"
    audiences = [ToConnection("s1"), ToParticipant("m", "anna"), ToRoom("m", "r1-g1", True),
                 ToFacilitators("m"), ToMeeting("m"), ToConnections(("s1", "s2"))]
    for to in audiences:
        await fanout.send("signal", {"sdp": "x"}, to)
    await fanout.send("event", {"type": "chat.sent", "seq": 3}, ToMeeting("m"))
    assert [s[2] for s in sio.sent] == [address(to) for to in [*audiences, ToMeeting("m")]]
    relayed = []
    while not fanout.outbox.empty():
        relayed.append(msgspec.msgpack.decode(fanout.outbox.get_nowait()))
    assert len(relayed) == len(audiences)  # the logged event went to no other process
    for (proc, name, data, kind, fields), to in zip(relayed, audiences, strict=True):
        assert (proc, name, data) == ("p1", "signal", {"sdp": "x"})
        assert decode_audience(kind, fields) == to
    other = Sio()
    await ClusterFanout(other).send_here("signal", {"sdp": "x"}, ToParticipant("m", "anna"))
    assert other.sent == [("signal", {"sdp": "x"}, address(ToParticipant("m", "anna")))]
