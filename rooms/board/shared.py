"""Plain values to pycrdt shared types, the way the browser client stores them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycrdt import Array, Map


def to_shared(value: Any) -> Any:
    """Lists become Y.Array, dicts Y.Map, everything else stays a plain value."""
    if isinstance(value, Mapping):
        return element_map(value)
    if isinstance(value, list):
        return Array([to_shared(item) for item in value])
    return value


def element_map(fields: Mapping[str, Any]) -> Map[Any]:
    """An element's fields as a prelim Y.Map (ready to insert into `elements`)."""
    return Map({key: to_shared(item) for key, item in fields.items()})
