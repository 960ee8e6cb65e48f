"""The authoritative whiteboards of every room, kept as a fold of the log.

A board is built when first used: from its latest board snapshot (a
compacted state) plus the ``board.updated`` events after it. Every accepted
update is applied here in log order, inside the command that appends it.
"""

from rooms import Event
from rooms.board import Board, BoardLimits
from server.store import LogStore

SNAPSHOT_EVERY = 500
TRUSTED = BoardLimits(max_update_bytes=1 << 30, max_elements=1 << 30,
                      max_backlog_bytes=1 << 30)


def snapshot_key(meeting: str, room: str) -> str:
    return f"{meeting}#board#{room}"


class Boards:
    def __init__(self, store: LogStore, limits: BoardLimits) -> None:
        self._store = store
        self._limits = limits
        self._boards: dict[tuple[str, str], Board] = {}
        self._since_snapshot: dict[tuple[str, str], int] = {}

    async def get(self, meeting: str, room: str, written: bool = True) -> Board:
        """The live board; ``written=False`` (the log has no update for the room yet)
        skips reading the log."""
        key = (meeting, room)
        board = self._boards.get(key)
        if board is None:
            if written:
                replayed = await self.replay(meeting, room)
                board = Board.from_state(replayed.state(), self._limits)
            else:
                board = Board(self._limits)
            board = self._boards.setdefault(key, board)
        return board

    async def replay(self, meeting: str, room: str, upto: int | None = None) -> Board:
        """The board as the log says, optionally as it was after event ``upto``.

        The log holds only updates the live server accepted, so they are replayed
        without the client limits (a facilitator's clear can exceed them, and the
        limits may have been lowered since)."""
        after = 0
        board = Board(TRUSTED)
        snap = await self._store.latest_snapshot(snapshot_key(meeting, room))
        if snap is not None and (upto is None or snap[0] <= upto):
            after, board = snap[0], Board.from_state(snap[1], TRUSTED)
        for event in await self._store.read(meeting, after):
            if upto is not None and event.seq > upto:
                break
            if _is_update_of(event, room):
                board.apply(event.data["update"])
        return board

    async def after_update(self, meeting: str, room: str, seq: int) -> None:
        """Count an accepted update; now and then persist a compacted state."""
        key = (meeting, room)
        self._since_snapshot[key] = self._since_snapshot.get(key, 0) + 1
        if self._since_snapshot[key] >= SNAPSHOT_EVERY:
            self._since_snapshot[key] = 0
            state = self._boards[key].compact()
            await self._store.save_snapshot(snapshot_key(meeting, room), seq, state)

    def forget_room(self, meeting: str, room: str) -> None:
        """Cluster: another process changed this board; rebuild it from the log."""
        self._boards.pop((meeting, room), None)

    def forget_meeting(self, meeting: str) -> None:
        for key in [k for k in self._boards if k[0] == meeting]:
            del self._boards[key]


def _is_update_of(event: Event, room: str) -> bool:
    return event.type == "board.updated" and event.data.get("room") == room
