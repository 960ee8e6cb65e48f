"""The accepted updates since the last checkpoint, enough to rebuild the document.

yrs can raise half-way through integrating a decodable but inconsistent update
(for example a parent id that names a non-container item), leaving part of it
applied.  Yjs has no rollback, so the board keeps this journal and rebuilds the
document from it when that happens.  The journal is checkpointed to a single
merged state whenever it has grown past the size of the last checkpoint, so its
cost stays proportional to the board and rebuilding never replays a long tail.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, merge_updates

from .capture import EMPTY_UPDATE

_MIN_CHECKPOINT_INTERVAL = 256 * 1024


class Journal:
    """Checkpoint plus the updates accepted after it."""

    def __init__(self, checkpoint: bytes = EMPTY_UPDATE) -> None:
        self._checkpoint = checkpoint
        self._entries: list[bytes] = []
        self._entry_bytes = 0

    @property
    def entry_count(self) -> int:
        return len(self._entries)

    def record(self, update: bytes) -> None:
        self._entries.append(update)
        self._entry_bytes += len(update)

    def checkpoint_due(self) -> bool:
        """True once the tail outweighs the checkpoint (amortised O(1) per byte)."""
        return self._entry_bytes > max(len(self._checkpoint), _MIN_CHECKPOINT_INTERVAL)

    def checkpoint(self, state: bytes) -> None:
        self._checkpoint = state
        self._entries.clear()
        self._entry_bytes = 0

    def rebuild(self, client_id: int) -> Doc[Any]:
        """A document holding exactly the journaled updates."""
        doc: Doc[Any] = Doc(client_id=client_id)
        doc.apply_update(merge_updates(self._checkpoint, *self._entries))
        return doc
