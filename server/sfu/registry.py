"""Where a meeting's VideoRoom id and its live feeds are known: the port.

On one process (``LocalRooms``) the answer is "here": a random room id per
meeting, and only this process's own publishers. With several processes
(``--redis-url``) the same port is backed by Redis (``server.sfu.shared``): one
room id per meeting for the whole deployment, claimed once; every process's
live feeds, shared, so a subscriber on any process can receive a publisher on
any other; and the room destroyed by exactly one process when the meeting ends.
"""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from server.sfu.janus import Json


@dataclass(frozen=True)
class RemoteFeed:
    """A live feed another process publishes (``streams`` None: it stopped)."""

    proc: str
    meeting: str
    room: int
    participant: str
    feed: int
    streams: list[Json] | None


Apply = Callable[[RemoteFeed], Awaitable[None]]


class Rooms(Protocol):
    shared: bool  # other processes publish too

    async def room_id(self, meeting: str) -> int:
        """The meeting's VideoRoom id: the same answer on every process."""

    async def release(self, meeting: str, known: int | None) -> int | None:
        """The meeting ended: the room id to destroy, given to one caller only."""

    async def published(self, meeting: str, room: int, participant: str, feed: int,
                        streams: list[Json]) -> None:
        """One of this process's feeds went live."""

    async def unpublished(self, meeting: str, participant: str, feed: int) -> None:
        """One of this process's feeds stopped (hangup, left, Janus lost)."""

    async def feeds(self, meeting: str) -> list[RemoteFeed]:
        """The live feeds other processes publish in the meeting."""

    async def dead(self, procs: set[str]) -> set[str]:
        """Which of these processes stopped beating (their feeds are gone)."""

    async def run(self, apply: Apply, resubscribed: Callable[[], Awaitable[None]]) -> None:
        """Hand each feed change of another process to ``apply`` until cancelled;
        ``resubscribed`` after (re)subscribing, when changes may have been missed."""


class LocalRooms:
    """One process: nothing is shared."""

    shared = False

    async def room_id(self, meeting: str) -> int:
        return secrets.randbelow(2**52) + 1

    async def release(self, meeting: str, known: int | None) -> int | None:
        return known

    async def published(self, meeting: str, room: int, participant: str, feed: int,
                        streams: list[Json]) -> None:
        return None

    async def unpublished(self, meeting: str, participant: str, feed: int) -> None:
        return None

    async def feeds(self, meeting: str) -> list[RemoteFeed]:
        return []

    async def dead(self, procs: set[str]) -> set[str]:
        return set()

    async def run(self, apply: Apply, resubscribed: Callable[[], Awaitable[None]]) -> None:
        return None


__all__ = ["Apply", "LocalRooms", "RemoteFeed", "Rooms"]
