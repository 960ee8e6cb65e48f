"""One client command: its event name, its payload type and the function that runs it."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.connections import Connection

Run = Callable[[Connection, Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Command:
    name: str
    kind: type[Any]
    run: Run
    joined: bool | None = None
