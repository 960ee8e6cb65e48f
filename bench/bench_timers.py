"""How late round timers fire on a busy server.

Opens one round in each of many meetings with deadlines spread over a few
seconds, while real Socket.IO clients keep the server busy with chat, and
reports how late each ``round.closing`` (the deadline) and ``round.closed``
(the end of the closing countdown) were committed against the times the log
promised. Loopback only; bounded in count and time.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from facilitation import breakouts
from facilitation.breakouts import RoundSpec
from rooms import Role
from server.gc_policy import GcPolicy
from server.keys import HUB
from tests.support import Meeting, start_server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(meetings: int, chatters: int, spread_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = await start_server(Path(tmp) / "d", grace_s=600)
        gc_policy = asyncio.create_task(GcPolicy().run())  # as `ledarstig serve` does
        try:
            hub = server.app[HUB]
            ids = [await server.create_meeting(f"T{i}") for i in range(meetings)]
            for mid in ids:
                await hub.execute(mid, "f", lambda s: breakouts.join(
                    s, "f", Role.FACILITATOR, name="Fia", municipality="Esbo"))
                for j in range(8):
                    await hub.execute(mid, f"p{j}", lambda s, j=j: breakouts.join(
                        s, f"p{j}", Role.PARTICIPANT, name=f"P{j}", municipality=f"M{j}"))
            clients = []
            m0 = Meeting(server, ids[0], await server.invites(ids[0]))
            for i in range(chatters):
                clients.append(await m0.participant(f"Chat {i}", "Vasa"))
            stop = asyncio.Event()

            async def chat(c: Any) -> None:
                while not stop.is_set():
                    await c.call("chat", {"text": "bakgrundstrafik"})
                    await asyncio.sleep(1.0)  # 50 chatters: ~2,500 deliveries/s
            load = [asyncio.create_task(chat(c)) for c in clients]
            for i, mid in enumerate(ids):
                await hub.execute(mid, "f", lambda s, i=i: breakouts.preview(
                    s, "f", f"r{i}", RoundSpec(group_count=2, duration_s=60, closing_s=1,
                                               warning_s=0), seed=i))
                await hub.execute(mid, "f", lambda s: breakouts.open_round(
                    s, "f", int(time.time() * 1000)))
            base = int(time.time() * 1000) + 3000  # every deadline is set before it falls
            for i, mid in enumerate(ids):
                target = base + int(spread_s * 1000 * i / meetings)
                await hub.execute(mid, "f", lambda s, t=target: breakouts.extend(
                    s, "f", (t - s.current().deadline) // 1000, int(time.time() * 1000)))
            deadline = time.monotonic() + spread_s + 15
            while time.monotonic() < deadline:
                if all(hub.get(mid).state.rounds[-1].phase == "closed" for mid in ids):
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.gather(*load, return_exceptions=True)
            late_deadline, late_close = [], []
            for mid in ids:
                events = hub.get(mid).recent
                promised = [e for e in events if e.type in ("round.opened", "round.extended")]
                deadline_ms = promised[-1].data["deadline"]
                closing = next(e for e in events if e.type == "round.closing")
                closed = next(e for e in events if e.type == "round.closed")
                late_deadline.append(closing.ts - deadline_ms)
                late_close.append(closed.ts - closing.data["closes_at"])
            both = late_deadline + late_close
            return {"rounds": meetings, "background_clients": chatters,
                    "background_deliveries_per_s": chatters * chatters,
                    "deadline_lateness_p99_ms": percentile(late_deadline, 0.99),
                    "closing_end_lateness_p99_ms": percentile(late_close, 0.99),
                    "lateness_p50_ms": statistics.median(both),
                    "lateness_p99_ms": percentile(both, 0.99),
                    "lateness_max_ms": max(both)}
        finally:
            gc_policy.cancel()
            await asyncio.gather(gc_policy, return_exceptions=True)
            await server.stop()


def run(meetings: int = 200, chatters: int = 50, spread_s: float = 5.0) -> dict[str, Any]:
    return asyncio.run(measure(meetings, chatters, spread_s))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--chatters", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(run(args.meetings, args.chatters), indent=2))
