"""Drawing a cohort's network: people on a circle, grouped and coloured by
municipality, encounters as lines that grow thicker with repeats. The same
geometry becomes SVG (for the page and export) and PNG (through Pillow)."""

import io
import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw

from facilitation.cohort_network import CohortNetwork

SIZE = 720
RADIUS = 300
NODE_R = 8
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255",
           "#44AA99", "#117733", "#332288", "#AA4499", "#999933", "#661100", "#6699CC")


@dataclass(frozen=True)
class Layout:
    positions: dict[str, tuple[float, float]]
    colours: dict[str, str]  # municipality id -> colour


def layout(net: CohortNetwork) -> Layout:
    municipalities = [mid for mid, _ in net.municipalities()]
    colours = {mid: PALETTE[i % len(PALETTE)] for i, mid in enumerate(municipalities)}
    order = sorted(net.nodes.values(), key=lambda n: (
        municipalities.index(n.municipality_id), n.name.casefold(), n.key))
    positions = {}
    for i, node in enumerate(order):
        angle = 2 * math.pi * i / max(len(order), 1) - math.pi / 2
        positions[node.key] = (SIZE / 2 + RADIUS * math.cos(angle),
                               SIZE / 2 + RADIUS * math.sin(angle))
    return Layout(positions, colours)


def width(times: int) -> float:
    return 1.0 + 2.0 * (times - 1)


def svg(net: CohortNetwork, label: str) -> str:
    geo = layout(net)
    lines = []
    for pair, times in sorted(net.edges.items(), key=lambda kv: kv[1]):
        (x1, y1), (x2, y2) = (geo.positions[k] for k in sorted(pair))
        lines.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="#44524b" stroke-opacity="0.55" stroke-width="{width(times):.1f}"'
                     f' data-times="{times}"/>')
    dots = []
    for key, (x, y) in geo.positions.items():
        node = net.nodes[key]
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" '
                    f'fill="{geo.colours[node.municipality_id]}" stroke="#fff">'
                    f'<title>{escape(node.name)} ({escape(node.municipality)})</title></circle>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
            f'role="img" aria-label={quoteattr(label)} class="graph">'
            f'<rect width="{SIZE}" height="{SIZE}" fill="#ffffff"/>'
            + "".join(lines) + "".join(dots) + "</svg>")


def png(net: CohortNetwork) -> bytes:
    scale = 2
    geo = layout(net)
    image = Image.new("RGB", (SIZE * scale, SIZE * scale), "white")
    draw = ImageDraw.Draw(image)
    for pair, times in sorted(net.edges.items(), key=lambda kv: kv[1]):
        (x1, y1), (x2, y2) = (geo.positions[k] for k in sorted(pair))
        draw.line([(x1 * scale, y1 * scale), (x2 * scale, y2 * scale)], fill="#8a958f",
                  width=max(1, round(width(times) * scale)))
    for key, (x, y) in geo.positions.items():
        colour = geo.colours[net.nodes[key].municipality_id]
        r = NODE_R * scale
        draw.ellipse([x * scale - r, y * scale - r, x * scale + r, y * scale + r],
                     fill=colour, outline="white", width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
