"""Garbage collection that does not stall the event loop.

With a thousand connections, a full collection of CPython's heap pauses
everything for 60–270 ms, and even young collections grow to tens of ms
under load (see docs/benchmarks.md). So the automatic collector is off:
reference counting frees almost everything at once anyway, and every
second the heap is frozen out of the collector (O(1)). What reference
counting cannot free — reference cycles — is reclaimed by a full collection
every few minutes, which is the one pause left (logged with its length).
"""

import asyncio
import gc
import logging
import time

log = logging.getLogger("ledarstig.gc")


class GcPolicy:
    def __init__(self, freeze_every_s: float = 1.0, full_every_s: float = 300.0) -> None:
        self._freeze_every = freeze_every_s
        self._full_every = full_every_s

    async def run(self) -> None:
        """Own the collector until cancelled; then give it back to CPython."""
        gc.disable()
        gc.collect()
        gc.freeze()
        last_full = time.monotonic()
        try:
            while True:
                await asyncio.sleep(self._freeze_every)
                if time.monotonic() - last_full >= self._full_every:
                    self.collect_all()
                    last_full = time.monotonic()
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
        log.info("full collection: %d unreachable objects in %.1f ms", found,
                 (time.perf_counter() - started) * 1e3)
