"""The board's element schema: what one entry of the `elements` map holds.

The CRDT itself accepts any value, so the server never rejects an update for
its field values; instead everything that reads elements (the renderers, the
prompt seeding) goes through `parse_element`, which validates and normalises.
See docs/whiteboard.md for the contract the browser client follows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeGuard

from .exceptions import ElementInvalid

ELEMENTS_KEY = "elements"
COORDINATE_LIMIT = 1e7
DEFAULT_COLOR = "#000000"
DEFAULT_STROKE_WIDTH = 2.0
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class ElementType(StrEnum):
    PEN = "pen"
    LINE = "line"
    RECT = "rect"
    ELLIPSE = "ellipse"
    ARROW = "arrow"
    STICKY = "sticky"
    TEXT = "text"


STROKE_TYPES = frozenset({ElementType.PEN, ElementType.LINE, ElementType.ARROW})
BOX_TYPES = frozenset({ElementType.RECT, ElementType.ELLIPSE, ElementType.STICKY, ElementType.TEXT})
_MIN_POINTS = {ElementType.PEN: 1, ElementType.LINE: 2, ElementType.ARROW: 2}


@dataclass(frozen=True)
class Element:
    """One validated board element; `points` are offsets from (x, y)."""

    id: str
    type: ElementType
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    points: tuple[float, ...] = ()
    color: str = DEFAULT_COLOR
    width: float = DEFAULT_STROKE_WIDTH
    fill: str | None = None
    text: str = ""
    author: str = ""
    z: float = 0.0

    def absolute_points(self) -> list[tuple[float, float]]:
        """The stroke's points in board coordinates."""
        pairs = zip(self.points[0::2], self.points[1::2], strict=True)
        return [(self.x + dx, self.y + dy) for dx, dy in pairs]

    def to_fields(self) -> dict[str, Any]:
        """The map fields a client would write for this element (no `id`)."""
        fields: dict[str, Any] = {"type": self.type.value, "x": self.x, "y": self.y}
        if self.type in BOX_TYPES:
            fields |= {"w": self.w, "h": self.h}
        if self.type in STROKE_TYPES:
            fields["points"] = list(self.points)
        fields |= {"color": self.color, "width": self.width, "author": self.author, "z": self.z}
        if self.fill is not None:
            fields["fill"] = self.fill
        if self.type in (ElementType.STICKY, ElementType.TEXT):
            fields["text"] = self.text
        return fields


def parse_element(raw: Mapping[str, Any]) -> Element:
    """Validate one snapshot entry (as returned by `Board.elements()`).

    Raises ElementInvalid naming the first offending field.
    """
    kind = _element_type(raw.get("type"))
    box = kind in BOX_TYPES
    return Element(
        id=_string(raw, "id", required=True),
        type=kind,
        x=_number(raw, "x", required=True),
        y=_number(raw, "y", required=True),
        w=_number(raw, "w", required=box),
        h=_number(raw, "h", required=box),
        points=_points(raw, kind),
        color=_color(raw, "color") or DEFAULT_COLOR,
        width=_stroke_width(raw),
        fill=_color(raw, "fill"),
        text=_string(raw, "text"),
        author=_string(raw, "author"),
        z=_number(raw, "z"),
    )


def _element_type(value: Any) -> ElementType:
    try:
        return ElementType(value)
    except ValueError:
        raise ElementInvalid(f"Element type {value!r} is not one of the board types.") from None


def _number(raw: Mapping[str, Any], key: str, *, required: bool = False) -> float:
    value = raw.get(key)
    if value is None and not required:
        return 0.0
    if not _is_coordinate(value):
        raise ElementInvalid(f"Element field {key!r} must be a finite number, got {value!r}.")
    return float(value)


def _is_coordinate(value: Any) -> TypeGuard[float]:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return math.isfinite(value) and abs(value) <= COORDINATE_LIMIT


def _string(raw: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = raw.get(key, None if required else "")
    if not isinstance(value, str):
        raise ElementInvalid(f"Element field {key!r} must be a string, got {value!r}.")
    return value


def _color(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        raise ElementInvalid(f"Element field {key!r} must be a #rrggbb colour, got {value!r}.")
    return value.lower()


def _stroke_width(raw: Mapping[str, Any]) -> float:
    width = _number(raw, "width") if raw.get("width") is not None else DEFAULT_STROKE_WIDTH
    if width <= 0:
        raise ElementInvalid(f"Element field 'width' must be positive, got {width!r}.")
    return width


def _points(raw: Mapping[str, Any], kind: ElementType) -> tuple[float, ...]:
    if kind not in STROKE_TYPES:
        return ()
    value = raw.get("points")
    if not isinstance(value, list) or len(value) % 2 or not all(map(_is_coordinate, value)):
        raise ElementInvalid("Element field 'points' must be a flat list of x, y offsets.")
    if len(value) < 2 * _MIN_POINTS[kind]:
        raise ElementInvalid(f"A {kind.value} needs at least {_MIN_POINTS[kind]} points.")
    return tuple(float(v) for v in value)
