"""The whiteboard domain: a Yjs-compatible board document, its schema and renderers."""

from .board import Board, BoardLimits, ElementSnapshot
from .capture import EMPTY_UPDATE, capture_update
from .exceptions import (
    BacklogFull,
    BoardError,
    BoardFull,
    ElementInvalid,
    StateVectorInvalid,
    UpdateTooLarge,
    UpdateUndecodable,
)
from .prompt import PROMPT_ELEMENT_ID, prompt_element, prompt_update
from .render import to_png, to_svg
from .schema import ELEMENTS_KEY, Element, ElementType, parse_element

__all__ = [
    "ELEMENTS_KEY",
    "EMPTY_UPDATE",
    "PROMPT_ELEMENT_ID",
    "BacklogFull",
    "Board",
    "BoardError",
    "BoardFull",
    "BoardLimits",
    "Element",
    "ElementInvalid",
    "ElementSnapshot",
    "ElementType",
    "StateVectorInvalid",
    "UpdateTooLarge",
    "UpdateUndecodable",
    "capture_update",
    "parse_element",
    "prompt_element",
    "prompt_update",
    "to_png",
    "to_svg",
]
