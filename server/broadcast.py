"""Delivering log events to the Socket.IO rooms that may see them.

Socket.IO room names: ``m:<meeting>`` every joined connection of a meeting,
``r:<meeting>:<room>`` the members of one room, ``f:<meeting>`` the
facilitators, ``p:<meeting>:<participant>`` one participant's connections.
"""

from collections.abc import Sequence
from typing import Any

from rooms import Event, audience, moves_of
from server.connections import Connections
from server.sio import NAMESPACE, SocketServer


def meeting_room(meeting: str) -> str:
    return f"m:{meeting}"


def room_room(meeting: str, room: str) -> str:
    return f"r:{meeting}:{room}"


def facilitators_room(meeting: str) -> str:
    return f"f:{meeting}"


def participant_room(meeting: str, participant: str) -> str:
    return f"p:{meeting}:{participant}"


class SocketBroadcaster:
    def __init__(self, sio: SocketServer, conns: Connections) -> None:
        self._sio = sio
        self._conns = conns

    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        for event in events:
            moves = moves_of(event)
            if moves:
                await self._move(meeting, moves)
            await self._sio.fanout("event", event.to_wire(), to=self.target(meeting, event))

    async def emit_ephemeral(self, meeting: str, name: str, data: dict[str, Any]) -> None:
        """Something that is not a change of the meeting (presence, typing)."""
        await self._sio.fanout(name, data, to=meeting_room(meeting))

    @staticmethod
    def target(meeting: str, event: Event) -> str | list[str]:
        aud = audience(event.type, event.data)
        if aud.room is None:
            return meeting_room(meeting)
        if aud.facilitators:
            return [room_room(meeting, aud.room), facilitators_room(meeting)]
        return room_room(meeting, aud.room)

    async def _move(self, meeting: str, moves: dict[str, str]) -> None:
        prefix = room_room(meeting, "")
        online = self._conns.online_set(meeting)
        for pid, room in moves.items():
            for sid in list(online.get(pid, ())):
                for old in self._sio.rooms(sid, NAMESPACE):
                    if old.startswith(prefix):
                        await self._sio.leave_room(sid, old, NAMESPACE)
                await self._sio.enter_room(sid, room_room(meeting, room), NAMESPACE)
