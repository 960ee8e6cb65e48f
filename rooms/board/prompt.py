"""The round's prompt as a deterministic board update.

Replaying a seed must not duplicate the note, and two server processes seeding
the same round must not conflict.  So the update is produced on a fresh
document whose client id is derived from the element itself: identical
arguments always yield identical bytes (applying them twice is a no-op), and
different arguments never reuse a (client, clock) pair, which Yjs forbids.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pycrdt import Doc, Map

from .capture import capture_update
from .schema import ELEMENTS_KEY, Element, ElementType
from .shared import element_map

PROMPT_ELEMENT_ID = "prompt"
PROMPT_X, PROMPT_Y, PROMPT_W, PROMPT_H = 24.0, 24.0, 360.0, 180.0
PROMPT_FILL, PROMPT_COLOR = "#fff3a3", "#1f2937"


def prompt_element(text: str, author: str, element_id: str = PROMPT_ELEMENT_ID) -> Element:
    """The sticky note holding `text`, anchored at the board's top-left."""
    return Element(
        id=element_id,
        type=ElementType.STICKY,
        x=PROMPT_X,
        y=PROMPT_Y,
        w=PROMPT_W,
        h=PROMPT_H,
        color=PROMPT_COLOR,
        width=1.0,
        fill=PROMPT_FILL,
        text=text,
        author=author,
        z=0.0,
    )


def prompt_client_id(element: Element) -> int:
    """A 32-bit Yjs client id derived from everything the update contains."""
    canonical = json.dumps([element.id, element.to_fields()], sort_keys=True)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:4], "big")


def prompt_update(text: str, author: str, element_id: str = PROMPT_ELEMENT_ID) -> bytes:
    """The v1 update that adds the prompt note; same arguments, same bytes."""
    element = prompt_element(text, author, element_id)
    doc: Doc[Any] = Doc(client_id=prompt_client_id(element))
    root = doc.get(ELEMENTS_KEY, type=Map)

    def insert() -> None:
        root[element.id] = element_map(element.to_fields())

    return capture_update(doc, insert)
