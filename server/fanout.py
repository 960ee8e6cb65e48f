"""Fan-out: deliver one encoded packet to an audience of this process's connections.

An audience names *who*, never *how*: one connection, one participant (all their
tabs), the members of one room (and perhaps every facilitator), or the whole
meeting. Who is in which room is the fold's answer (``rooms.Meeting``); the adapter
keeps a per-process address book of it, changed only here and only from what the
fold says: a connection is admitted to its participant's room as the fold has it
(``admit``), moved by a delivered event's ``moves`` (``move``), and withdrawn when
it leaves. A cross-process bus can address the same audiences: each process
resolves them against its own connections.

``SocketFanout`` is the one adapter: it maps audiences to Socket.IO room names and
hands the packet to ``SocketServer.fanout`` (``server/sio.py``, the only module that
reaches into python-socketio/engine.io internals).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from server.sio import NAMESPACE, SocketServer


@dataclass(frozen=True)
class ToConnection:
    sid: str


@dataclass(frozen=True)
class ToParticipant:
    meeting: str
    participant: str


@dataclass(frozen=True)
class ToRoom:
    """The room's members; with ``facilitators``, every facilitator as well."""

    meeting: str
    room: str
    facilitators: bool = False


@dataclass(frozen=True)
class ToFacilitators:
    meeting: str


@dataclass(frozen=True)
class ToMeeting:
    meeting: str


@dataclass(frozen=True)
class ToConnections:
    """Several connections at once (a shutdown notice, say)."""

    sids: tuple[str, ...]


Audience = (ToConnection | ToParticipant | ToRoom | ToFacilitators | ToMeeting
            | ToConnections)


class Fanout(Protocol):
    async def send(self, name: str, data: Any, to: Audience) -> None: ...

    def send_now(self, packets: Sequence[tuple[str, Any, Audience]]) -> bool:
        """Each ``(name, data, to)`` as ``send`` sends it, written out at once, for a
        caller that is not a coroutine; False (nothing sent) when this fan-out cannot
        (it must publish to other processes)."""
        ...

    async def admit(self, sid: str, meeting: str, participant: str, room: str,
                    facilitator: bool) -> None: ...

    async def move(self, meeting: str, moves: Mapping[str, str],
                   sids_of: Mapping[str, set[str]]) -> None: ...

    async def withdraw(self, sid: str) -> None: ...


def meeting_room(meeting: str) -> str:
    return f"m:{meeting}"


def room_room(meeting: str, room: str) -> str:
    return f"r:{meeting}:{room}"


def facilitators_room(meeting: str) -> str:
    return f"f:{meeting}"


def participant_room(meeting: str, participant: str) -> str:
    return f"p:{meeting}:{participant}"


def address(to: Audience) -> str | list[str]:
    """The Socket.IO room name(s) of an audience."""
    match to:
        case ToConnection(sid):
            return sid
        case ToParticipant(meeting, participant):
            return participant_room(meeting, participant)
        case ToRoom(meeting, room, False):
            return room_room(meeting, room)
        case ToRoom(meeting, room, True):
            return [room_room(meeting, room), facilitators_room(meeting)]
        case ToFacilitators(meeting):
            return facilitators_room(meeting)
        case ToMeeting(meeting):
            return meeting_room(meeting)
        case ToConnections(sids):
            return list(sids)
    raise TypeError(f"not an audience: {to!r}")


class SocketFanout:
    """The fan-out port over python-socketio rooms, resolved in this process."""

    def __init__(self, sio: SocketServer) -> None:
        self._sio = sio

    async def send(self, name: str, data: Any, to: Audience) -> None:
        await self._sio.fanout(name, data, to=address(to))

    def send_now(self, packets: Sequence[tuple[str, Any, Audience]]) -> bool:
        if not self._sio.delivers_here:
            return False
        self._sio.fanout_now([(name, data, address(to)) for name, data, to in packets])
        return True

    async def admit(self, sid: str, meeting: str, participant: str, room: str,
                    facilitator: bool) -> None:
        names = [meeting_room(meeting), room_room(meeting, room),
                 participant_room(meeting, participant)]
        if facilitator:
            names.append(facilitators_room(meeting))
        for name in names:
            await self._sio.enter_room(sid, name, NAMESPACE)

    async def move(self, meeting: str, moves: Mapping[str, str],
                   sids_of: Mapping[str, set[str]]) -> None:
        prefix = room_room(meeting, "")
        for pid, room in moves.items():
            for sid in list(sids_of.get(pid, ())):
                for old in self._sio.rooms(sid, NAMESPACE):
                    if old.startswith(prefix):
                        await self._sio.leave_room(sid, old, NAMESPACE)
                await self._sio.enter_room(sid, room_room(meeting, room), NAMESPACE)

    async def withdraw(self, sid: str) -> None:
        for name in self._sio.rooms(sid, NAMESPACE):
            if name != sid:
                await self._sio.leave_room(sid, name, NAMESPACE)

    async def disconnect(self, sid: str) -> None:
        await self._sio.disconnect(sid)

    async def close_with(self, sid: str, code: str, message: str) -> None:
        await self._sio.close_with(sid, code, message)


__all__: Sequence[str] = [
    "Audience", "Fanout", "SocketFanout", "ToConnection", "ToConnections", "ToFacilitators",
    "ToMeeting", "ToParticipant", "ToRoom", "address",
]
