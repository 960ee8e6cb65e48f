"""Whiteboards: updates from room members, the full board on entering a room,
prompts seeded when a round opens, clearing, showing and the gallery."""

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from facilitation.planning import can_read_board
from facilitation.rounds import Phase
from facilitation.session import Session
from rooms import SYSTEM, Draft, Event, moves_of
from rooms.board import Board
from rooms.commands import present, require_facilitator
from rooms.events import BoardShown, BoardUpdated
from rooms.exceptions import Forbidden, NotInRoom, UnknownRoom
from server import protocol as p
from server.boards import Boards
from server.connections import Connection
from server.gateway import Gateway
from server.live import LiveMeeting


def register(gw: Gateway, boards: Boards) -> None:
    async def board_of(meeting: str, room: str) -> Board:
        written = room in gw.hub.get(meeting).state.board_updates
        return await boards.get(meeting, room, written)

    async def update(conn: Connection, msg: p.BoardUpdate) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        room = present(state.meeting, gw.pid(conn)).room
        board = await board_of(conn.meeting, room)

        def decide(s: Session, pid: str) -> list[Draft]:
            if present(s.meeting, pid).room != room:
                raise NotInRoom("You have moved to another room.")
            board.apply(msg.update)
            return [BoardUpdated(room=room, update=msg.update)]
        answer = await gw.run(conn, decide)
        await boards.after_update(conn.meeting, room, answer["seq"])
        return answer

    async def fetch(conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        if msg.room not in state.meeting.rooms:
            raise UnknownRoom("There is no such room.")
        if not can_read_board(state, gw.pid(conn), msg.room):
            raise Forbidden("That board is not open to you yet.")
        board = await board_of(conn.meeting, msg.room)
        return {"room": msg.room, "update": board.state(),
                "export": gw.tokens.export(conn.meeting, gw.pid(conn))}

    async def clear(conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        require_facilitator(state.meeting, gw.pid(conn))
        _require_room(state, msg.room)
        board = await board_of(conn.meeting, msg.room)

        def decide(s: Session, pid: str) -> list[Draft]:
            require_facilitator(s.meeting, pid)
            return [BoardUpdated(room=msg.room, update=board.clear(), origin="clear")]
        return await gw.run(conn, decide)

    async def show(conn: Connection, msg: p.RoomRef) -> dict[str, Any]:
        def decide(s: Session, pid: str) -> list[Draft]:
            require_facilitator(s.meeting, pid)
            _require_room(s, msg.room)
            return [BoardShown(room=msg.room)]
        return await gw.run(conn, decide)

    async def gallery(conn: Connection, msg: p.Gallery) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        pid = gw.pid(conn)
        closed = [r for r in state.rounds if r.phase is Phase.CLOSED]
        chosen = next((r for r in closed if r.id == msg.round), None) if msg.round else \
            (closed[-1] if closed else None)
        if chosen is None:
            return {"boards": []}
        export = quote(gw.tokens.export(conn.meeting, pid))
        items = []
        for index, room in enumerate(chosen.rooms):
            board = await board_of(conn.meeting, room)
            base = f"/api/meetings/{conn.meeting}/boards/{room}"
            items.append({"room": room, "name": str(index + 1), "round": chosen.id,
                          "elements": board.element_count,
                          "svg": f"{base}.svg?export={export}",
                          "png": f"{base}.png?export={export}"})
        return {"boards": items}

    async def send_state(sid: str, meeting: str, room: str) -> None:
        board = await board_of(meeting, room)
        await gw.sio.fanout("board.state", {"room": room, "update": board.state(),
                                          "seq": gw.hub.get(meeting).state.seq}, to=sid)

    async def on_attach(conn: Connection) -> None:
        me = gw.hub.get(conn.meeting).state.meeting.participants[gw.pid(conn)]
        await send_state(conn.sid, conn.meeting, me.room)

    async def on_events(live: LiveMeeting, events: Sequence[Event]) -> None:
        for event in events:
            fresh = {spec["id"] for spec in event.data.get("opens", ())}
            for pid, room in moves_of(event).items():
                if room in fresh:
                    continue  # a new room's board is empty; its seed follows as an event
                for sid in gw.conns.sids_of(live.id, pid):
                    await send_state(sid, live.id, room)
            if event.type == "round.opened":
                await seed_prompts(live, event)
            elif event.type == "meeting.ended":
                boards.forget_meeting(live.id)  # still in the log, for review

    async def seed_prompts(live: LiveMeeting, opened: Event) -> None:
        rooms = opened.data["rooms"]
        seeds = [(room, text) for room, text in zip(rooms, opened.data["prompts"], strict=True)
                 if text]
        loaded = {room: await board_of(live.id, room) for room, _ in seeds}
        if not seeds:
            return

        def decide(s: Session) -> list[Draft]:
            return [BoardUpdated(room=room, origin="prompt",
                                 update=loaded[room].seed_prompt(text, SYSTEM))
                    for room, text in seeds]
        await gw.hub.execute(live.id, SYSTEM, decide)

    gw.command("board.update", p.BoardUpdate, update)
    gw.command("board.fetch", p.RoomRef, fetch)
    gw.command("board.clear", p.RoomRef, clear)
    gw.command("board.show", p.RoomRef, show)
    gw.command("board.gallery", p.Gallery, gallery)
    gw.on_attach.append(on_attach)
    gw.hub.listeners.append(on_events)
    gw.hub.reloaded.append(boards.forget_meeting)  # a reloaded meeting's boards follow its log


def _require_room(s: Session, room: str) -> None:
    if room not in s.meeting.rooms:
        raise UnknownRoom("There is no such room.")
