"""SVG and PNG rendering of board snapshots."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from PIL import Image

from rooms.board import Board, BoardLimits, to_png, to_svg
from rooms.board.geometry import MARGIN, arrowhead
from tests.unit.board.board_helpers import Client, rect, stroke

NS = {"svg": "http://www.w3.org/2000/svg"}
WHITE = (255, 255, 255)


def scene() -> list[dict[str, Any]]:
    alice = Client(1)
    board = Board(BoardLimits())
    board.seed_prompt("Name one <risk> & one 'hope' for the team", "fac-1")
    for update in (
        alice.add("pen", stroke(400, 40, z=1)),
        alice.add("box", rect(40, 260, w=120, h=80, z=2, color="#16a34a", fill="#bbf7d0")),
        alice.add("oval", {**rect(200, 260, z=3, fill=None), "type": "ellipse"}),
        alice.add(
            "line",
            {
                "type": "line",
                "x": 300,
                "y": 300,
                "points": [0, 0, 100, -50],
                "color": "#f59e0b",
                "width": 5,
                "z": 4,
            },
        ),
        alice.add(
            "arrow",
            {
                "type": "arrow",
                "x": 420,
                "y": 200,
                "points": [0, 0, 150, 60],
                "color": "#2563eb",
                "width": 3,
                "z": 5,
            },
        ),
        alice.add(
            "label",
            {
                "type": "text",
                "x": 40,
                "y": 360,
                "w": 300,
                "h": 40,
                "text": "Ctrl\x07 chars & <tags>",
                "color": "#111827",
                "z": 6,
            },
        ),
        alice.add("broken", {"type": "hexagon", "x": 0, "y": 0}),
    ):
        board.apply(update)
    return board.elements()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_svg_draws_each_element_kind() -> None:
    root = parse(to_svg(scene()))
    assert len(root.findall("svg:polyline", NS)) == 3  # pen, line, arrow
    assert len(root.findall("svg:ellipse", NS)) == 1
    assert len(root.findall("svg:defs/svg:marker", NS)) == 1
    arrow = root.find("svg:polyline[@data-id='arrow']", NS)
    assert arrow is not None and arrow.get("marker-end") == "url(#arrow-2563eb)"
    pen = root.find("svg:polyline[@data-id='pen']", NS)
    assert pen is not None and pen.get("stroke") == "#e11d48" and pen.get("stroke-width") == "2"
    assert len(pen.get("points", "").split()) == 20
    assert root.find(".//*[@data-id='broken']", NS) is None


def test_svg_text_is_escaped_wrapped_and_clean() -> None:
    svg = to_svg(scene())
    assert "<risk>" not in svg and "&lt;risk&gt;" in svg
    root = parse(svg)
    prompt = root.find("svg:g[@data-id='prompt']", NS)
    assert prompt is not None
    lines = ["".join(t.itertext()) for t in prompt.iterfind("svg:text/svg:tspan", NS)]
    assert " ".join(lines) == "Name one <risk> & one 'hope' for the team"
    label = root.find("svg:g[@data-id='label']/svg:text", NS)
    assert label is not None and "".join(label.itertext()) == "Ctrl chars & <tags>"


def test_svg_viewbox_fits_content_with_margin() -> None:
    root = parse(to_svg([{"id": "r", **rect(100, 50, w=200, h=100)}]))
    x, y, w, h = map(float, root.get("viewBox", "").split())
    assert (x, y) == (100 - 1 - MARGIN, 50 - 1 - MARGIN)
    assert (w, h) == (200 + 2 + 2 * MARGIN, 100 + 2 + 2 * MARGIN)
    sized = parse(to_svg([{"id": "r", **rect(0, 0)}], width=320, height=200))
    assert (sized.get("width"), sized.get("height")) == ("320", "200")


def test_empty_board_renders_small_blank() -> None:
    root = parse(to_svg([]))
    assert root.get("viewBox") == "0 0 64 64"
    image = Image.open(io.BytesIO(to_png([])))
    assert image.size == (64, 64)
    assert image.getcolors() == [(64 * 64, WHITE)]


def test_png_draws_shapes_with_their_colours() -> None:
    elements = scene()
    image = Image.open(io.BytesIO(to_png(elements))).convert("RGB")
    svg = parse(to_svg(elements))
    left, top, width, height = map(float, svg.get("viewBox", "").split())
    assert image.size == (math.ceil(width), math.ceil(height))

    def pixel(x: float, y: float) -> tuple[int, ...]:
        return tuple(image.getpixel((int(x - left), int(y - top))))  # type: ignore[arg-type]

    assert pixel(100, 300) == (0xBB, 0xF7, 0xD0)  # rect fill
    assert pixel(40, 300) == (0x16, 0xA3, 0x4A)  # rect outline
    assert pixel(100, 100) == (0xFF, 0xF3, 0xA3)  # sticky paper
    tip, left_corner, right_corner = arrowhead((420, 200), (570, 260), 3)
    centre = (
        (tip[0] + left_corner[0] + right_corner[0]) / 3,
        (tip[1] + left_corner[1] + right_corner[1]) / 3,
    )
    off_axis = (
        centre[0] + 0.6 * (left_corner[0] - centre[0]),
        centre[1] + 0.6 * (left_corner[1] - centre[1]),
    )
    assert pixel(*off_axis) == (0x25, 0x63, 0xEB)  # inside the head, clear of the shaft
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 16) or []}
    assert {(0xE1, 0x1D, 0x48), (0xF5, 0x9E, 0x0B), (0x1F, 0x29, 0x37)} <= colours


def test_png_scale_and_size_cap() -> None:
    small = Image.open(io.BytesIO(to_png([{"id": "r", **rect(0, 0)}], scale=2.0)))
    assert small.size == (2 * (100 + 2 + 2 * int(MARGIN)), 2 * (60 + 2 + 2 * int(MARGIN)))
    far = [{"id": "a", **rect(0, 0)}, {"id": "b", **rect(1_000_000, 500_000)}]
    assert max(Image.open(io.BytesIO(to_png(far))).size) <= 4096


@pytest.mark.parametrize(
    "bad", [{"x": "1"}, {"points": [1, 2, 3]}, {"color": "red"}, {"width": -1}, {"x": float("nan")}]
)
def test_invalid_elements_are_skipped(bad: dict[str, Any]) -> None:
    element = {"id": "s", **stroke(0, 0), **bad}
    assert parse(to_svg([element])).find("svg:polyline", NS) is None
    assert Image.open(io.BytesIO(to_png([element]))).size == (64, 64)


def _note(text: str) -> list[dict[str, Any]]:
    return [{"id": "n", "type": "text", "x": 0, "y": 0, "w": 120, "h": 40, "text": text,
             "color": "#000000", "z": 1}]


def test_png_draws_swedish_and_finnish_letters() -> None:
    """å, ä and ö are real glyphs, not the same 'missing glyph' box: each letter gives a
    different picture, and differs from the plain letter it is built on."""
    pictures = {text: to_png(_note(text), scale=2) for text in ("å", "ä", "ö", "a", "o")}
    assert len(set(pictures.values())) == len(pictures)
    inked = [sum(Image.open(io.BytesIO(pictures[t])).convert("L").histogram()[:128])
             for t in ("å", "ä", "ö")]
    assert all(n > 0 for n in inked), inked
