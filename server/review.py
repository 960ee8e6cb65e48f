"""Review of a recorded session: access, the state at any moment, events, exports.

The state at a moment is the same fold as the live server (``facilitation.session``),
started from the nearest checkpoint: the index folds a meeting's log once, keeps an
encoded ``Session`` every ``CHECKPOINT_EVERY`` events and every event's time, and
grows as the log does. A moment is a log position (``seq``) or a server time
(``at``, ms): the state after the last event at or before it.

Who may review: a signed-in organiser (session cookie), the admin token
(``Authorization: Bearer``, for scripts), or that meeting's facilitator with the
resume token their client holds (``Authorization: Bearer`` or ``?key=``).
"""

import asyncio
import bisect
import hmac
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from pycrdt import Doc, Map

from facilitation.session import Session, fold
from rooms import Event, Role
from rooms.board import to_svg
from rooms.board.board import ELEMENTS_KEY
from server.keys import CREDENTIALS, HUB, TOKENS
from server.live import LiveMeeting
from server.organisers import WORKSPACE
from server.organisers.sessions import COOKIE
from server.state import decode_snapshot, encode_snapshot
from server.store import LogStore
from server.tokens import TokenError

CHECKPOINT_EVERY = 2000
BOARD_CHECKPOINT_EVERY = 500  # a room's board updates between its stored checkpoints
BATCH = 5000
SVG_CACHE_CHARS = 16_000_000  # the board SVGs kept for scrubbing and playing
EXPORT_VERSION = 1

# The event list's filters: a name the reviewer picks -> the event types it covers.
FILTERS: dict[str, tuple[str, ...]] = {
    "chat": ("chat.",),
    "rounds": ("round.",),
    "presence": ("presence.", "participant."),
    "hands": ("hand.", "hands."),
    "reactions": ("reaction.",),
    "boards": ("board.",),
    "media": ("media.", "stage."),
    "help": ("help.",),
}
JUMPS = {"round": ("round.opened",), "help": ("help.requested",), "chat": ("chat.sent",)}


class Replica:
    """A board as the log replays it, without the live board's checks (the log holds
    only updates the live server accepted): a bare Yjs document, rendered through
    ``Board`` once at the end."""

    def __init__(self, state: bytes | None = None) -> None:
        self.doc: Doc = Doc()
        if state is not None:
            self.doc.apply_update(state)

    def apply(self, update: bytes) -> None:
        self.doc.apply_update(update)

    def state(self) -> bytes:
        return self.doc.get_update()

    def elements(self) -> list[dict[str, Any]]:
        """As ``Board.elements``: every element with its id, by z then id."""
        entries = json.loads(str(self.doc.get(ELEMENTS_KEY, type=Map)))
        found = [{**v, "id": k} for k, v in entries.items() if isinstance(v, dict)]
        return sorted(found, key=_stacking)


def _stacking(fields: dict[str, Any]) -> tuple[float, str]:
    z = fields.get("z")
    ok = isinstance(z, int | float) and not isinstance(z, bool) and z == z
    return (float(z) if ok else 0.0), str(fields["id"])


class ReviewError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def problem(exc: ReviewError) -> web.Response:
    return web.json_response({"error": {"code": exc.code, "message": exc.message}},
                             status=exc.status)


# -- access -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    kind: str  # "organiser" | "admin" | "facilitator"
    key: str | None = None  # a facilitator's token, carried on to the page's requests


def reviewer(request: web.Request, meeting_id: str) -> Reviewer:
    """Who asks, if they may review ``meeting_id``; else 401 (no credential) or 403.
    Nothing about the meeting is disclosed before this passes."""
    workspace = request.app[WORKSPACE]
    if workspace.sessions.get(request.cookies.get(COOKIE), workspace.clock.now_ms()):
        return Reviewer("organiser")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    bearer = given.strip() if scheme.lower() == "bearer" else ""
    if bearer and hmac.compare_digest(bearer.encode(),
                                      request.app[CREDENTIALS].admin_token.encode()):
        return Reviewer("admin")
    key = bearer or request.query.get("key", "")
    if not key:
        raise ReviewError(401, "unauthorized", "Sign in as an organiser, or use a "
                          "facilitator's link.")
    try:
        resume = request.app[TOKENS].read_resume(key)
    except TokenError as exc:
        raise ReviewError(401, "unauthorized", "That key is not valid (any more).") from exc
    try:
        live = request.app[HUB].get(meeting_id)
    except Exception as exc:
        raise ReviewError(403, "forbidden", "You may not review that meeting.") from exc
    me = live.state.meeting.participants.get(resume.participant)
    if resume.meeting != meeting_id or me is None or me.role is not Role.FACILITATOR:
        raise ReviewError(403, "forbidden", "You may not review that meeting.")
    return Reviewer("facilitator", key)


def meeting_of(request: web.Request) -> tuple[LiveMeeting, Reviewer]:
    meeting_id = request.match_info["meeting"]
    who = reviewer(request, meeting_id)
    try:
        return request.app[HUB].get(meeting_id), who
    except Exception as exc:
        raise ReviewError(404, "meeting_not_found", "There is no such meeting.") from exc


# -- the index: checkpoints and times -----------------------------------------------


@dataclass
class Index:
    head: int = 0
    ts: list[int] = field(default_factory=list)  # ts[i] is the time of event i + 1
    checkpoints: list[int] = field(default_factory=lambda: [0])
    blobs: dict[int, bytes] = field(default_factory=dict)
    tail: Session = field(default_factory=Session)
    boards: dict[str, Replica] = field(default_factory=dict)
    board_counts: dict[str, int] = field(default_factory=dict)
    board_checkpoints: dict[str, list[int]] = field(default_factory=dict)
    board_seqs: dict[str, list[int]] = field(default_factory=dict)  # every update's seq

    def seq_at(self, at: int) -> int:
        """The last event at or before server time ``at``."""
        return bisect.bisect_right(self.ts, at)


class Review:
    def __init__(self, store: LogStore) -> None:
        self.store = store
        self._indexes: dict[str, Index] = {}
        self._svgs: OrderedDict[tuple[str, str, int], str] = OrderedDict()

    async def svg_at(self, live: LiveMeeting, room: str, seq: int) -> str:
        """The board's SVG after event ``seq``; cached by the board's own last update,
        so scrubbing and playing redraw a board only when it changed."""
        idx = await self.index(live)
        updates = idx.board_seqs.get(room, [])
        version = updates[bisect.bisect_right(updates, seq) - 1] if updates and \
            updates[0] <= seq else 0
        key = (live.id, room, version)
        if key in self._svgs:
            self._svgs.move_to_end(key)
            return self._svgs[key]
        board = await self.board_at(live, room, version)
        svg = await asyncio.to_thread(to_svg, board.elements())
        if len(svg) <= SVG_CACHE_CHARS // 4:  # a huge board is not worth pushing out others
            self._svgs[key] = svg
        while sum(len(v) for v in self._svgs.values()) > SVG_CACHE_CHARS:
            self._svgs.popitem(last=False)
        return svg

    async def index(self, live: LiveMeeting) -> Index:
        idx = self._indexes.setdefault(live.id, Index())
        upto = live.durable
        while idx.head < upto:
            events = await read_range(self.store, live.id, idx.head, upto)
            if not events:
                break
            for event in events:
                idx.tail.apply(event)
                idx.ts.append(event.ts)
                if event.seq % CHECKPOINT_EVERY == 0:
                    idx.checkpoints.append(event.seq)
                    idx.blobs[event.seq] = encode_snapshot(idx.tail)
                if event.type == "board.updated":
                    await self._board_event(live.id, idx, event)
            idx.head = events[-1].seq
        return idx

    async def _board_event(self, meeting: str, idx: Index, event: Event) -> None:
        """Keep every room's board; now and then store a checkpoint of it, so a board
        at any moment replays at most ``BOARD_CHECKPOINT_EVERY`` of its updates."""
        room = event.data["room"]
        board = idx.boards.setdefault(room, Replica())
        board.apply(event.data["update"])
        idx.board_seqs.setdefault(room, []).append(event.seq)
        count = idx.board_counts[room] = idx.board_counts.get(room, 0) + 1
        if count % BOARD_CHECKPOINT_EVERY == 0:
            await self.store.save_snapshot(_board_key(meeting, room, event.seq), event.seq,
                                           board.state())
            idx.board_checkpoints.setdefault(room, []).append(event.seq)

    async def board_at(self, live: LiveMeeting, room: str, seq: int) -> Replica:
        idx = await self.index(live)
        marks = idx.board_checkpoints.get(room, [])
        at = bisect.bisect_right(marks, seq)
        board, after = Replica(), 0
        if at:
            snap = await self.store.latest_snapshot(_board_key(live.id, room, marks[at - 1]))
            if snap is not None:
                board, after = Replica(snap[1]), snap[0]
        updates = idx.board_seqs.get(room, [])
        wanted = updates[bisect.bisect_right(updates, after):bisect.bisect_right(updates, seq)]
        reader = getattr(self.store, "read_seqs", None)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            events = (await reader(live.id, chunk) if reader is not None else
                      [e for e in await read_range(self.store, live.id, chunk[0] - 1,
                                                   chunk[-1], chunk[-1] - chunk[0] + 1)
                       if e.seq in set(chunk)])
            for e in events:
                board.apply(e.data["update"])
        return board

    def forget(self, meeting: str) -> None:
        self._indexes.pop(meeting, None)
        for key in [k for k in self._svgs if k[0] == meeting]:
            del self._svgs[key]

    async def state_at(self, live: LiveMeeting, seq: int) -> Session:
        idx = await self.index(live)
        base = idx.checkpoints[bisect.bisect_right(idx.checkpoints, seq) - 1]
        state = decode_snapshot(idx.blobs[base]) if base else Session()
        assert state is not None
        after = base
        while after < seq:
            events = await read_range(self.store, live.id, after, seq)
            if not events:
                break
            fold(events, state)
            after = events[-1].seq
        return state

    async def moment(self, request: web.Request, live: LiveMeeting) -> int:
        """The ``seq`` the request's ``seq`` or ``at`` names (the end by default)."""
        idx = await self.index(live)
        seq_text, at_text = request.query.get("seq"), request.query.get("at")
        if seq_text is not None:
            seq = whole(seq_text)
            if seq is None or not 1 <= seq <= idx.head:
                raise ReviewError(400, "moment_outside",
                                  f"seq must be a whole number from 1 to {idx.head}.")
            return seq
        if at_text is not None:
            at = whole(at_text)
            if at is None or not idx.ts or not idx.ts[0] <= at <= max(idx.ts[-1],
                                                                      idx.ts[0]) + 86_400_000:
                raise ReviewError(400, "moment_outside",
                                  "at must be a server time (ms) inside the session.")
            return max(1, idx.seq_at(at))
        return idx.head


def _board_key(meeting: str, room: str, seq: int) -> str:
    return f"{meeting}#review#{room}#{seq}"  # erasure drops every ``meeting#`` snapshot


async def read_range(store: LogStore, meeting: str, after: int, upto: int,
                     limit: int = BATCH) -> list[Event]:
    reader = getattr(store, "read_range", None)
    if reader is not None:
        return list(await reader(meeting, after, upto, limit))
    return [e for e in await store.read(meeting, after) if e.seq <= upto][:limit]


def whole(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def type_filter(text: str | None) -> tuple[str, ...] | None:
    """``types=chat,rounds`` -> the event-type prefixes; None for every event."""
    if not text:
        return None
    names = text.split(",")
    unknown = [n for n in names if n not in FILTERS]
    if unknown:
        raise ReviewError(400, "invalid_filter",
                          f"Unknown filter {unknown[0][:40]!r}; use {', '.join(FILTERS)}.")
    return tuple(p for n in names for p in FILTERS[n])


# -- what the player shows ------------------------------------------------------------


def review_view(s: Session, at: int) -> dict[str, Any]:
    """The session at one moment, as a reviewer sees it: every room with its members
    (online or not), the round and its clock, every room's chat, the boards."""
    m = s.meeting
    rooms = []
    for room in m.rooms.values():
        if not room.open:
            continue
        members = [{"id": p.id, "name": p.name, "municipality": p.municipality,
                    "role": p.role.value, "online": p.id in s.online}
                   for p in m.participants.values() if p.present and p.room == room.id]
        rooms.append({"id": room.id, "name": room.name, "kind": room.kind.value,
                      "members": members,
                      "chat": [{"seq": c.seq, "ts": c.ts, "author": c.author,
                                "name": _name(s, c.author), "text": c.text}
                               for c in m.chat.get(room.id, [])],
                      "board_updates": s.board_updates.get(room.id, 0)})
    current = s.current() or (s.rounds[-1] if s.rounds else None)
    clock = None
    if current is not None and current.deadline is not None and current.opened_at is not None:
        clock = {"opened_at": current.opened_at, "deadline": current.deadline,
                 "remaining_ms": max(0, current.deadline - at) if current.live else 0}
    return {
        "seq": s.seq, "at": at,
        "meeting": {"id": m.id, "title": m.title, "starts_at": m.starts_at,
                    "ended": m.ended},
        "rooms": rooms,
        "round": msgspec.to_builtins(current) if current is not None else None,
        "clock": clock,
        "hands": list(m.hands),
        "help": [msgspec.to_builtins(h) for h in s.help.values()],
        "online": sorted(s.online),
    }


def _name(s: Session, pid: str) -> str:
    p = s.meeting.participants.get(pid)
    return p.name if p is not None else pid


# -- streamed exports -------------------------------------------------------------------


async def events_of(store: LogStore, meeting: str, upto: int) -> AsyncIterator[list[Event]]:
    after = 0
    while after < upto:
        batch = await read_range(store, meeting, after, upto)
        if not batch:
            return
        yield batch
        after = batch[-1].seq


def export_header(live: LiveMeeting, head: int) -> dict[str, Any]:
    m = live.state.meeting
    return {"format": "ledarstig-timeline", "version": EXPORT_VERSION, "meeting": m.id,
            "title": m.title, "starts_at": m.starts_at, "events": head}


def jsonl_lines(batch: list[Event]) -> bytes:
    enc = msgspec.json.encode
    return b"".join(enc(e) + b"\n" for e in batch)


def msgpack_records(batch: list[Event]) -> bytes:
    enc = msgspec.msgpack.encode
    return b"".join(enc(e) for e in batch)
