"""The plenary through Janus: what it costs, and how fast rooms switch.

- ``fanout``: P publishers × S subscribers in one plenary. Publishers send pre-encoded
  VP8 (no encoder in the loop), subscribers count frames without decoding them (aiortc's
  decoder thread is replaced by a counter). Janus's and our server's CPU (% of one core),
  RSS and threads over a window, and the frames each subscriber received per stream.
- ``switch``: N participants in the plenary through the SFU; a facilitator opens a round
  (groups of 4, peer to peer) and closes it. Time from ``round.open`` until every group
  pair's data channel is open, and from ``round.close`` until everyone receives every
  other plenary feed again.

Runs in its own network namespace (needs root): Janus and our server are started inside it,
subscribers in ``--workers`` processes. Run:
``.venv/bin/python -m bench.bench_sfu [--pubs 4 --subs 30 --seconds 10 --switch 12]``.
"""

import argparse
import asyncio
import contextlib
import ctypes
import fractions
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
FPS = 30


def enter_namespace() -> None:
    """A private network namespace with lo and a veth pair (10.77.0.1), as scripts/test."""
    if os.environ.get("LEDARSTIG_NETNS") == "1":
        return
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        sys.exit("bench_sfu needs root (a private network namespace for WebRTC)")
    for cmd in ("ip link set lo up", "ip link add wv0 type veth peer name wv1",
                "ip addr add 10.77.0.1/24 dev wv0", "ip link set wv0 up", "ip link set wv1 up"):
        subprocess.run(cmd.split(), check=True)
    os.environ["LEDARSTIG_NETNS"] = "1"


def pre_encoded(frames: int = FPS) -> list[bytes]:
    """One second of 320×240 VP8 (one keyframe), encoded once."""
    import av
    import numpy
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 320, 240, "yuv420p"
    codec.bit_rate, codec.gop_size = 300_000, frames
    codec.time_base = fractions.Fraction(1, FPS)
    out: list[bytes] = []
    for i in range(frames):
        image = numpy.zeros((240, 320, 3), numpy.uint8)
        image[:, (i * 10) % 320:] = (200, 60, 40)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts = i
        out.extend(bytes(p) for p in codec.encode(frame))
    out.extend(bytes(p) for p in codec.encode(None))
    return out


def patch_media(packets: list[bytes]) -> None:
    """Publishers send ``packets`` in a loop; receivers count frames without decoding."""
    import av
    from aiortc import rtcrtpreceiver
    from aiortc.mediastreams import MediaStreamTrack

    import tests.webrtc
    import tests.webrtc_sfu

    class PreEncoded(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self._i = 0
            self._start: float | None = None

        async def recv(self) -> Any:
            if self._start is None:
                self._start = time.monotonic()
            due = self._start + self._i / FPS
            await asyncio.sleep(max(0.0, due - time.monotonic()))  # pacing, as a camera
            packet = av.Packet(packets[self._i % len(packets)])
            packet.pts, packet.time_base = self._i * 3000, fractions.Fraction(1, 90000)
            self._i += 1
            return packet

    dummy = av.VideoFrame(16, 16, "yuv420p")

    def counting_worker(loop: Any, input_q: Any, output_q: Any, decode_error: Any) -> None:
        while (task := input_q.get()) is not None:
            del task
            asyncio.run_coroutine_threadsafe(output_q.put(dummy), loop)
        asyncio.run_coroutine_threadsafe(output_q.put(None), loop)

    rtcrtpreceiver.decoder_worker = counting_worker
    tests.webrtc.ColourBars = PreEncoded  # type: ignore[misc]
    tests.webrtc_sfu.ColourBars = PreEncoded  # type: ignore[misc]


class Remote:
    """Enough of tests.support.RunningServer for its Client: a URL and a serializer."""

    def __init__(self, url: str) -> None:
        self.url, self.serializer = url, "json"


def proc_usage(pid: int) -> tuple[float, int, int]:
    """(CPU seconds, RSS bytes, threads) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines()
                   if line.startswith("VmRSS"))) * 1024
    threads = int(fields[17])
    return cpu, rss, threads


async def join_peers(url: str, tokens: list[tuple[str, bool]], names: str) -> list[Any]:
    from tests.support import Client
    from tests.webrtc_sfu import SfuPeer
    peers = []
    for i, (token, camera) in enumerate(tokens):
        peer = SfuPeer(Client(Remote(url), token), camera=camera)  # type: ignore[arg-type]
        await peer.client.connect()
        await peer.client.join(f"{names}{i}", "Vasa")
        peers.append(peer)
    return peers


def subscriber_worker(url: str, token: str, count: int, seconds: float, packets: list[bytes],
                      out: Any) -> None:
    """A process of ``count`` subscribers: frames received per stream over ``seconds``."""
    patch_media(packets)

    async def run() -> dict[str, Any]:
        peers = await join_peers(url, [(token, False)] * count, "S")
        try:
            out.put(("ready", None))
            await asyncio.sleep(1.0)  # settle after the last subscription; then measure
            before = [dict(p.sfu_frames) for p in peers]
            await asyncio.sleep(seconds)
            rates = [
                (n - before[i].get(pid, 0)) / seconds
                for i, p in enumerate(peers) for pid, n in p.sfu_frames.items()]
            return {"streams": len(rates), "fps": rates}
        finally:
            for p in peers:
                await p.close()
                await p.client.close()
    out.put(("done", asyncio.run(run())))


def start_server(tmp: Path, janus: Any) -> tuple[subprocess.Popen[bytes], str]:
    """Our server as its own process (so its CPU is its own), logging to a file."""
    port = 18080
    env = {**os.environ, "LEDARSTIG_ADMIN_TOKEN": "bench-admin", "LEDARSTIG_SECRET_KEY": "k",
           "LEDARSTIG_JANUS_SECRET": janus.config.api_secret,
           "LEDARSTIG_JANUS_ADMIN_KEY": janus.config.admin_key}
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(tmp / "data"), "--janus-url", janus.config.url,
         "--log-format", "console"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.1)  # the server is still starting
    proc.kill()
    raise RuntimeError("the server did not start")


async def new_meeting(url: str) -> tuple[str, dict[str, str]]:
    import aiohttp
    headers = {"Authorization": "Bearer bench-admin"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{url}/api/meetings", json={
                "title": "Bench", "starts_at": "2026-12-01T09:00:00+02:00",
                "cohort": "B"}) as resp:
            meeting = (await resp.json())["id"]
        async with http.post(f"{url}/api/meetings/{meeting}/invites") as resp:
            body = await resp.json()
    return meeting, {role: link["token"] for role, link in body.items()}


async def wait_sfu_ready(url: str, seconds: float = 20) -> None:
    """Until a probe participant is planned in ``sfu`` mode (Janus connected)."""
    _, tokens = await new_meeting(url)
    from tests.support import Client
    probe = Client(Remote(url), tokens["participant"])  # type: ignore[arg-type]
    await probe.connect()
    await probe.join("Probe", "Vasa")
    await probe.inbox.wait("peers", lambda d: d["mode"] == "sfu", timeout=seconds)
    await probe.close()


async def fanout(url: str, server_pid: int, janus_pid: int, args: argparse.Namespace,
                 packets: list[bytes]) -> dict[str, Any]:
    _, tokens = await new_meeting(url)
    pubs = await join_peers(url, [(tokens["participant"], True)] * args.pubs, "P")
    for p in pubs:
        await asyncio.wait_for(p.published.wait(), 20)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    per = args.subs // args.workers
    workers = [ctx.Process(target=subscriber_worker,
                           args=(url, tokens["participant"], per, args.seconds, packets, out))
               for _ in range(args.workers)]
    for w in workers:
        w.start()
    loop = asyncio.get_running_loop()
    for _ in workers:
        kind, _ = await loop.run_in_executor(None, out.get)
        assert kind == "ready"
    await asyncio.sleep(1.0)
    j0, s0, t0 = proc_usage(janus_pid), proc_usage(server_pid), time.monotonic()
    await asyncio.sleep(args.seconds)
    j1, s1, t1 = proc_usage(janus_pid), proc_usage(server_pid), time.monotonic()
    results = [(await loop.run_in_executor(None, out.get))[1] for _ in workers]
    for w in workers:
        w.join()
    for p in pubs:
        await p.close()
        await p.client.close()
    fps = [r for res in results for r in res["fps"]]
    wall = t1 - t0
    return {
        "publishers": args.pubs, "subscribers": per * args.workers,
        "streams_received": sum(res["streams"] for res in results),
        "janus_cpu_pct": round(100 * (j1[0] - j0[0]) / wall, 1),
        "janus_rss_mb": round(j1[1] / 2**20, 1), "janus_threads": j1[2],
        "server_cpu_pct": round(100 * (s1[0] - s0[0]) / wall, 1),
        "server_rss_mb": round(s1[1] / 2**20, 1),
        "fps_per_stream_median": sorted(fps)[len(fps) // 2] if fps else 0,
        "fps_per_stream_min": min(fps, default=0),
    }


async def switch(url: str, n: int) -> dict[str, Any]:
    _, tokens = await new_meeting(url)
    peers = await join_peers(url, [(tokens["facilitator"], True)]
                             + [(tokens["participant"], True)] * (n - 1), "W")
    fia = peers[0]

    async def everyone_receives_everyone(seconds: float) -> None:
        for x in peers:
            for y in peers:
                if x is not y:
                    await x.wait_sfu_frames(y.id, n=1, seconds=seconds)
    try:
        await everyone_receives_everyone(30)
        t0 = time.monotonic()
        await fia.client.ok("round.preview", {"group_size": 4})
        await fia.client.ok("round.open")
        for p in peers[1:]:
            await p.wait_mode("mesh")
            for other in (q["id"] for q in p.plans[-1]["peers"]):
                await p.wait_connected(other, 10)
        to_mesh = time.monotonic() - t0
        t1 = time.monotonic()
        await fia.client.ok("round.close")
        await everyone_receives_everyone(30)
        back = time.monotonic() - t1

        def median_mark(kind: str, last: bool = False) -> float:
            times = []
            for p in peers:
                marks = [t for k, c, t in p.marks if k == kind and t > t1
                         and (kind != "feeds" or c == n)]
                if marks:
                    times.append((marks[-1] if last else marks[0]) - t1)
            return round(sorted(times)[len(times) // 2], 2) if times else -1.0
        return {"participants": n, "to_mesh_s": round(to_mesh, 2), "back_to_sfu_s": round(back, 2),
                "back_published_median_s": median_mark("published"),
                "back_all_feeds_listed_median_s": median_mark("feeds"),
                "back_last_first_frame_median_s": median_mark("frame", last=True),
                "janus_offers": sum(p.janus_offers for p in peers),
                "errors": sorted({e[:160] for p in peers for e in p.errors})}
    finally:
        for p in peers:
            await p.close()
            await p.client.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from tests.media_servers import running_janus
    packets = pre_encoded()
    patch_media(packets)
    with tempfile.TemporaryDirectory() as tmp:
        async with running_janus(Path(tmp) / "janus") as janus:
            server, url = start_server(Path(tmp), janus)
            try:
                await wait_sfu_ready(url)
                assert janus.process is not None
                out: dict[str, Any] = {"load_before": os.getloadavg()}
                if args.subs:
                    out["fanout"] = await fanout(url, server.pid, janus.process.proc.pid,
                                                 args, packets)
                if args.switch:
                    out["switch"] = await switch(url, args.switch)
                out["load_after"] = os.getloadavg()
                return out
            finally:
                server.terminate()
                t = time.monotonic()
                server.wait(30)
                print(f"server stopped {time.monotonic() - t:.1f} s after SIGTERM", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pubs", type=int, default=4)
    parser.add_argument("--subs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--switch", type=int, default=12)
    parsed = parser.parse_args()
    enter_namespace()
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(asyncio.run(main(parsed)), indent=2))
