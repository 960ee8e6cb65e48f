"""Who exchanges media with whom in a room: the SFU, the mesh, or the stage.

With an SFU (Janus) up, the plenary runs in ``sfu`` mode: everyone publishes
once to the SFU and subscribes there to the feeds it chooses to show; no peer
connections. Otherwise, and always in breakout rooms: up to ``cap`` members a
room is a full mesh, everyone publishing to everyone. Above it the room runs
in stage mode: facilitators and the participants put on stage publish, the
others only watch, and connections exist only where at least one side
publishes. A plenary that falls back from a configured but unreachable SFU
says so (``fallback``), so clients can tell people why.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rooms.exceptions import NotInRoom, PeerNotInRoom, UnknownPeer
from rooms.meeting import Meeting, Role, RoomKind


class Sfu(StrEnum):
    """The SFU as the planner sees it."""

    OFF = "off"  # not configured
    UP = "up"
    DOWN = "down"  # configured, but unreachable: fall back to mesh/stage

DEFAULT_PUBLISHER_CAP = 8


@dataclass(frozen=True)
class PeerPlan:
    room: str
    mode: str  # "mesh" | "stage"
    peers: tuple[tuple[str, bool], ...]  # (peer id, am I polite toward it)
    publishers: tuple[str, ...]
    publish: bool
    fallback: bool = False  # an SFU is configured but down: mesh/stage instead

    def peer_ids(self) -> frozenset[str]:
        return frozenset(pid for pid, _ in self.peers)

    def to_wire(self, closed: Collection[str] = ()) -> dict[str, object]:
        return {"room": self.room, "mode": self.mode,
                "peers": [{"id": pid, "polite": polite} for pid, polite in self.peers],
                "close": sorted(closed), "publishers": list(self.publishers),
                "publish": self.publish, "fallback": self.fallback}


def uses_sfu(m: Meeting, room: str, sfu: Sfu) -> bool:
    """Whether ``room`` runs through the SFU: the plenary, while the SFU is up."""
    r = m.rooms.get(room)
    return sfu is Sfu.UP and r is not None and r.kind is RoomKind.PLENARY


def room_plans(m: Meeting, room: str, online: Collection[str],
               cap: int = DEFAULT_PUBLISHER_CAP, sfu: Sfu = Sfu.OFF) -> dict[str, PeerPlan]:
    """Every online member's plan in ``room``, computed in one pass."""
    members = [p for p in m.members(room) if p.id in online]
    ids = sorted(p.id for p in members)
    if uses_sfu(m, room, sfu):
        return {me: PeerPlan(room, "sfu", (), tuple(ids), True) for me in ids}
    fallback = sfu is Sfu.DOWN and m.rooms[room].kind is RoomKind.PLENARY
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
                             tuple(publishers), publish, fallback)
    return plans


def peer_plan(m: Meeting, me: str, online: Collection[str],
              cap: int = DEFAULT_PUBLISHER_CAP, sfu: Sfu = Sfu.OFF) -> PeerPlan:
    """The connections ``me`` should hold in its current room."""
    room = m.participants[me].room
    return room_plans(m, room, {*online, me}, cap, sfu)[me]


def visible_feeds(m: Meeting, room: str, live: Iterable[str]) -> list[str]:
    """The live SFU feeds a member of ``room`` may receive: present members of it."""
    return sorted(pid for pid in live if (p := m.participants.get(pid)) is not None
                  and p.present and p.room == room)


def check_publish(m: Meeting, me: str, sfu: Sfu) -> str:
    """A present member of a room that runs through the SFU may publish there; the room."""
    person = m.participants.get(me)
    if person is None or not person.present or not uses_sfu(m, person.room, sfu):
        raise NotInRoom("Your room does not use the video server now.")
    return person.room


def check_subscribe(m: Meeting, me: str, feeds: Iterable[str], sfu: Sfu) -> str:
    """One may subscribe only to present members of one's own SFU room; the room."""
    room = check_publish(m, me, sfu)
    for pid in feeds:
        other = m.participants.get(pid)
        if other is None or pid == me:
            raise UnknownPeer("There is no such peer in this meeting.")
        if not other.present or other.room != room:
            raise PeerNotInRoom("That participant is not in your room.")
    return room


def check_signal(m: Meeting, sender: str, to: str) -> None:
    """Signalling flows only between two present members of the same room."""
    peer = m.participants.get(to)
    if peer is None or to == sender:
        raise UnknownPeer("There is no such peer in this meeting.")
    me = m.participants.get(sender)
    if me is None or not me.present or not peer.present or me.room != peer.room:
        raise PeerNotInRoom("That participant is not in your room.")
