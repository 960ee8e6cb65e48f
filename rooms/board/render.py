"""Render a board snapshot to SVG or PNG (exports, thumbnails, facilitator recap).

Both renderers take `Board.elements()` output, skip entries that fail
`parse_element` (clients can write anything into the CRDT) and draw the rest in
stacking order with the geometry from `geometry.py`.
"""

from __future__ import annotations

import functools
import io
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .exceptions import ElementInvalid
from .geometry import (
    ARROW_LENGTH,
    BACKGROUND,
    FONT_SIZE,
    STICKY_BORDER,
    STICKY_FILL,
    Bounds,
    arrow_tail,
    arrowhead,
    baselines,
    box,
    clean_text,
    text_lines,
    view_bounds,
)
from .schema import Element, ElementType, parse_element

SVG_NS = "http://www.w3.org/2000/svg"
MAX_PNG_SIDE = 4096


def drawable(elements: Iterable[Mapping[str, Any]]) -> list[Element]:
    """The valid elements, in stacking order (z, then id)."""
    parsed: list[Element] = []
    for raw in elements:
        try:
            parsed.append(parse_element(raw))
        except ElementInvalid:
            continue
    return sorted(parsed, key=lambda e: (e.z, e.id))


def to_svg(
    elements: Iterable[Mapping[str, Any]], width: float | None = None, height: float | None = None
) -> str:
    """A standalone SVG document whose viewBox fits the content plus a margin."""
    shapes = drawable(elements)
    view = view_bounds(shapes)
    root = ET.Element("svg", _svg_frame(view, width, height))
    _arrow_markers(root, shapes)
    ET.SubElement(
        root,
        "rect",
        _attrs(x=view.min_x, y=view.min_y, width=view.width, height=view.height, fill=BACKGROUND),
    )
    for element in shapes:
        _svg_element(root, element)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def _svg_frame(view: Bounds, width: float | None, height: float | None) -> dict[str, str]:
    return _attrs(
        xmlns=SVG_NS,
        viewBox=" ".join(_num(v) for v in (view.min_x, view.min_y, view.width, view.height)),
        width=math.ceil(view.width) if width is None else width,
        height=math.ceil(view.height) if height is None else height,
    )


def _marker_id(color: str) -> str:
    return f"arrow-{color.lstrip('#')}"


def _arrow_markers(root: ET.Element, shapes: list[Element]) -> None:
    colors = sorted({e.color for e in shapes if e.type is ElementType.ARROW})
    if not colors:
        return
    defs = ET.SubElement(root, "defs")
    for color in colors:
        marker = ET.SubElement(
            defs,
            "marker",
            _attrs(
                id=_marker_id(color),
                viewBox="0 0 10 10",
                refX=10,
                refY=5,
                markerWidth=ARROW_LENGTH,
                markerHeight=ARROW_LENGTH,
                markerUnits="strokeWidth",
                orient="auto",
            ),
        )
        ET.SubElement(marker, "path", {"d": "M0,0 L10,5 L0,10 z", "fill": color})


def _svg_element(root: ET.Element, e: Element) -> None:
    stroke = _attrs(stroke=e.color, **{"stroke-width": e.width, "data-id": clean_text(e.id)})
    if e.type in (ElementType.PEN, ElementType.LINE, ElementType.ARROW):
        _svg_stroke(root, e, stroke)
    elif e.type is ElementType.RECT:
        b = box(e)
        ET.SubElement(
            root,
            "rect",
            stroke
            | _attrs(x=b.min_x, y=b.min_y, width=b.width, height=b.height, fill=e.fill or "none"),
        )
    elif e.type is ElementType.ELLIPSE:
        b = box(e)
        ET.SubElement(
            root,
            "ellipse",
            stroke
            | _attrs(
                cx=(b.min_x + b.max_x) / 2,
                cy=(b.min_y + b.max_y) / 2,
                rx=b.width / 2,
                ry=b.height / 2,
                fill=e.fill or "none",
            ),
        )
    else:
        _svg_note(root, e)


def _svg_stroke(root: ET.Element, e: Element, stroke: dict[str, str]) -> None:
    points = e.absolute_points()
    if len(points) == 1:
        ET.SubElement(
            root,
            "circle",
            _attrs(
                cx=points[0][0],
                cy=points[0][1],
                r=e.width / 2,
                fill=e.color,
                **{"data-id": clean_text(e.id)},
            ),
        )
        return
    attrs = stroke | {
        "points": " ".join(f"{_num(x)},{_num(y)}" for x, y in points),
        "fill": "none",
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
    }
    if e.type is ElementType.ARROW:
        attrs["marker-end"] = f"url(#{_marker_id(e.color)})"
    ET.SubElement(root, "polyline", attrs)


def _svg_note(root: ET.Element, e: Element) -> None:
    group = ET.SubElement(root, "g", {"data-id": clean_text(e.id)})
    if e.type is ElementType.STICKY:
        b = box(e)
        ET.SubElement(
            group,
            "rect",
            _attrs(
                x=b.min_x,
                y=b.min_y,
                width=b.width,
                height=b.height,
                fill=e.fill or STICKY_FILL,
                stroke=STICKY_BORDER,
            ),
        )
    lines = text_lines(e)
    text = ET.SubElement(
        group, "text", _attrs(fill=e.color, **{"font-family": "sans-serif", "font-size": FONT_SIZE})
    )
    for line, (x, y) in zip(lines, baselines(e, len(lines)), strict=True):
        ET.SubElement(text, "tspan", _attrs(x=x, y=y)).text = line


def to_png(elements: Iterable[Mapping[str, Any]], scale: float = 1.0) -> bytes:
    """A PNG of the same picture; scale is reduced so no side exceeds 4096 px."""
    shapes = drawable(elements)
    view = view_bounds(shapes)
    scale = min(scale, MAX_PNG_SIDE / max(view.width, view.height))
    size = (max(1, math.ceil(view.width * scale)), max(1, math.ceil(view.height * scale)))
    image = Image.new("RGB", size, BACKGROUND)
    painter = _Painter(ImageDraw.Draw(image), view, scale)
    for element in shapes:
        painter.draw(element)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class _Painter:
    """Draws elements with Pillow in pixel space."""

    def __init__(self, draw: ImageDraw.ImageDraw, view: Bounds, scale: float) -> None:
        self._draw, self._view, self._scale = draw, view, scale
        self._font = _font(round(max(1.0, FONT_SIZE * scale), 1))

    def _px(self, point: tuple[float, float]) -> tuple[float, float]:
        return (
            (point[0] - self._view.min_x) * self._scale,
            (point[1] - self._view.min_y) * self._scale,
        )

    def _box(self, b: Bounds) -> tuple[float, float, float, float]:
        return (*self._px((b.min_x, b.min_y)), *self._px((b.max_x, b.max_y)))

    def _width(self, e: Element) -> int:
        return max(1, round(e.width * self._scale))

    def draw(self, e: Element) -> None:
        if e.type in (ElementType.PEN, ElementType.LINE, ElementType.ARROW):
            self._stroke(e)
        elif e.type is ElementType.RECT:
            self._draw.rectangle(
                self._box(box(e)), fill=e.fill, outline=e.color, width=self._width(e)
            )
        elif e.type is ElementType.ELLIPSE:
            self._draw.ellipse(
                self._box(box(e)), fill=e.fill, outline=e.color, width=self._width(e)
            )
        else:
            self._note(e)

    def _stroke(self, e: Element) -> None:
        points = e.absolute_points()
        pixels = [self._px(p) for p in points]
        if len(pixels) == 1:
            r = max(0.5, e.width * self._scale / 2)
            ((x, y),) = pixels
            self._draw.ellipse((x - r, y - r, x + r, y + r), fill=e.color)
            return
        self._draw.line(pixels, fill=e.color, width=self._width(e), joint="curve")
        if e.type is ElementType.ARROW:
            head = arrowhead(arrow_tail(points), points[-1], e.width)
            self._draw.polygon([self._px(p) for p in head], fill=e.color)

    def _note(self, e: Element) -> None:
        if e.type is ElementType.STICKY:
            self._draw.rectangle(
                self._box(box(e)),
                fill=e.fill or STICKY_FILL,
                outline=STICKY_BORDER,
                width=max(1, round(self._scale)),
            )
        lines = text_lines(e)
        for line, start in zip(lines, baselines(e, len(lines)), strict=True):
            self._draw.text(self._px(start), line, fill=e.color, font=self._font, anchor="ls")


@functools.lru_cache(maxsize=16)
def _font(size: float) -> ImageFont.FreeTypeFont:
    """Source Sans Pro (SIL OFL 1.1, from the font-source-sans-pro package): it has the
    Swedish and Finnish letters, which Pillow's built-in font draws as boxes."""
    path = resources.files("font_source_sans_pro") / "files" / "SourceSansPro-Regular.ttf"
    with resources.as_file(path) as file:
        return ImageFont.truetype(str(file), size)


def _attrs(**values: Any) -> dict[str, str]:
    return {key: _num(v) if isinstance(v, float | int) else str(v) for key, v in values.items()}


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
