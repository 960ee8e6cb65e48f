"""A pycrdt stand-in for the browser client, and element factories."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pycrdt import Array, Doc, Map

from rooms.board import ELEMENTS_KEY, capture_update
from rooms.board.backlog import Backlog
from rooms.board.update_v1 import decode_state_vector, summarize_update


def stroke(
    x: float, y: float, *, z: float = 1, color: str = "#e11d48", n: int = 20
) -> dict[str, Any]:
    points = [float(c) for i in range(n) for c in (i * 3, (i * 7) % 11)]
    return {
        "type": "pen",
        "x": x,
        "y": y,
        "points": points,
        "color": color,
        "width": 2,
        "author": "p1",
        "z": z,
    }


def rect(
    x: float,
    y: float,
    *,
    w: float = 100,
    h: float = 60,
    z: float = 1,
    color: str = "#16a34a",
    fill: str | None = "#bbf7d0",
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": "rect",
        "x": x,
        "y": y,
        "w": w,
        "h": h,
        "color": color,
        "width": 2,
        "author": "p1",
        "z": z,
    }
    if fill is not None:
        fields["fill"] = fill
    return fields


def as_map(fields: dict[str, Any]) -> Map[Any]:
    return Map({k: Array(v) if isinstance(v, list) else v for k, v in fields.items()})


class Client:
    """A participant's document: edits locally, records its own updates.

    Remote updates go through the board's causal backlog, as the server's do,
    because pycrdt 0.14 (yrs 0.28) can lose map values when fed out of order;
    the browser's Yjs buffers such updates itself.
    """

    def __init__(self, client_id: int) -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.root: Map[Any] = self.doc.get(ELEMENTS_KEY, type=Map)
        self.sent: list[bytes] = []
        self._inbox = Backlog(max_bytes=1 << 30)

    def change(self, change: Callable[[], None]) -> bytes:
        update = capture_update(self.doc, change)
        self.sent.append(update)
        return update

    def add(self, element_id: str, fields: dict[str, Any]) -> bytes:
        return self.change(lambda: self.root.__setitem__(element_id, as_map(fields)))

    def move(self, element_id: str, x: float, y: float) -> bytes:
        def move() -> None:
            element = self.root[element_id]
            element["x"], element["y"] = x, y

        return self.change(move)

    def delete(self, element_id: str) -> bytes:
        return self.change(lambda: self.root.__delitem__(element_id))

    def set_text(self, element_id: str, text: str) -> bytes:
        return self.change(lambda: self.root[element_id].__setitem__("text", text))

    def receive(self, update: bytes) -> None:
        self._inbox.park(update, summarize_update(update, ELEMENTS_KEY))
        while (ready := self._inbox.take_ready(self._clocks())) is not None:
            self.doc.apply_update(ready.update)

    def _clocks(self) -> dict[int, int]:
        return decode_state_vector(self.doc.get_state())

    def elements(self) -> list[dict[str, Any]]:
        entries = json.loads(str(self.root))
        return sorted(
            ({**v, "id": k} for k, v in entries.items()),
            key=lambda e: (float(e.get("z", 0)), e["id"]),
        )
