"""Keeping and forgetting (see docs/privacy.md).

We **rewrite stored events** rather than encrypting personal fields with
per-person keys: the log is one SQLite file we own, every reader (live fold,
restart, review, exports, board replay) reads plain events, and a rewrite keeps
them all unchanged; per-person keys would put decryption in every reader and
still leave free pages and the WAL to scrub. After a rewrite the meeting's
snapshots are dropped (they are a cache of the fold), the meeting is reloaded
from its rewritten log, and the store overwrites freed pages (``secure_delete``),
truncates its WAL and vacuums.

* ``erase_participant``: their name becomes a pseudonym, title and sector go,
  their roster id is pseudonymised, and the text of every chat message and
  broadcast whose **actor** they are is removed; in board updates whose actor
  they are, every string they wrote is overwritten byte for byte (same length,
  so the Yjs update keeps its structure and the session its shape).
* ``strip_recording``: what a deleted recording leaves: the pseudonymised
  skeleton ``mix`` and the network figures need (who joined, from which
  municipality, by roster id, rounds with their groups), until the cohort ends.
"""

import hashlib
import hmac
from typing import Any

from pycrdt import Doc

from rooms import Event
from rooms.board import Board
from rooms.board.schema import ElementType
from rooms.events import (
    BoardUpdated,
    ChatSent,
    MeetingCreated,
    MeetingEnded,
    MeetingUpdated,
    ParticipantJoined,
    ParticipantLeft,
    RecordingDeleted,
    RoundBroadcast,
    RoundCancelled,
    RoundClosed,
    RoundClosing,
    RoundExtended,
    RoundMessaged,
    RoundMoved,
    RoundOpened,
    RoundPlaced,
    RoundPreviewed,
    RoundRegrouped,
)
from server.boards import TRUSTED

PSEUDONYM = "Deltagare"
SKELETON = frozenset({RecordingDeleted.TYPE, MeetingCreated.TYPE, MeetingUpdated.TYPE,
                      MeetingEnded.TYPE, ParticipantJoined.TYPE, ParticipantLeft.TYPE,
                      RoundPreviewed.TYPE, RoundRegrouped.TYPE, RoundOpened.TYPE, RoundPlaced.TYPE,
                      RoundMoved.TYPE, RoundExtended.TYPE, RoundClosing.TYPE, RoundClosed.TYPE,
                      RoundCancelled.TYPE})
TEXT_EVENTS = (ChatSent.TYPE, RoundBroadcast.TYPE, RoundMessaged.TYPE)


class UnknownPerson(LookupError):
    pass


def pseudonym(secret: str, meeting: str, pid: str) -> str:
    digest = hmac.new(secret.encode(), f"{meeting}:{pid}".encode(), hashlib.sha256)
    return f"{PSEUDONYM} {digest.hexdigest()[:6]}"


def pseudo_person(secret: str, person: str) -> str:
    """The same roster person gets the same pseudonym in every meeting of the cohort,
    so encounter history survives."""
    return "x" + hmac.new(secret.encode(), person.encode(), hashlib.sha256).hexdigest()[:15]


def erase_participant(events: list[Event], pid: str, secret: str, meeting: str) -> list[Event]:
    if not any(e.type == ParticipantJoined.TYPE and e.data["id"] == pid for e in events):
        raise UnknownPerson(pid)
    alias = pseudonym(secret, meeting, pid)
    out: list[Event] = []
    boards: dict[str, Board] = {}
    for e in events:
        data = e.data
        if e.type == ParticipantJoined.TYPE and data["id"] == pid:
            data = {**data, "name": alias, "title": None, "sector": None,
                    "person": pseudo_person(secret, data["person"]) if data.get("person")
                    else None, "erased": True}
        elif e.type in TEXT_EVENTS and e.actor == pid and "text" in data:
            data = {**data, "text": "", "erased": True}
        elif e.type == BoardUpdated.TYPE:
            board = boards.setdefault(data["room"], Board(TRUSTED))
            if e.actor == pid:
                data = {**data, "update": _redacted(board, data["update"])}
            board.apply(data["update"])
        out.append(Event(e.seq, e.ts, e.actor, e.type, data))
    return out


FREE_TEXT = ("text", "author")  # what a person writes; colours and types are validated
RESERVED = frozenset({*(t.value for t in ElementType), "type", "x", "y", "w", "h", "points",
                      "color", "width", "fill", "text", "author", "z", "elements"})


def _strings(board: Board) -> dict[str, set[str]]:
    return {el["id"]: {v for k, v in el.items() if k in FREE_TEXT and isinstance(v, str)}
            for el in board.elements()}


def _redacted(board: Board, update: bytes) -> bytes:
    """``update`` with every string it adds to the board overwritten (same byte length)."""
    trial = Board.from_state(board.state(), TRUSTED)
    before = _strings(trial)
    trial.apply(update)
    written: set[str] = set()
    for key, values in _strings(trial).items():
        written |= {v for v in values - before.get(key, set())
                    if v and v != key and v not in RESERVED}
    blob = bytes(update)
    for text in sorted(written, key=len, reverse=True):
        raw = text.encode()
        blob = blob.replace(_varuint(len(raw)) + raw, _varuint(len(raw)) + b"x" * len(raw))
    Doc().apply_update(blob)  # still a valid update
    return blob


def _varuint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def strip_recording(events: list[Event], secret: str, meeting: str) -> list[Event]:
    """The pseudonymised encounter skeleton of a meeting; seqs renumbered gap-free."""
    out: list[Event] = []
    for e in events:
        if e.type not in SKELETON:
            continue
        data: dict[str, Any] = e.data
        if e.type == ParticipantJoined.TYPE:
            # The roster id stays: a random id that names nobody without the roster,
            # and the cohort's later meetings (live ones too) know the person by it,
            # so ``mix`` and the network figures still see who met whom.
            data = {**data, "name": pseudonym(secret, meeting, data["id"]), "title": None,
                    "sector": None}
        elif "prompts" in data:  # the tasks go with the recording
            data = {**data, "prompts": []}
        out.append(Event(len(out) + 1, e.ts, e.actor, e.type, data))
    last = events[-1].ts if events else 0
    out.append(Event(len(out) + 1, last, "system", RecordingDeleted.TYPE, {}))
    return out


def own_data(events: list[Event], pid: str) -> dict[str, Any]:
    """GDPR Art. 15: what the log holds about one participant."""
    about = [e.to_wire() for e in events
             if e.actor == pid or e.data.get("id") == pid or e.data.get("participant") == pid]
    for e in about:
        if e["type"] == BoardUpdated.TYPE:
            e["data"] = {k: v for k, v in e["data"].items() if k != "update"}
            e["data"]["update_bytes"] = len(next(
                x.data["update"] for x in events if x.seq == e["seq"]))
    joined = next((e.data for e in events
                   if e.type == ParticipantJoined.TYPE and e.data["id"] == pid), None)
    return {"format": "ledarstig-own-data", "version": 1, "participant": pid,
            "profile": joined, "events": about}
