"""Whiteboards: updates from room members, the full board of a room, clearing, showing
and the gallery. The full board on entering a room and the prompts seeded when a round
opens are effects (``server.effects``: ``SendBoard``, ``SeedPrompts``)."""

from functools import partial
from typing import Any
from urllib.parse import quote

from facilitation.planning import can_read_board
from facilitation.rounds import Phase
from facilitation.session import Session
from rooms import Draft
from rooms.commands import present, require_facilitator
from rooms.events import BoardShown, BoardUpdated
from rooms.exceptions import Forbidden, NotInRoom, UnknownRoom
from server import protocol as p
from server.connections import Connection
from server.gateway import Gateway
from server.handlers.command import Command


async def update(gw: Gateway, conn: Connection, msg: p.BoardUpdate) -> dict[str, Any]:
    """The board is read first; the commit applies the update to it (``MeetingBoards.fold``)
    or refuses it, and then nothing is logged."""
    live = gw.hub.get(conn.meeting)
    room = present(live.state.meeting, gw.pid(conn)).room
    await live.boards.of(room)

    def decide(s: Session, pid: str) -> list[Draft]:
        if present(s.meeting, pid).room != room:
            raise NotInRoom("You have moved to another room.")
        return [BoardUpdated(room=room, update=msg.update)]
    return await gw.run(conn, decide)


async def fetch(gw: Gateway, conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
    live = gw.hub.get(conn.meeting)
    state = live.state
    if msg.room not in state.meeting.rooms:
        raise UnknownRoom("There is no such room.")
    if not can_read_board(state, gw.pid(conn), msg.room):
        raise Forbidden("That board is not open to you yet.")
    board = await live.boards.of(msg.room)
    return {"room": msg.room, "update": board.state(),
            "export": gw.tokens.export(conn.meeting, gw.pid(conn))}


async def clear(gw: Gateway, conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
    live = gw.hub.get(conn.meeting)
    require_facilitator(live.state.meeting, gw.pid(conn))
    _require_room(live.state, msg.room)
    board = await live.boards.of(msg.room)

    def decide(s: Session, pid: str) -> list[Draft]:
        require_facilitator(s.meeting, pid)
        return [BoardUpdated(room=msg.room, update=board.cleared(), origin="clear")]
    return await gw.run(conn, decide)


async def show(gw: Gateway, conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
    def decide(s: Session, pid: str) -> list[Draft]:
        require_facilitator(s.meeting, pid)
        _require_room(s, msg.room)
        return [BoardShown(room=msg.room)]
    return await gw.run(conn, decide)


async def gallery(gw: Gateway, conn: Connection, msg: p.Gallery) -> dict[str, Any]:
    live = gw.hub.get(conn.meeting)
    state = live.state
    pid = gw.pid(conn)
    closed = [r for r in state.rounds if r.phase is Phase.CLOSED]
    chosen = next((r for r in closed if r.id == msg.round), None) if msg.round else \
        (closed[-1] if closed else None)
    if chosen is None:
        return {"boards": []}
    export = quote(gw.tokens.export(conn.meeting, pid))
    items = []
    for index, room in enumerate(chosen.rooms):
        board = await live.boards.of(room)
        base = f"/api/meetings/{conn.meeting}/boards/{room}"
        items.append({"room": room, "name": str(index + 1), "round": chosen.id,
                      "elements": board.element_count,
                      "svg": f"{base}.svg?export={export}",
                      "png": f"{base}.png?export={export}"})
    return {"boards": items}


def _require_room(s: Session, room: str) -> None:
    if room not in s.meeting.rooms:
        raise UnknownRoom("There is no such room.")


def commands(gw: Gateway) -> list[Command]:
    return [
        Command("board.update", p.BoardUpdate, partial(update, gw)),
        Command("board.fetch", p.RoomRef, partial(fetch, gw)),
        Command("board.clear", p.RoomRef, partial(clear, gw)),
        Command("board.show", p.RoomRef, partial(show, gw)),
        Command("board.gallery", p.Gallery, partial(gallery, gw)),
    ]
