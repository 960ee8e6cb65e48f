"""Review of a recorded session: access, the state at any moment, events, exports.

The state at a moment is the same fold as the live server (``facilitation.session``),
started from the nearest checkpoint: the index folds a meeting's log once, keeps an
encoded ``Session`` every ``CHECKPOINT_EVERY`` events and every event's time, and
grows as the log does. A moment is a log position (``seq``) or a server time
(``at``, ms): the state after the last event at or before it.

Who may review: a signed-in organiser (session cookie), the admin token
(``Authorization: Bearer``, for scripts), or that meeting's facilitator: a roster
person with the facilitator role through their personal link (see ``reviewer``).
"""

import asyncio
import bisect
import contextlib
import hmac
import json
import logging
import time
import zlib
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from pycrdt import Doc, Map, merge_updates

from facilitation.session import Session, fold
from rooms import Event, Role
from rooms.board import to_svg
from rooms.board.board import ELEMENTS_KEY
from rooms.events import BoardUpdated, ChatSent, HelpRequested, RoundOpened
from server.keys import CREDENTIALS, HUB, TOKENS
from server.live import LiveMeeting
from server.organisers import WORKSPACE
from server.organisers.sessions import COOKIE
from server.state import decode_snapshot, encode_snapshot
from server.store import LogStore
from server.tokens import TokenError

log = logging.getLogger("ledarstig.review")
INDEX_VERSION = 2  # 2: every stored blob zlib-compressed
CHECKPOINT_EVERY = 2000  # events between stored checkpoints of the fold
# A room's board updates between its stored checkpoints: a small board is cheap to store
# often; a big one (the plenary's, megabytes) is stored less often, at most every
# BOARD_CHECKPOINT_EVERY updates: one per BOARD_BYTES_PER_UPDATE bytes of its last one.
BOARD_CHECKPOINT_EVERY = 1000
BOARD_CHECKPOINT_MIN = 200
BOARD_BYTES_PER_UPDATE = 1500
MANIFEST_EVERY = 20_000  # a live meeting's index is stored again after this many events
SLICE_S = 0.02  # building gives the event loop back at least this often
READ_BATCH = 1000  # events a build reads at once (the store's thread is shared)
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
JUMPS = {"round": (RoundOpened.TYPE,), "help": (HelpRequested.TYPE,), "chat": (ChatSent.TYPE,)}


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
    Nothing about the meeting is disclosed before this passes.

    The key (``Authorization: Bearer`` or ``?key=``) of a facilitator is, for a meeting
    of a workspace cohort, their personal link: the cohort link ``/p/{token}`` or the
    meeting's personal token (``p.…``) of a roster person who facilitates that meeting
    (role facilitator, or named among the meeting's facilitators), checked against the
    roster (revoked, cohort ended). For a meeting outside any workspace cohort it is
    the resume token of a participant with the facilitator role (no roster to ask)."""
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
                          "facilitator's personal link.")
    tokens = request.app[TOKENS]
    forbidden = ReviewError(403, "forbidden", "You may not review that meeting.")
    try:
        if key.startswith("p."):
            invite = tokens.read_invite(key)
            person, cohort = invite.person, None
        else:
            try:
                link = tokens.read_cohort_link(key)
                person, cohort, invite = link.person, link.cohort, None
            except TokenError:
                resume = tokens.read_resume(key)
                person, cohort, invite = None, None, None
    except TokenError as exc:
        raise ReviewError(401, "unauthorized", "That key is not valid (any more).") from exc
    try:
        live = request.app[HUB].get(meeting_id)
    except Exception as exc:
        raise forbidden from exc
    m = live.state.meeting
    in_workspace = _workspace_cohort(workspace, m.cohort)
    if person is not None:  # a roster person's personal link
        if not in_workspace or (invite is not None and invite.meeting != meeting_id) or \
                (cohort is not None and cohort != m.cohort):
            raise forbidden
        try:
            found = workspace.person(m.cohort, person,
                                     invite.link if invite is not None else link.link)
        except Exception as exc:  # revoked, removed, the cohort has ended
            raise ReviewError(401, "unauthorized", "That link no longer works.") from exc
        if not found.facilitates(m.facilitators):
            raise forbidden
        return Reviewer("facilitator", key)
    me = m.participants.get(resume.participant)
    if in_workspace or resume.meeting != meeting_id or me is None or \
            me.role is not Role.FACILITATOR:
        raise forbidden
    return Reviewer("facilitator", key)


def _workspace_cohort(workspace: Any, cohort: str) -> bool:
    if not cohort:
        return False
    try:
        workspace.cohort(cohort)
    except Exception:
        return False
    return True


def meeting_of(request: web.Request) -> tuple[LiveMeeting, Reviewer]:
    meeting_id = request.match_info["meeting"]
    who = reviewer(request, meeting_id)
    try:
        return request.app[HUB].get(meeting_id), who
    except Exception as exc:
        raise ReviewError(404, "meeting_not_found", "There is no such meeting.") from exc


# -- the index: checkpoints and times -----------------------------------------------


class _Manifest(msgspec.Struct):
    """What a stored index holds besides its checkpoints (``{meeting}#review#index``)."""

    version: int
    head: int
    ts: bytes  # array('q'): the time of every event
    checkpoints: list[int]
    board_seqs: dict[str, bytes]  # array('q'): every board update's seq, per room
    board_checkpoints: dict[str, list[int]]


@dataclass
class Index:
    """Where a meeting's checkpoints are and every event's time. ``tail`` and
    ``boards`` (the fold and the boards at ``head``) exist only while it grows."""

    head: int = 0
    ts: "array[int]" = field(default_factory=lambda: array("q"))
    checkpoints: list[int] = field(default_factory=lambda: [0])
    board_seqs: "dict[str, array[int]]" = field(default_factory=dict)
    board_checkpoints: dict[str, list[int]] = field(default_factory=dict)
    tail: Session | None = None
    boards: dict[str, Replica] = field(default_factory=dict)
    board_since: dict[str, int] = field(default_factory=dict)  # updates since its checkpoint
    board_size: dict[str, int] = field(default_factory=dict)  # bytes of its last checkpoint
    saved: int = -1  # the head the stored manifest has
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dead: bool = False  # forgotten (its meeting is being rewritten): stop building

    def seq_at(self, at: int) -> int:
        """The last event at or before server time ``at``."""
        return bisect.bisect_right(self.ts, at)

    def manifest(self) -> bytes:
        return msgspec.msgpack.encode(_Manifest(
            INDEX_VERSION, self.head, self.ts.tobytes(), self.checkpoints,
            {r: a.tobytes() for r, a in self.board_seqs.items()}, self.board_checkpoints))

    @classmethod
    def load(cls, blob: bytes) -> "Index | None":
        try:
            m = msgspec.msgpack.decode(blob, type=_Manifest)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if m.version != INDEX_VERSION:
            return None
        idx = cls(head=m.head, checkpoints=m.checkpoints,
                  board_checkpoints=m.board_checkpoints, saved=m.head)
        idx.ts.frombytes(m.ts)
        for room, seqs in m.board_seqs.items():
            idx.board_seqs[room] = array("q", seqs)
        return idx if len(idx.ts) == idx.head else None


class Review:
    """The review index of every meeting: built when a meeting ends (and, after a
    restart, in the background for ended meetings without one), grown on demand for a
    live meeting, stored through the store's snapshots so a restart reads it back
    instead of folding the log again. Building gives the event loop back every
    ``SLICE_S``."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self._indexes: dict[str, Index] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._blocked: set[str] = set()
        self._svgs: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- building ------------------------------------------------------------------

    async def index(self, live: LiveMeeting) -> Index:
        """The meeting's index, up to everything durable now."""
        idx = await self._get(live.id)
        if idx.head < live.durable:
            async with idx.lock:
                await self._grow(live, idx, live.durable)
        return idx

    async def _get(self, meeting: str) -> Index:
        if meeting in self._blocked:
            raise ReviewError(409, "being_rewritten",
                              "The meeting is being rewritten; try again in a moment.")
        idx = self._indexes.get(meeting)
        if idx is not None:
            return idx
        async with self._loading.setdefault(meeting, asyncio.Lock()):
            idx = self._indexes.get(meeting)
            if idx is None:
                stored = await self.store.latest_snapshot(_key(meeting, "index"))
                idx = (Index.load(_unpack(stored[1])) if stored is not None else None) \
                    or Index()
                if meeting in self._blocked:
                    raise ReviewError(409, "being_rewritten",
                                      "The meeting is being rewritten; try again in a moment.")
                self._indexes[meeting] = idx
        return idx

    async def build(self, live: LiveMeeting) -> None:
        """Bring the index to the meeting's end and store it (a meeting has ended, or
        an ended meeting has none after a restart); errors are logged, not raised."""
        try:
            await live.drained()
            idx = await self.index(live)
            async with idx.lock:
                await self._save(live, idx)
        except ReviewError as exc:
            log.info("review index of %s not built now: %s", live.id, exc.message)
        except Exception:
            log.exception("building the review index of %s failed", live.id)

    def build_later(self, live: LiveMeeting) -> None:
        self.spawn(self.build(live), f"review-index-{live.id}")

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Once every build under way (and any it started) has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def build_missing(self, meetings: list[LiveMeeting]) -> None:
        """After a restart: every ended meeting whose stored index is missing or short."""
        for live in meetings:
            if live.state.meeting.ended and live.id not in self._blocked:
                await self.build(live)

    async def _save(self, live: LiveMeeting, idx: Index) -> None:
        if idx.dead:
            return
        if idx.saved != idx.head:
            await self.store.save_snapshot(_key(live.id, "index"), idx.head,
                                           await _pack(idx.manifest()))
            idx.saved = idx.head
        if live.state.meeting.ended and idx.head >= live.durable:
            # Done growing: only what moments need stays. Freeing a big board's document
            # takes a while: one at a time, the event loop in between.
            idx.tail, boards, idx.boards = None, idx.boards, {}
            while boards:
                boards.popitem()
                await asyncio.sleep(0.001)

    async def _grow(self, live: LiveMeeting, idx: Index, upto: int) -> None:
        """Fold events ``idx.head + 1 .. upto`` into the index, in slices."""
        if idx.head >= upto or idx.dead:
            return
        if idx.tail is None:
            await self._resume(live.id, idx)
        assert idx.tail is not None
        # Checkpoints to store, each with the list that names it once it is stored (so a
        # moment asked for meanwhile never looks for one that is not there yet).
        saves: list[tuple[str, int, bytes, list[int]]] = []
        while idx.head < upto:
            events = await read_range(self.store, live.id, idx.head, upto, READ_BATCH)
            if not events or idx.dead:
                return
            at, started = 0, time.perf_counter()
            while at < len(events):
                event = events[at]
                at += 1
                idx.tail.apply(event)
                idx.ts.append(event.ts)
                idx.head = event.seq
                if event.type == BoardUpdated.TYPE:
                    self._board_event(live.id, idx, event, saves)
                if event.seq % CHECKPOINT_EVERY == 0:
                    saves.append((_key(live.id, "state", event.seq), event.seq,
                                  encode_snapshot(idx.tail), idx.checkpoints))
                if saves or time.perf_counter() - started > SLICE_S:
                    for key, seq, blob, marks in saves:
                        if idx.dead:
                            return
                        await self.store.save_snapshot(key, seq, await _pack(blob))
                        marks.append(seq)
                    saves.clear()
                    # A timer, not sleep(0): what is due (a timer of a live meeting, a
                    # request) runs before the next slice, not after it.
                    await asyncio.sleep(0.001)
                    started = time.perf_counter()
                    if idx.dead:
                        return
        if live.state.meeting.ended or idx.head - max(idx.saved, 0) >= MANIFEST_EVERY:
            await self._save(live, idx)

    def _board_event(self, meeting: str, idx: Index, event: Event,
                     saves: list[tuple[str, int, bytes, list[int]]]) -> None:
        """Keep every room's board; now and then store a checkpoint of it, so a board
        at any moment is a checkpoint plus fewer than ``BOARD_CHECKPOINT_EVERY`` updates."""
        room = event.data["room"]
        board = idx.boards.get(room)
        if board is None:
            board = idx.boards[room] = Replica()
        board.apply(event.data["update"])
        idx.board_seqs.setdefault(room, array("q")).append(event.seq)
        since = idx.board_since[room] = idx.board_since.get(room, 0) + 1
        every = min(BOARD_CHECKPOINT_EVERY, max(BOARD_CHECKPOINT_MIN,
                                                idx.board_size.get(room, 0)
                                                // BOARD_BYTES_PER_UPDATE))
        if since >= every:
            state = board.state()
            saves.append((_board_key(meeting, room, event.seq), event.seq, state,
                          idx.board_checkpoints.setdefault(room, [])))
            idx.board_since[room], idx.board_size[room] = 0, len(state)

    async def _resume(self, meeting: str, idx: Index) -> None:
        """A stored index that must grow (its meeting went on after a restart): the
        fold and the boards at its head, from the nearest checkpoints."""
        idx.tail = await self._fold_to(meeting, idx, idx.head) if idx.head else Session()
        idx.boards = {}
        for room, seqs in idx.board_seqs.items():
            idx.boards[room] = await self._replay(meeting, idx, room, idx.head)
            marks = idx.board_checkpoints.get(room, [])
            idx.board_since[room] = len(seqs) - bisect.bisect_right(seqs, marks[-1]) \
                if marks else len(seqs)

    def rewriting(self, meeting: str) -> AbstractAsyncContextManager[None]:
        """Hold review off a meeting while its log is rewritten (erasure, a deleted
        recording, retention): its index stops building and is dropped before, and no
        request builds one meanwhile. Indexing an ended meeting again after is the
        caller's (a removal by retention must not)."""
        return _Rewriting(self, meeting)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def forget(self, meeting: str) -> Index | None:
        idx = self._indexes.pop(meeting, None)
        if idx is not None:
            idx.dead = True
        for key in [k for k in self._svgs if k[0] == meeting]:
            del self._svgs[key]
        return idx

    # -- moments ---------------------------------------------------------------------

    async def state_at(self, live: LiveMeeting, seq: int) -> Session:
        idx = await self.index(live)
        return await self._fold_to(live.id, idx, seq)

    async def _fold_to(self, meeting: str, idx: Index, seq: int) -> Session:
        """The nearest stored checkpoint at or before ``seq``, and the events after it."""
        base = idx.checkpoints[bisect.bisect_right(idx.checkpoints, seq) - 1]
        state: Session | None = Session()
        if base:
            stored = await self.store.latest_snapshot(_key(meeting, "state", base))
            state = decode_snapshot(_unpack(stored[1])) if stored is not None else None
            if state is None or state.seq != base:
                raise ReviewError(409, "being_rewritten",
                                  "The review index is being rebuilt; try again in a moment.")
        after = base
        while after < seq:
            events = await read_range(self.store, meeting, after, seq)
            if not events:
                break
            fold(events, state)
            after = events[-1].seq
        return state

    async def board_updates_at(self, live: LiveMeeting, room: str, seq: int) -> list[bytes]:
        """A board at a moment as Yjs updates: its nearest stored checkpoint and the
        updates after it, merged. Applied to an empty document in any order, they make
        the board as it was after event ``seq``; no CRDT work on the big document."""
        idx = await self.index(live)
        base, checkpoint = await self._board_checkpoint(live.id, idx, room, seq)
        tail = [e.data["update"] for e in await self._board_tail(live.id, idx, room, base, seq)]
        out = [checkpoint] if checkpoint is not None else []
        if tail:
            out.append(merge_updates(*tail) if len(tail) > 1 else tail[0])
        return out

    async def _board_checkpoint(self, meeting: str, idx: Index, room: str,
                                seq: int) -> tuple[int, bytes | None]:
        marks = idx.board_checkpoints.get(room, [])
        at = bisect.bisect_right(marks, seq)
        if at:
            stored = await self.store.latest_snapshot(_board_key(meeting, room, marks[at - 1]))
            if stored is None:
                raise ReviewError(409, "being_rewritten",
                                  "The review index is being rebuilt; try again in a moment.")
            blob = _unpack(stored[1])
            if not blob:
                raise ReviewError(409, "being_rewritten",
                                  "The review index is being rebuilt; try again in a moment.")
            return stored[0], blob
        return 0, None

    async def _board_tail(self, meeting: str, idx: Index, room: str, after: int,
                          seq: int) -> list[Event]:
        updates = idx.board_seqs.get(room, array("q"))
        wanted = list(updates[bisect.bisect_right(updates, after):
                              bisect.bisect_right(updates, seq)])
        reader = getattr(self.store, "read_seqs", None)
        out: list[Event] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            out += (await reader(meeting, chunk) if reader is not None else
                    [e for e in await read_range(self.store, meeting, chunk[0] - 1,
                                                 chunk[-1], chunk[-1] - chunk[0] + 1)
                     if e.seq in set(chunk)])
        return out

    async def _replay(self, meeting: str, idx: Index, room: str, seq: int) -> Replica:
        base, checkpoint = await self._board_checkpoint(meeting, idx, room, seq)
        updates = [e.data["update"] for e in await self._board_tail(meeting, idx, room,
                                                                    base, seq)]

        def replay() -> Replica:
            board = Replica(checkpoint)
            for update in updates:
                board.apply(update)
            return board
        return await asyncio.to_thread(replay)

    async def board_at(self, live: LiveMeeting, room: str, seq: int) -> Replica:
        idx = await self.index(live)
        return await self._replay(live.id, idx, room, seq)

    async def svg_at(self, live: LiveMeeting, room: str, seq: int) -> str:
        """The board's SVG after event ``seq``; cached by the board's own last update,
        so scrubbing and playing redraw a board only when it changed."""
        idx = await self.index(live)
        updates = idx.board_seqs.get(room, array("q"))
        version = updates[bisect.bisect_right(updates, seq) - 1] if updates and \
            updates[0] <= seq else 0
        key = (live.id, room, version)
        if key in self._svgs:
            self._svgs.move_to_end(key)
            return self._svgs[key]
        board = await self.board_at(live, room, version)
        svg = await asyncio.to_thread(lambda: to_svg(board.elements()))
        if len(svg) <= SVG_CACHE_CHARS // 4:  # a huge board is not worth pushing out others
            self._svgs[key] = svg
        while sum(len(v) for v in self._svgs.values()) > SVG_CACHE_CHARS:
            self._svgs.popitem(last=False)
        return svg

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


class _Rewriting:
    def __init__(self, review: Review, meeting: str) -> None:
        self.review, self.meeting = review, meeting

    async def __aenter__(self) -> None:
        self.review._blocked.add(self.meeting)
        idx = self.review.forget(self.meeting)
        if idx is not None:
            async with idx.lock:  # the build notices ``dead`` within a slice and stops
                pass

    async def __aexit__(self, *exc: object) -> None:
        self.review._blocked.discard(self.meeting)
        self.review.forget(self.meeting)


async def _pack(blob: bytes) -> bytes:
    """Stored index blobs are compressed (a fold's checkpoint is mostly chat, a board's
    mostly repeated keys: 4-6× smaller); zlib gives the GIL up, so off the loop."""
    return await asyncio.to_thread(zlib.compress, blob, 1)


def _unpack(blob: bytes) -> bytes:
    try:
        return zlib.decompress(blob)
    except zlib.error:
        return b""  # not ours (an older index): fails to decode, and is built again


def _key(meeting: str, kind: str, seq: int | None = None) -> str:
    # Stored as snapshots named ``{meeting}#review#…``: a rewrite of the meeting's log
    # (erasure, a deleted recording) drops every ``{meeting}#`` snapshot with it.
    return f"{meeting}#review#{kind}" + (f"#{seq}" if seq is not None else "")


def _board_key(meeting: str, room: str, seq: int) -> str:
    return _key(meeting, f"board#{room}", seq)


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
