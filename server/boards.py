"""Whiteboards: each live meeting's boards, folded in the same commit as its state.

``MeetingBoards`` belongs to a ``LiveMeeting``: every ``board.updated`` it commits is
applied to the room's board right there (``fold``), so the board and the state can
never disagree, and a client update the board refuses is never committed. A board
is read from the log when first used (its latest board snapshot, the updates after
it, and those committed since that are not durable yet). A meeting reloaded from its
log gets fresh boards: one reload path. Board snapshots are saved by the hub with the
meeting's own snapshot, only when nothing is in flight: one snapshot policy.

``Boards`` is the HTTP side's view: a live board, or the log's board at a seq.
"""

import asyncio
from typing import TYPE_CHECKING

from rooms import Event
from rooms.board import EMPTY_UPDATE, Board, BoardLimits
from rooms.events import BoardUpdated
from server.store import LogStore, StoreError

if TYPE_CHECKING:
    from server.hub import Hub
    from server.live import LiveMeeting

SNAPSHOT_EVERY = 500
TRUSTED = BoardLimits(max_update_bytes=1 << 30, max_elements=1 << 30,
                      max_backlog_bytes=1 << 30)
#: Updates the server wrote itself: applied without the client limits.
SERVER_ORIGINS = frozenset({"clear", "prompt"})


def snapshot_key(meeting: str, room: str) -> str:
    return f"{meeting}#board#{room}"


async def replay(store: LogStore, meeting: str, room: str,
                 upto: int | None = None) -> tuple[Board, int]:
    """The board as the log says (optionally as it was after event ``upto``), and the
    last seq read. The log holds only updates the live server accepted, so they are
    replayed without the client limits (a facilitator's clear can exceed them, and
    the limits may have been lowered since)."""
    after = 0
    board = Board(TRUSTED)
    snap = await store.latest_snapshot(snapshot_key(meeting, room))
    if snap is not None and (upto is None or snap[0] <= upto):
        after, board = snap[0], Board.from_state(snap[1], TRUSTED)
    last = after
    for event in await store.read(meeting, after):
        if upto is not None and event.seq > upto:
            break
        last = event.seq
        if _is_update_of(event, room):
            board.apply(event.data["update"])
    return board, last


class MeetingBoards:
    def __init__(self, live: "LiveMeeting", store: LogStore, limits: BoardLimits) -> None:
        self._live, self._store, self._limits = live, store, limits
        self._boards: dict[str, Board] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._since_snapshot: dict[str, int] = {}

    def loaded(self, room: str) -> bool:
        return room in self._boards

    def fold(self, event: Event, absorbed: bool = False) -> None:
        """Apply a ``board.updated`` to its loaded board (raises, changing nothing, if a
        client's update is refused). Called by ``LiveMeeting.commit``; ``absorbed``: an
        update another process appended (``LiveMeeting.absorb``), accepted there."""
        if event.type != BoardUpdated.TYPE:
            return
        room = event.data["room"]
        board = self._boards.get(room)
        trusted = absorbed or event.data.get("origin") in SERVER_ORIGINS
        if board is None:
            if not trusted:  # the handler loads it first; a reload came in between
                raise StoreError("The board could not be read; try again.")
            return  # read from the log, with this update, when first used
        if trusted:
            board.apply_trusted(event.data["update"])
        else:
            board.apply(event.data["update"])
        self._since_snapshot[room] = self._since_snapshot.get(room, 0) + 1

    async def of(self, room: str) -> Board:
        """The room's live board, read from the log if this is its first use."""
        board = self._boards.get(room)
        if board is not None:
            return board
        async with self._locks.setdefault(room, asyncio.Lock()):
            if room not in self._boards:
                self._boards[room] = await self._load(room)
            return self._boards[room]

    async def state_of(self, room: str) -> bytes:
        """The room's whole board as one update. A board the log has never written is
        empty: its update is known without building a document for it (every join
        sends its room's board, and most rooms' boards are never drawn on)."""
        if room not in self._boards and room not in self._live.state.board_updates:
            return EMPTY_UPDATE
        return (await self.of(room)).state()

    async def _load(self, room: str) -> Board:
        live = self._live
        if room not in live.state.board_updates:
            return Board(self._limits)  # the log has no update for it: nothing to read
        while True:
            board, last = await replay(self._store, live.id, room)
            missed = live.since(last)  # committed meanwhile, perhaps not durable yet
            if missed is not None:
                break
        for event in missed:
            if _is_update_of(event, room):
                board.apply(event.data["update"])
        return Board.from_state(board.state(), self._limits)

    def due_snapshots(self) -> list[tuple[str, bytes]]:
        """Rooms whose board took ``SNAPSHOT_EVERY`` updates since its last snapshot,
        with their compacted state."""
        due = [room for room, n in self._since_snapshot.items()
               if n >= SNAPSHOT_EVERY and room in self._boards]
        for room in due:
            self._since_snapshot[room] = 0
        return [(room, self._boards[room].compact()) for room in due]

    def drop(self, rooms: set[str]) -> None:
        """Drop these rooms' boards from memory: read from the log when next used (they
        folded updates the store refused, which a CRDT cannot take back)."""
        for room in rooms:
            self._boards.pop(room, None)
            self._since_snapshot.pop(room, None)

    def forget(self) -> None:
        """Drop every board from memory (the meeting ended; they stay in the log)."""
        self._boards.clear()
        self._since_snapshot.clear()


class Boards:
    """Boards for the HTTP side: a live meeting's, or the log's at some seq."""

    def __init__(self, store: LogStore, hub: "Hub") -> None:
        self._store, self._hub = store, hub

    async def get(self, meeting: str, room: str) -> Board:
        return await self._hub.get(meeting).boards.of(room)

    async def replay(self, meeting: str, room: str, upto: int | None = None) -> Board:
        return (await replay(self._store, meeting, room, upto))[0]


def _is_update_of(event: Event, room: str) -> bool:
    return event.type == BoardUpdated.TYPE and event.data.get("room") == room
