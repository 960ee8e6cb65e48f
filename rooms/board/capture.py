"""Capture the update a server-side change produces, for broadcast and persistence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc, TransactionEvent, merge_updates

EMPTY_UPDATE = b"\x00\x00"


def capture_update(doc: Doc[Any], change: Callable[[], None]) -> bytes:
    """Run `change` in one transaction on `doc` and return exactly the update it made.

    Observing the transaction is preferred to diffing state vectors: a
    `get_update(state_vector)` diff carries the document's whole delete set,
    which grows with the board's history, while the event carries only this
    transaction's deletions.
    """
    captured: list[bytes] = []

    def keep(event: TransactionEvent) -> None:
        captured.append(event.update)

    subscription = doc.observe(keep)
    try:
        with doc.transaction():
            change()
    finally:
        doc.unobserve(subscription)
    return merge_updates(*captured) if captured else EMPTY_UPDATE
