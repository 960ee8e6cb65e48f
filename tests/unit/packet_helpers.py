"""Comparing Socket.IO packets by what they say."""

import json
from typing import Any


def same_packet(ours: Any, theirs: Any) -> bool:
    """The same Socket.IO packet: for JSON, the same header (type, namespace, id,
    attachments) and JSON that reads the same (ours is orjson's: UTF-8 text where the
    stdlib escapes), then the same attachments; for msgpack, the same bytes."""
    if isinstance(theirs, list):
        return (isinstance(ours, list) and len(ours) == len(theirs)
                and same_packet(ours[0], theirs[0]) and ours[1:] == theirs[1:])
    if isinstance(theirs, bytes):
        return ours == theirs
    at, their_at = ours.find("["), theirs.find("[")
    return (at == their_at and ours[:at] == theirs[:at]
            and json.loads(ours[at:]) == json.loads(theirs[at:]))
