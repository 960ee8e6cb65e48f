"""Geometry shared by the SVG and PNG renderers, so both draw the same picture."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from .schema import BOX_TYPES, Element, ElementType

MARGIN = 24.0
EMPTY_SIZE = 64.0
BACKGROUND = "#ffffff"
STICKY_FILL = "#fff3a3"
STICKY_BORDER = "#d4c36a"
FONT_SIZE = 16.0
LINE_HEIGHT = 1.25
CHAR_WIDTH = 0.6  # average glyph advance, in em, used for wrapping
STICKY_PADDING = 12.0
ARROW_LENGTH = 4.0  # arrowhead length in stroke widths; half as wide each side
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Point = tuple[float, float]


@dataclass(frozen=True)
class Bounds:
    """An axis-aligned box in board coordinates."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float

    @property
    def width(self) -> float:
        return self.max_x - self.min_x

    @property
    def height(self) -> float:
        return self.max_y - self.min_y

    def union(self, other: Bounds) -> Bounds:
        return Bounds(
            min(self.min_x, other.min_x),
            min(self.min_y, other.min_y),
            max(self.max_x, other.max_x),
            max(self.max_y, other.max_y),
        )

    def expanded(self, by: float) -> Bounds:
        return Bounds(self.min_x - by, self.min_y - by, self.max_x + by, self.max_y + by)


def box(element: Element) -> Bounds:
    """The element's box with negative widths/heights normalised."""
    x0, x1 = sorted((element.x, element.x + element.w))
    y0, y1 = sorted((element.y, element.y + element.h))
    return Bounds(x0, y0, x1, y1)


def element_bounds(element: Element) -> Bounds:
    """Everything the element paints, stroke and arrowhead included."""
    if element.type in BOX_TYPES:
        return box(element).expanded(element.width / 2)
    xs, ys = zip(*element.absolute_points(), strict=True)
    reach = element.width * (ARROW_LENGTH if element.type is ElementType.ARROW else 0.5)
    return Bounds(min(xs), min(ys), max(xs), max(ys)).expanded(reach)


def view_bounds(elements: Iterable[Element]) -> Bounds:
    """The fitted view: content plus margin, or a small blank square."""
    found = [element_bounds(e) for e in elements]
    if not found:
        return Bounds(0.0, 0.0, EMPTY_SIZE, EMPTY_SIZE)
    total = found[0]
    for bounds in found[1:]:
        total = total.union(bounds)
    return total.expanded(MARGIN)


def arrowhead(tail: Point, tip: Point, stroke_width: float) -> list[Point]:
    """Triangle (tip, left, right) matching the SVG marker's size."""
    angle = math.atan2(tip[1] - tail[1], tip[0] - tail[0])
    length, half = ARROW_LENGTH * stroke_width, ARROW_LENGTH * stroke_width / 2
    base = (tip[0] - length * math.cos(angle), tip[1] - length * math.sin(angle))
    dx, dy = -half * math.sin(angle), half * math.cos(angle)
    return [tip, (base[0] + dx, base[1] + dy), (base[0] - dx, base[1] - dy)]


def arrow_tail(points: list[Point]) -> Point:
    """The last point distinct from the tip, which sets the head's direction."""
    tip = points[-1]
    return next((p for p in reversed(points[:-1]) if p != tip), (tip[0] - 1, tip[1]))


def text_padding(element: Element) -> float:
    return STICKY_PADDING if element.type is ElementType.STICKY else 0.0


def text_lines(element: Element) -> list[str]:
    """The element's text wrapped to its box and cut to the lines that fit."""
    inner = box(element).expanded(-text_padding(element))
    max_chars = max(1, int(inner.width / (FONT_SIZE * CHAR_WIDTH)))
    lines: list[str] = []
    for paragraph in clean_text(element.text).split("\n"):
        lines.extend(textwrap.wrap(paragraph, max_chars, drop_whitespace=True) or [""])
    fitting = 1 + int(max(0.0, inner.height - FONT_SIZE) // (FONT_SIZE * LINE_HEIGHT))
    return lines[:fitting]


def baselines(element: Element, count: int) -> list[Point]:
    """Where each text line starts (left edge, baseline)."""
    inner = box(element).expanded(-text_padding(element))
    step = FONT_SIZE * LINE_HEIGHT
    return [(inner.min_x, inner.min_y + FONT_SIZE + i * step) for i in range(count)]


def clean_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control codes, lone surrogates)."""
    return _XML_INVALID.sub("", text)
