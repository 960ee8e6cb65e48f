"""Delivering log events to the Socket.IO rooms that may see them.

Socket.IO room names: ``m:<meeting>`` every joined connection of a meeting,
``r:<meeting>:<room>`` the members of one room, ``f:<meeting>`` the
facilitators, ``p:<meeting>:<participant>`` one participant's connections.
"""

from collections.abc import Sequence
from typing import Any

from rooms import Event, audience
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
            if event.type == "participant.moved":
                await self._move(meeting, event.data)
            await self._sio.emit("event", event.to_wire(), to=self.target(meeting, event))

    async def emit_ephemeral(self, meeting: str, name: str, data: dict[str, Any]) -> None:
        """Something that is not a change of the meeting (presence, typing)."""
        await self._sio.emit(name, data, to=meeting_room(meeting))

    @staticmethod
    def target(meeting: str, event: Event) -> str | list[str]:
        aud = audience(event.type, event.data)
        if aud.room is None:
            return meeting_room(meeting)
        if aud.facilitators:
            return [room_room(meeting, aud.room), facilitators_room(meeting)]
        return room_room(meeting, aud.room)

    async def _move(self, meeting: str, data: dict[str, Any]) -> None:
        for sid in self._conns.sids_of(meeting, data["id"]):
            if data.get("from"):
                await self._sio.leave_room(sid, room_room(meeting, data["from"]), NAMESPACE)
            await self._sio.enter_room(sid, room_room(meeting, data["room"]), NAMESPACE)
