"""Workloads: what one generator process does with its rooms. Registered by name in WORKLOADS.

Every workload connects its clients, passes phases with ctx.sync() so the runner can sample
the server in between, keeps its loops bounded by the deadlines the runner hands out, and
returns a picklable dict (raw latency samples in seconds, counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .client import SioClient
from .generator import WorkerContext
from .targets import ClientProtocol, Member

clock = time.perf_counter
Workload = Callable[[WorkerContext], Awaitable[dict[str, Any]]]
WORKLOADS: dict[str, Workload] = {}


def workload(fn: Workload) -> Workload:
    WORKLOADS[fn.__name__] = fn
    return fn


@dataclass
class Peer:
    client: SioClient
    address: str


@dataclass
class Deliveries:
    """Counts deliveries and their latency (payload "t" is the sender's perf_counter)."""

    protocol: ClientProtocol
    begin: float = float("inf")
    end: float = float("inf")
    latency: dict[str, list[float]] = field(default_factory=lambda: {"relay": [], "broadcast": []})
    received_in_window: int = 0
    _awaited: tuple[str, int, asyncio.Event] | None = None

    async def drain(self, kind: str, count: int, timeout_s: float) -> None:
        """Wait (bounded) until `count` latencies of `kind` were recorded."""
        if len(self.latency[kind]) >= count:
            return
        self._awaited = (kind, count, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._awaited[2].wait()
        self._awaited = None

    def __call__(self, event: str, args: list[Any]) -> None:
        found = self.protocol.delivery(event, args)
        if found is None:
            return
        now = clock()
        kind, payload = found
        if self.begin <= now < self.end:
            self.received_in_window += 1
        sent = payload.get("t") if isinstance(payload, dict) else None
        if sent is not None and self.begin <= sent < self.end:
            samples = self.latency[kind]
            samples.append(now - sent)
            if self._awaited and self._awaited[0] == kind and len(samples) >= self._awaited[1]:
                self._awaited[2].set()


async def connect_member(ctx: WorkerContext, member: Member, on_event: Deliveries) -> Peer:
    client, address = await ctx.job.protocol.connect(
        ctx.session, ctx.job.base_url, ctx.codec, member, on_event, ctx.job.compress
    )
    return Peer(client, address)


class ConnectFailed(RuntimeError):
    """Some clients could not connect and join."""


async def connect_rooms(ctx: WorkerContext, rooms: list[list[Member]], on_event: Deliveries,
                        concurrency: int) -> list[list[Peer]]:
    gate = asyncio.Semaphore(concurrency)

    async def one(member: Member) -> Peer:
        async with gate:
            return await connect_member(ctx, member, on_event)

    outcomes = await asyncio.gather(*(one(m) for room in rooms for m in room),
                                    return_exceptions=True)
    peers = [o for o in outcomes if isinstance(o, Peer)]
    failures = [o for o in outcomes if not isinstance(o, Peer)]
    if failures:
        await close_all(peers)
        raise ConnectFailed(f"{len(failures)} of {len(outcomes)} clients could not connect "
                            f"and join; the first: {failures[0]!r}") from failures[0]
    it = iter(peers)
    return [[next(it) for _ in room] for room in rooms]


async def close_all(peers: list[Peer]) -> None:
    async with asyncio.timeout(20):
        await asyncio.gather(*(p.client.close() for p in peers), return_exceptions=True)


def flat(rooms: list[list[Peer]]) -> list[Peer]:
    return [p for room in rooms for p in room]


async def sleep_until(t: float) -> None:
    delay = t - clock()
    if delay > 0:
        await asyncio.sleep(delay)


def steady_schedule(n_senders: int, rate: float, start: float, end: float,
                    rng: random.Random) -> list[tuple[float, int]]:
    """Each sender at a steady `rate` per second from a random phase, merged in time order."""
    step = 1.0 / rate
    streams = []
    for i in range(n_senders):
        first = start + rng.random() * step
        streams.append([(first + j * step, i) for j in range(int((end - first) / step) + 1)])
    return [item for item in heapq.merge(*streams) if item[0] < end]


@dataclass
class Acks:
    """Ack round trips of messages sent in the window, and how many the server refused."""

    begin: float
    end: float
    accepts: Callable[[list[Any]], bool]
    rtt: list[float] = field(default_factory=list)
    refused: int = 0

    def waiter(self, sent: float) -> Callable[[list[Any]], None]:
        def on_ack(args: list[Any]) -> None:
            if not self.accepts(args):
                self.refused += 1
            elif self.begin <= sent < self.end:
                self.rtt.append(clock() - sent)
        return on_ack


@workload
async def steady(ctx: WorkerContext) -> dict[str, Any]:
    """Each client sends at a steady rate (open loop): op "relay" to the next member of its
    room, or op "broadcast" to its whole room."""
    p, proto = ctx.params, ctx.job.protocol
    relay = p["op"] == "relay"
    deliveries = Deliveries(proto)
    rooms = await connect_rooms(ctx, ctx.job.rooms, deliveries, p.get("connect_concurrency", 100))
    senders = [(room[i].client, room[(i + 1) % len(room)].address, len(room) - 1)
               for room in rooms for i in range(len(room)) if len(room) > 1]
    start = (await ctx.sync("connected", {"clients": sum(map(len, rooms))}))["start_at"]
    begin, end = start + p["warmup_s"], start + p["warmup_s"] + p["duration_s"]
    deliveries.begin, deliveries.end = begin, end
    schedule = steady_schedule(len(senders), p["rate_per_client"], start, end,
                               random.Random(ctx.job.index))
    acks = Acks(begin, end, proto.ack_ok)
    acked = proto.relay_acked if relay else proto.broadcast_acked
    pad = "x" * p.get("pad_bytes", 64)
    sent_in_window = expected = 0
    max_lag = 0.0

    await sleep_until(start)
    with ctx.measured():
        for at, i in schedule:
            delay = at - clock()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay)
            client, to, others = senders[i]
            now = clock()
            if begin <= now < end:
                sent_in_window += 1
                expected += 1 if relay else others
            payload = {"t": now, "pad": pad}
            if relay:
                event, args = proto.relay_event(to, payload)
            else:
                event, args = proto.broadcast_event(payload)
            if acked:
                await client.emit_ack(event, args, acks.waiter(now))
            else:
                await client.emit(event, *args)
        await deliveries.drain(p["op"], expected, p.get("drain_s", 3.0))
    got = deliveries.latency[p["op"]]
    await close_all(flat(rooms))
    return {"delivery_s": got, "ack_s": acks.rtt, "refused": acks.refused,
            "sent_in_window": sent_in_window, "expected_deliveries": expected,
            "max_schedule_lag_s": max_lag}


@workload
async def broadcast_saturate(ctx: WorkerContext) -> dict[str, Any]:
    """Every client broadcasts to its room in a closed loop (the next one after the ack), at
    most max_rate_per_client a second (our server refuses floods; realistic clients pace)."""
    p, proto = ctx.params, ctx.job.protocol
    deliveries = Deliveries(proto)
    rooms = await connect_rooms(ctx, ctx.job.rooms, deliveries, p.get("connect_concurrency", 100))
    start = (await ctx.sync("connected", {"clients": sum(map(len, rooms))}))["start_at"]
    begin, end = start + p["warmup_s"], start + p["warmup_s"] + p["duration_s"]
    deliveries.begin, deliveries.end = begin, end
    pad = "x" * p.get("pad_bytes", 64)
    interval = 1.0 / p["max_rate_per_client"]
    acks = Acks(begin, end, proto.ack_ok)
    sent = [0]

    async def sender(client: SioClient, phase: float) -> None:
        next_at = start + phase
        while (now := clock()) < end:
            if next_at > now:
                await asyncio.sleep(next_at - now)
                now = clock()
            next_at = now + interval
            event, args = proto.broadcast_event({"t": now, "pad": pad})
            acks.waiter(now)(await client.call(event, *args, timeout_s=max(1.0, end - now + 5)))
            sent[0] += begin <= now < end

    rng = random.Random(ctx.job.index)
    await sleep_until(start)
    with ctx.measured():
        async with asyncio.TaskGroup() as tg:
            for peer in flat(rooms):
                tg.create_task(sender(peer.client, rng.random() * interval))
    await close_all(flat(rooms))
    return {"received_in_window": deliveries.received_in_window,
            "broadcasts_in_window": sent[0], "refused": acks.refused,
            "delivery_s": deliveries.latency["broadcast"]}


@workload
async def join_storm(ctx: WorkerContext) -> dict[str, Any]:
    """All clients connect and join at once from a common start instant."""
    members = [m for room in ctx.job.rooms for m in room]
    deliveries = Deliveries(ctx.job.protocol)
    start = (await ctx.sync("ready"))["start_at"]
    done: list[float] = []

    async def one(member: Member) -> Peer:
        peer = await connect_member(ctx, member, deliveries)
        done.append(clock())
        return peer

    await sleep_until(start)
    with ctx.measured():
        outcomes = await asyncio.gather(*(one(m) for m in members), return_exceptions=True)
    peers = [o for o in outcomes if isinstance(o, Peer)]
    failures = [repr(o) for o in outcomes if not isinstance(o, Peer)]
    await ctx.sync("joined", {"clients": len(peers)})
    await close_all(peers)
    return {"join_s": [t - start for t in done], "failures": failures[:5],
            "failed": len(failures)}


@workload
async def idle_hold(ctx: WorkerContext) -> dict[str, Any]:
    """Warm the server with one exercised room, then hold the rest connected and idle."""
    deliveries = Deliveries(ctx.job.protocol)
    warm_room, *rest = ctx.job.rooms
    warm = (await connect_rooms(ctx, [warm_room], deliveries, 10))[0]
    proto = ctx.job.protocol
    for i, peer in enumerate(warm):
        if "broadcast" in proto.supports:
            await peer.client.call(*_flat_call(proto.broadcast_event({"pad": "warm"})))
        if "relay" in proto.supports and len(warm) > 1:
            to = warm[(i + 1) % len(warm)].address
            await peer.client.call(*_flat_call(proto.relay_event(to, {"pad": "warm"})))
    await ctx.sync("warm", {"clients": len(warm)})
    held = await connect_rooms(ctx, rest, deliveries, ctx.params.get("connect_concurrency", 50))
    await ctx.sync("connected", {"clients": sum(map(len, held))})
    await close_all(warm + flat(held))
    return {"held": sum(map(len, held))}


def _flat_call(call: tuple[str, list[Any]]) -> tuple[Any, ...]:
    return (call[0], *call[1])
