"""A breakout round as data, and the fold of its events.

Phases and the only transitions between them::

    preview ──open──▶ open ──deadline──▶ closing ──closing ends──▶ closed
       │                │  ◀──extend───────┘                          ▲
       └──cancel──▶ cancelled              └──close now───────────────┘

``guard`` is the one place a transition is checked; it raises a named error.
"""

from enum import StrEnum
from typing import Any

import msgspec

from facilitation.exceptions import (
    RoundAlreadyClosed,
    RoundAlreadyOpen,
    RoundError,
    RoundNotOpen,
)


class Phase(StrEnum):
    PREVIEW = "preview"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Strategy(StrEnum):
    MIX = "mix"
    RANDOM = "random"
    MANUAL = "manual"
    SELF_SELECT = "self-select"
    KEEP = "keep"


_ALLOWED: dict[str, frozenset[Phase]] = {
    "open": frozenset({Phase.PREVIEW}),
    "regroup": frozenset({Phase.PREVIEW}),
    "choose": frozenset({Phase.PREVIEW}),
    "cancel": frozenset({Phase.PREVIEW}),
    "extend": frozenset({Phase.OPEN, Phase.CLOSING}),
    "close": frozenset({Phase.OPEN, Phase.CLOSING}),
    "broadcast": frozenset({Phase.OPEN, Phase.CLOSING}),
    "place": frozenset({Phase.OPEN, Phase.CLOSING}),
    "move": frozenset({Phase.OPEN, Phase.CLOSING}),
}


class Round(msgspec.Struct):
    id: str
    number: int
    strategy: Strategy
    seed: int
    duration_s: int
    closing_s: int
    warning_s: int
    prompts: list[str]
    groups: list[list[str]]
    phase: Phase = Phase.PREVIEW
    rooms: list[str] = msgspec.field(default_factory=list)
    capacity: int | None = None
    choices: dict[str, int] = msgspec.field(default_factory=dict)
    activity: str | None = None
    opened_at: int | None = None
    deadline: int | None = None
    warned: bool = False
    closes_at: int | None = None
    closed_at: int | None = None
    close_reason: str | None = None
    broadcasts: list[str] = msgspec.field(default_factory=list)
    roaming: bool = False
    met: list[list[str]] = msgspec.field(default_factory=list)
    """Per group: every participant who was in its room while the round was open,
    whatever moved them there (opening, late placement, a facilitator, themselves)."""
    plan: dict[str, Any] | None = None
    """The session plan this round came from (its figures and the rounds after it)."""
    away: list[str] = msgspec.field(default_factory=list)
    include_away: bool = False
    min_size: int = 2

    def arrived(self, participant: str, room: str) -> None:
        """Count ``participant`` as a member of the group whose room is ``room``."""
        if room in self.rooms:
            group = self.met[self.rooms.index(room)]
            if participant not in group:
                group.append(participant)

    @property
    def live(self) -> bool:
        return self.phase in (Phase.OPEN, Phase.CLOSING)

    def guard(self, action: str) -> None:
        """Raise the named error unless ``action`` is allowed in this phase."""
        if self.phase in _ALLOWED[action]:
            return
        if self.phase in (Phase.CLOSED, Phase.CANCELLED):
            raise RoundAlreadyClosed(f"Round {self.number} is already closed.")
        if self.phase is Phase.PREVIEW:
            raise RoundNotOpen(f"Round {self.number} has not been opened yet.")
        if action in ("open", "regroup", "choose", "cancel"):
            raise RoundAlreadyOpen(f"Round {self.number} is already open.")
        raise RoundError(f"Round {self.number} cannot {action} now.")

    def group_of(self, participant: str) -> int | None:
        for index, group in enumerate(self.groups):
            if participant in group:
                return index
        return None

    def room_of(self, participant: str) -> str | None:
        index = self.group_of(participant)
        return self.rooms[index] if index is not None and self.rooms else None

    def next_due(self) -> int | None:
        """Wall-clock ms of this round's next timed step, if any."""
        if self.phase is Phase.OPEN and self.deadline is not None:
            warn_at = self.deadline - self.warning_s * 1000
            return warn_at if not self.warned and self.warning_s > 0 else self.deadline
        if self.phase is Phase.CLOSING:
            return self.closes_at
        return None


def room_id(round_id: str, index: int) -> str:
    return f"{round_id}-g{index + 1}"
