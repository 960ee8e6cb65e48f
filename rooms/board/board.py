"""One room's shared whiteboard: a pycrdt document guarded by admission rules.

An update is admitted in four steps, none of which touches the document until
the update is known to be acceptable:

1. size: longer than `max_update_bytes` -> UpdateTooLarge;
2. structure: walked by `update_v1` and decoded by yrs -> UpdateUndecodable;
3. causality: updates whose dependencies are missing wait in the backlog;
4. element cap: the walk yields an upper bound on new top-level keys.  If the
   bound fits the headroom the update is applied directly (O(update)); only
   otherwise is it replayed on a scratch copy to count exactly (O(board)).

If yrs still fails half-way (a decodable but inconsistent update), the document
is rebuilt from the journal, so a rejected update never leaves a trace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map, get_state

from .backlog import Backlog
from .capture import capture_update
from .exceptions import BoardFull, StateVectorInvalid, UpdateTooLarge, UpdateUndecodable
from .journal import Journal
from .prompt import PROMPT_ELEMENT_ID, prompt_update
from .schema import ELEMENTS_KEY
from .shared import element_map
from .update_v1 import UpdateSummary, decode_state_vector, summarize_update

ElementSnapshot = dict[str, Any]


@dataclass(frozen=True)
class BoardLimits:
    """Bounds on what clients may push into one board."""

    max_update_bytes: int = 64 * 1024
    max_elements: int = 20_000
    max_backlog_bytes: int = 1024 * 1024


TRUSTED_COPY = BoardLimits(max_update_bytes=1 << 30, max_elements=1 << 30,
                           max_backlog_bytes=1 << 30)


class Board:
    """A room's whiteboard document; synchronous and free of I/O."""

    def __init__(self, limits: BoardLimits, *, client_id: int | None = None) -> None:
        self._limits = limits
        self._doc: Doc[Any] = Doc(client_id=client_id)
        self._root: Map[Any] = self._doc.get(ELEMENTS_KEY, type=Map)
        self._journal = Journal()
        self._backlog = Backlog(limits.max_backlog_bytes)

    @classmethod
    def from_state(
        cls, state: bytes, limits: BoardLimits, *, client_id: int | None = None
    ) -> Board:
        """Load a persisted state; limits apply to later client updates only."""
        board = cls(limits, client_id=client_id)
        _check_yrs_decodes(state)
        board._integrate(state)
        board._journal.checkpoint(board.state())
        return board

    @property
    def limits(self) -> BoardLimits:
        return self._limits

    @property
    def client_id(self) -> int:
        """The Yjs client id of server-side changes (`clear`)."""
        return self._doc.client_id

    @property
    def element_count(self) -> int:
        """Number of keys in `elements`, the quantity the cap applies to."""
        return len(self._root)

    @property
    def backlog_size(self) -> int:
        """Updates accepted but waiting for the updates they depend on."""
        return len(self._backlog)

    def apply(self, update: bytes) -> None:
        """Integrate a client update, or raise and leave the board unchanged.

        Raises UpdateTooLarge, UpdateUndecodable, BoardFull or BacklogFull.
        """
        self._check_size(update)
        summary = self._summarize(update)
        if summary.is_ready(self._clocks()):
            self._admit(update, summary)
            self._drain_backlog()
        else:
            self._park(update, summary)

    def apply_trusted(self, update: bytes) -> None:
        """Integrate an update the server made itself (a clear, a prompt): the client
        limits do not apply. Raises UpdateUndecodable and leaves the board unchanged."""
        _check_yrs_decodes(update)
        self._integrate(update)
        self._drain_backlog()

    def cleared(self) -> bytes:
        """The update that would remove every element, leaving this board unchanged."""
        return Board.from_state(self.state(), TRUSTED_COPY).clear()

    def state(self) -> bytes:
        """The whole board as one update, for late joiners and persistence."""
        return self._doc.get_update()

    def state_vector(self) -> bytes:
        return self._doc.get_state()

    def diff(self, state_vector: bytes) -> bytes:
        """What a peer at `state_vector` is missing (sync step 2)."""
        decode_state_vector(state_vector)
        try:
            return self._doc.get_update(state_vector)
        except ValueError as exc:
            raise StateVectorInvalid("The bytes are not a Yjs state vector.") from exc

    def elements(self) -> list[ElementSnapshot]:
        """Plain snapshot of every element (with its `id`), sorted by z then id."""
        entries = json.loads(str(self._root))
        snapshot = [
            {**fields, "id": key} for key, fields in entries.items() if isinstance(fields, dict)
        ]
        return sorted(snapshot, key=_stacking_key)

    def compact(self) -> bytes:
        """Re-encode the board through a fresh document and return it as one update.

        yrs already garbage-collects deleted content on commit; the round trip
        additionally squashes adjacent deleted runs.  Item ids are kept, so live
        clients are unaffected; only `rebased()` drops the remaining tombstones.
        """
        self._journal.checkpoint(self.state())
        self._restore()
        state = self.state()
        self._journal.checkpoint(state)
        return state

    def rebased(self, *, client_id: int | None = None) -> Board:
        """A new board with the same elements and no history or tombstones.

        Its items have new ids, so every client must drop its copy and load
        the new state; use it between rounds, never on a live board.  Pass a
        32-bit `client_id` (as Yjs picks) to keep every encoded id short.
        """
        board = Board(self._limits, client_id=client_id)
        snapshot = self.elements()

        def copy() -> None:
            for fields in snapshot:
                element_id = fields.pop("id")
                board._root[element_id] = element_map(fields)

        board._journal.record(capture_update(board._doc, copy))
        return board

    def seed_prompt(self, text: str, author: str, *, element_id: str = PROMPT_ELEMENT_ID) -> bytes:
        """Add the round's prompt note; returns the (deterministic) update to broadcast."""
        update = prompt_update(text, author, element_id)
        self.apply(update)
        return update

    def clear(self) -> bytes:
        """Remove every element (facilitator action); returns the update to broadcast."""

        def remove_all() -> None:
            for key in list(self._root.keys()):
                del self._root[key]

        update = capture_update(self._doc, remove_all)
        self._record(update)
        return update

    def _check_size(self, update: bytes) -> None:
        limit = self._limits.max_update_bytes
        if len(update) > limit:
            raise UpdateTooLarge(f"The update has {len(update)} bytes; the limit is {limit}.")

    def _park(self, update: bytes, summary: UpdateSummary) -> None:
        if not self._backlog.holds(update):
            self._reserve(summary.key_bound)
            self._backlog.park(update, summary)

    def _summarize(self, update: bytes) -> UpdateSummary:
        summary = summarize_update(update, ELEMENTS_KEY)
        _check_yrs_decodes(update)
        return summary

    def _clocks(self) -> dict[int, int]:
        return decode_state_vector(self._doc.get_state())

    def _reserve(self, new_keys: int) -> None:
        """Raise BoardFull unless `new_keys` more keys fit beside the backlog's."""
        if self._projected(0) + new_keys > self._limits.max_elements:
            raise BoardFull(f"The board is limited to {self._limits.max_elements} elements.")

    def _projected(self, extra: int) -> int:
        return self.element_count + self._backlog.reserved_keys + extra

    def _admit(self, update: bytes, summary: UpdateSummary) -> None:
        if self._projected(summary.key_bound) > self._limits.max_elements:
            exact = self._count_after(update) + self._backlog.reserved_keys
            if exact > self._limits.max_elements:
                raise BoardFull(f"The board is limited to {self._limits.max_elements} elements.")
        self._integrate(update)

    def _count_after(self, update: bytes) -> int:
        """Exact element count after `update`, measured on a scratch copy."""
        scratch: Doc[Any] = Doc()
        scratch.apply_update(self.state())
        try:
            scratch.apply_update(update)
        except BaseException as exc:
            if not _is_yrs_failure(exc):
                raise
            raise UpdateUndecodable("yrs cannot integrate the update.") from exc
        return len(scratch.get(ELEMENTS_KEY, type=Map))

    def _integrate(self, update: bytes) -> None:
        try:
            self._doc.apply_update(update)
        except BaseException as exc:
            if not _is_yrs_failure(exc):
                raise
            self._restore()
            raise UpdateUndecodable("yrs cannot integrate the update.") from exc
        self._record(update)

    def _record(self, update: bytes) -> None:
        self._journal.record(update)
        if self._journal.checkpoint_due():
            self._journal.checkpoint(self.state())

    def _restore(self) -> None:
        self._doc = self._journal.rebuild(self._doc.client_id)
        self._root = self._doc.get(ELEMENTS_KEY, type=Map)

    def _drain_backlog(self) -> None:
        while self._backlog and (parked := self._backlog.take_ready(self._clocks())):
            try:
                self._integrate(parked.update)
            except UpdateUndecodable:
                continue  # the sender's update was inconsistent; it is dropped


def _check_yrs_decodes(update: bytes) -> None:
    try:
        get_state(update)
    except ValueError as exc:
        raise UpdateUndecodable("yrs cannot decode the update.") from exc


def _is_yrs_failure(exc: BaseException) -> bool:
    # A Rust panic surfaces as pyo3's PanicException, which derives from
    # BaseException and cannot be imported, hence the name check.
    return isinstance(exc, ValueError | RuntimeError) or type(exc).__name__ == "PanicException"


def _stacking_key(fields: ElementSnapshot) -> tuple[float, str]:
    z = fields.get("z")
    if isinstance(z, int | float) and not isinstance(z, bool) and z == z:
        return float(z), str(fields["id"])
    return 0.0, str(fields["id"])
