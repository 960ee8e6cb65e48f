"""Who exchanges media with whom in a room: the mesh, or the stage above a cap.

Up to ``cap`` members a room is a full mesh: everyone publishes to everyone.
Above it the room runs in stage mode: facilitators and the participants put
on stage publish, the others only watch, and connections exist only where
at least one side publishes.
"""

from collections.abc import Collection
from dataclasses import dataclass

from rooms.exceptions import PeerNotInRoom, UnknownPeer
from rooms.meeting import Meeting, Role

DEFAULT_PUBLISHER_CAP = 8


@dataclass(frozen=True)
class PeerPlan:
    room: str
    mode: str  # "mesh" | "stage"
    peers: tuple[tuple[str, bool], ...]  # (peer id, am I polite toward it)
    publishers: tuple[str, ...]
    publish: bool

    def peer_ids(self) -> frozenset[str]:
        return frozenset(pid for pid, _ in self.peers)

    def to_wire(self, closed: Collection[str] = ()) -> dict[str, object]:
        return {"room": self.room, "mode": self.mode,
                "peers": [{"id": pid, "polite": polite} for pid, polite in self.peers],
                "close": sorted(closed), "publishers": list(self.publishers),
                "publish": self.publish}


def room_plans(m: Meeting, room: str, online: Collection[str],
               cap: int = DEFAULT_PUBLISHER_CAP) -> dict[str, PeerPlan]:
    """Every online member's plan in ``room``, computed in one pass."""
    members = [p for p in m.members(room) if p.id in online]
    ids = sorted(p.id for p in members)
    if len(members) <= cap:
        mode, publishers = "mesh", ids
    else:
        mode = "stage"
        publishers = sorted(p.id for p in members
                            if p.role is Role.FACILITATOR or p.id in m.stage)
    everyone = tuple(ids)
    plans = {}
    published = frozenset(publishers)
    for me in ids:
        publish = me in published
        others = everyone if publish else publishers
        plans[me] = PeerPlan(room, mode, tuple((pid, me > pid) for pid in others if pid != me),
                             tuple(publishers), publish)
    return plans


def peer_plan(m: Meeting, me: str, online: Collection[str],
              cap: int = DEFAULT_PUBLISHER_CAP) -> PeerPlan:
    """The connections ``me`` should hold in its current room."""
    room = m.participants[me].room
    return room_plans(m, room, {*online, me}, cap)[me]


def check_signal(m: Meeting, sender: str, to: str) -> None:
    """Signalling flows only between two present members of the same room."""
    peer = m.participants.get(to)
    if peer is None or to == sender:
        raise UnknownPeer("There is no such peer in this meeting.")
    me = m.participants.get(sender)
    if me is None or not me.present or not peer.present or me.room != peer.room:
        raise PeerNotInRoom("That participant is not in your room.")
