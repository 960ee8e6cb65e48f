"""Cross-process delivery: stream tailing (what we do) against plain pub/sub.

Issue 18 item 2 asks to measure the options. Both carry an event from the process
that appended it to another process that serves clients of the same meeting:

- ``tail``: the writer appends (``XADD`` to the meeting's stream, as the log append
  does); the reader blocks in one ``XREAD`` over the streams of every meeting it
  holds, from the last entry it has (``server.cluster.Node._follow``). In order and
  complete by construction: the reader asks for what follows what it has.
- ``pubsub``: the writer appends the same way (the log is the truth either way) and
  also ``PUBLISH``es the event on the meeting's channel; the reader subscribes to
  every meeting's channel. At most once: the reader checks each meeting's ``seq`` and
  counts gaps (it would have to read them back from the stream).

The reader is its own process pinned to core 0 (as a server), Redis on core 1 and the
writer (this process) beside it. The send time travels in the payload
(``time.monotonic``, one clock for every process on Linux). Reported: delay p50/p99,
the reader's CPU per event, Redis's CPU per event, and gaps.

Run alone: ``.venv/bin/python -m bench.cluster_transport [--quick]``; also the
``transport`` set-up of ``bench.bench_cluster``.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import redis.asyncio as aioredis

from bench.processes import sample

ROOT = Path(__file__).resolve().parent.parent
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder().decode


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def reader(url: str, mode: str, meetings: int, count: int) -> dict[str, Any]:
    """Receive ``count`` events; print "ready" once listening."""
    r = aioredis.Redis.from_url(url)
    delays: list[float] = []
    last: dict[int, int] = {}
    gaps = 0
    cpu0 = os.times()
    try:
        if mode == "tail":
            positions = {f"b:log:{k}": "0-0" for k in range(meetings)}
            print("ready", flush=True)
            while len(delays) < count:
                found = await r.xread(positions, count=1000, block=2000)
                now = time.monotonic()
                if not found:
                    break  # the writer is done
                for stream, rows in found:
                    positions[stream.decode()] = rows[-1][0].decode()
                    for _, fields in rows:
                        _, _, sent, _ = _unpack(fields[b"e"])
                        delays.append(now - sent)
        else:
            pubsub = r.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(*(f"b:ch:{k}" for k in range(meetings)))
            print("ready", flush=True)
            idle_since = time.monotonic()
            while len(delays) < count:
                message = await pubsub.get_message(timeout=0.5)
                if message is None:  # (also what a subscription's confirmation gives)
                    if time.monotonic() - idle_since > 2.0:
                        break  # the writer is done
                    continue
                idle_since = now = time.monotonic()
                meeting, seq, sent, _ = _unpack(message["data"])
                if seq != last.get(meeting, 0) + 1:
                    gaps += 1
                last[meeting] = seq
                delays.append(now - sent)
            await pubsub.aclose()
    finally:
        await r.aclose()
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"received": len(delays), "gaps": gaps,
            "delay_ms_p50": round(pct(delays, 0.5) * 1000, 2),
            "delay_ms_p99": round(pct(delays, 0.99) * 1000, 2),
            "reader_cpu_us_per_event": round(cpu / max(1, len(delays)) * 1e6, 1)}


async def writer(url: str, mode: str, meetings: int, rate: float, seconds: float) -> int:
    r = aioredis.Redis.from_url(url)
    seqs = [0] * meetings
    count = int(rate * seconds)
    body = {"text": "x" * 120, "room": "plenary", "by": "p" * 12}  # a chat's size
    t0 = time.perf_counter()
    try:
        for i in range(count):
            k = i % meetings
            seqs[k] += 1
            payload = _pack([k, seqs[k], time.monotonic(), body])
            if mode == "tail":
                await r.xadd(f"b:log:{k}", {"e": payload}, id=f"{seqs[k]}-0")
            else:
                pipe = r.pipeline(transaction=False)
                pipe.xadd(f"b:log:{k}", {"e": payload}, id=f"{seqs[k]}-0")
                pipe.publish(f"b:ch:{k}", payload)
                await pipe.execute()
            await asyncio.sleep(max(0.0, t0 + (i + 1) / rate - time.perf_counter()))
    finally:
        await r.aclose()
    return count


def start_redis(port: int, folder: str) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        ["taskset", "-c", "1", shutil.which("redis-server") or "redis-server",
         "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def compare(quick: bool = False, meetings: tuple[int, ...] = (20, 200), rate: float = 0.0,
                  seconds: float = 0.0) -> list[dict[str, Any]]:
    """Both options, in turn (alternating twice unless ``quick``), on a fresh Redis, for
    a reader holding each number of ``meetings`` (one ``XREAD`` names them all)."""
    rate = rate or (500.0 if quick else 2000.0)
    seconds = seconds or (1.0 if quick else 5.0)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-transport-") as tmp:
        from bench.bench_cluster import free_port
        port = free_port()
        redis_proc = start_redis(port, tmp)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            probe = aioredis.Redis.from_url(url)
            for _ in range(100):
                try:
                    await probe.ping()
                    break
                except Exception:
                    await asyncio.sleep(0.05)  # a starting redis-server: nothing to await
            runs = [(m, mode) for m in (meetings[:1] if quick else meetings)
                    for mode in (["tail", "pubsub"] if quick else ["tail", "pubsub"] * 2)]
            for held, mode in runs:
                await probe.flushdb()
                count = int(rate * seconds)
                child = await asyncio.create_subprocess_exec(
                    "taskset", "-c", "0", sys.executable, "-m", "bench.cluster_transport",
                    "--role", "reader", "--mode", mode, "--redis", url,
                    "--meetings", str(held), "--count", str(count),
                    cwd=ROOT, stdout=asyncio.subprocess.PIPE)
                assert child.stdout is not None
                assert (await child.stdout.readline()).strip() == b"ready"
                r0 = sample(redis_proc.pid).cpu_s
                await writer(url, mode, held, rate, seconds)
                out = json.loads((await child.stdout.read()).decode())
                await child.wait()
                r1 = sample(redis_proc.pid).cpu_s
                out = {"option": mode, "meetings": held, "events_per_s": rate,
                       "events": count, **out,
                       "redis_cpu_us_per_event": round((r1 - r0) / count * 1e6, 1)}
                results.append(out)
                print(json.dumps(out), flush=True)
            await probe.aclose()
        finally:
            redis_proc.kill()
            redis_proc.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--role", default="compare")
    parser.add_argument("--mode", default="tail")
    parser.add_argument("--redis", default="")
    parser.add_argument("--meetings", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.role == "reader":
        print(json.dumps(asyncio.run(reader(args.redis, args.mode, args.meetings[0],
                                            args.count))), flush=True)
    else:
        asyncio.run(compare(args.quick, tuple(args.meetings), args.rate, args.seconds))


if __name__ == "__main__":
    main()
