"""Garbage collection that does not stall the event loop.

With a thousand connections, a full collection of CPython's heap pauses
everything for 60–270 ms, and even young collections grow to tens of ms
under load (see docs/benchmarks.md). So the automatic collector is off:
reference counting frees almost everything at once anyway, and every
second the heap is frozen out of the collector (O(1)).

What reference counting cannot free — reference cycles, and every closed
connection leaves some (Engine.IO socket, tasks, queues, exceptions with
their tracebacks) — is reclaimed only by a full collection, because the
cycles were frozen while the connection lived. A full collection runs

- once ``release_batch`` connections have closed since the last one, as
  soon as a second passes with no further close (or after
  ``busy_full_every_s`` if they keep closing), so the memory of a wave of
  closed connections comes back within seconds, not minutes;
- and every ``full_every_s`` in any case.

Each is the one pause left, and is logged with its length.
"""

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger("ledarstig.gc")


class GcPolicy:
    def __init__(self, freeze_every_s: float = 1.0, full_every_s: float = 300.0,
                 released: Callable[[], int] | None = None, release_batch: int = 50,
                 busy_full_every_s: float = 30.0) -> None:
        self._freeze_every = freeze_every_s
        self._full_every = full_every_s
        self._released = released or (lambda: 0)
        self._batch = release_batch
        self._busy_every = busy_full_every_s

    async def run(self) -> None:
        """Own the collector until cancelled; then give it back to CPython."""
        gc.disable()
        gc.collect()
        gc.freeze()
        last_full = time.monotonic()
        released_at_full = previous = self._released()
        try:
            while True:
                await asyncio.sleep(self._freeze_every)
                now, released = time.monotonic(), self._released()
                quiet = released == previous
                previous = released
                pending = released - released_at_full
                if (now - last_full >= self._full_every
                        or (pending >= self._batch
                            and (quiet or now - last_full >= self._busy_every))):
                    self.collect_all()
                    last_full, released_at_full = time.monotonic(), released
                gc.freeze()
        finally:
            gc.unfreeze()
            gc.enable()

    @staticmethod
    def collect_all() -> None:
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        trimmed = _malloc_trim()
        log.info("full collection: %d unreachable objects in %.1f ms%s", found,
                 (time.perf_counter() - started) * 1e3,
                 "" if trimmed else " (malloc_trim unavailable)")


def _load_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _load_trim()


def _malloc_trim() -> bool:
    """Give freed C heap pages back to the system (glibc; zlib and OpenSSL state of
    closed connections lives there, in the middle of the heap where free() keeps it)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
