"""The meeting log's record: one immutable event per change."""

from typing import Any

import msgspec

SYSTEM = "system"
"""Actor of events the server makes by itself (timers, recovery)."""
ADMIN = "admin"
"""Actor of events made through the organiser's REST API."""


class Event(msgspec.Struct, frozen=True):
    """One entry of a meeting's log.

    ``seq`` is gap-free and monotonic within a meeting, ``ts`` is server
    wall time in milliseconds, ``actor`` a participant id or a system actor.
    """

    seq: int
    ts: int
    actor: str
    type: str
    data: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "actor": self.actor,
                "type": self.type, "data": self.data}


class Draft(msgspec.Struct, frozen=True):
    """An event decided by a command, before the log gives it seq and ts."""

    type: str
    data: dict[str, Any]
