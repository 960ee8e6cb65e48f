"""How long a restart takes to fold a meeting with a long log.

Writes one meeting of N events (joins, chat, hands) to a fresh SQLite store, then times
``Hub.recover`` twice: from the whole log, and from the latest snapshot plus the tail.
"""

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from facilitation.session import Session, fold
from rooms import Draft, Event, Role
from rooms import commands as cmd
from server.clock import SystemClock
from server.hub import Hub
from server.state import encode_snapshot
from server.store import SQLiteStore


class _Nowhere:
    async def deliver(self, meeting: str, events: Any) -> None:
        return None


def make_log(n: int) -> tuple[list[Event], Session]:
    state, events = Session(), []

    def add(actor: str, drafts: list[Draft]) -> None:
        for d in drafts:
            e = Event(state.seq + 1, 1_700_000_000_000 + state.seq, actor, d.type, d.data)
            state.apply(e)
            events.append(e)

    add("system", [cmd.create_meeting("bench", "Bench", "2026-12-01T09:00", "A")])
    for i in range(200):
        add(f"p{i}", cmd.join(state.meeting, f"p{i}", Role.PARTICIPANT, name=f"P {i}",
                              municipality=f"M{i % 12}"))
    i = 0
    while len(events) < n:
        pid = f"p{i % 200}"
        if i % 50 == 0 and pid not in state.meeting.hands:
            add(pid, cmd.raise_hand(state.meeting, pid))
        else:
            add(pid, cmd.chat(state.meeting, pid, f"c{i}", f"Meddelande nummer {i} i plenum"))
        i += 1
    return events[:n], state


async def measure(n: int) -> dict[str, float]:
    events, _ = make_log(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        async with SQLiteStore(path) as store:
            for start in range(0, n, 5000):
                await store.append("bench", events[start:start + 5000])
        async with SQLiteStore(path) as store:
            full = await Hub(store, _Nowhere(), SystemClock()).recover()
            hub = Hub(store, _Nowhere(), SystemClock())
            await hub.recover()
            at = n - n % 1000 - 1000 if n > 2000 else n
            await store.save_snapshot("bench", at, encode_snapshot(fold(events[:at])))
            snap = await Hub(store, _Nowhere(), SystemClock()).recover()
    return {"events": n, "recover_full_log_s": round(full, 3),
            "recover_from_snapshot_s": round(snap, 3)}


def run(n: int = 100_000) -> dict[str, float]:
    return asyncio.run(measure(n))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    print(json.dumps(run(parser.parse_args().events), indent=2))
