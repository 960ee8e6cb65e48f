"""Stand-ins for the server's ports in unit tests that need no Socket.IO: a broadcaster
and dispatcher that deliver nowhere, and a fan-out that records what it would send."""

from collections.abc import Sequence
from typing import Any

from rooms import Event
from server.effects import Effect


class Nowhere:
    async def deliver(self, meeting: str, events: Sequence[Event]) -> None:
        pass

    def deliver_now(self, meeting: str, events: Sequence[Event]) -> bool:
        return True

    async def run(self, meeting: str, effects: Sequence[Effect]) -> None:
        pass


class Sent:
    """A fan-out that records ``(name, data, to)`` of every message."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any, Any]] = []

    async def send(self, name: str, data: Any, to: Any) -> None:
        self.items.append((name, data, to))

    def send_now(self, packets: Sequence[tuple[str, Any, Any]]) -> bool:
        self.items += packets
        return True
