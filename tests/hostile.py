"""Helpers of the tests that attack the server: its log as bytes, a server that lets
floods through to the handlers, joined members on raw websockets."""

from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from server.config import Limits
from tests.rawsio import Closed, RawSocket
from tests.support import ADMIN_TOKEN, Meeting, RunningServer, start_server


class LogReader:
    """The meeting's log as the REST API gives it, byte for byte (one HTTP session)."""

    def __init__(self, meeting: Meeting) -> None:
        self.url = f"{meeting.server.url}/api/meetings/{meeting.id}/log?limit=10000"
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "LogReader":
        self.http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.http is not None
        await self.http.close()

    async def __call__(self) -> bytes:
        assert self.http is not None
        async with self.http.get(self.url) as resp:
            assert resp.status == 200
            return await resp.read()


async def read_log(meeting: Meeting) -> bytes:
    async with LogReader(meeting) as reader:
        return await reader()



async def fuzz_server(tmp_path: Any, serializer: str) -> RunningServer:
    # Generous rate limits: the fuzzer should reach the handlers, not the bucket.
    limits = replace(Limits(), rate_per_second=100_000.0, rate_burst=100_000)
    return await start_server(tmp_path / "data", serializer, limits=limits)


def check_ack(answer: Any) -> None:
    assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), answer
    if not answer["ok"]:
        error = answer["error"]
        assert isinstance(error["code"], str) and error["code"], answer
        assert isinstance(error["message"], str) and error["message"], answer
        assert error["code"] != "internal_error", "an unexpected exception: a bug"


@dataclass
class RawMember:
    """A joined participant or facilitator on a raw websocket."""

    meeting: Meeting
    role: str
    serializer: str
    sock: RawSocket | None = None
    resume: str | None = None

    async def ensure(self) -> RawSocket:
        if self.sock is not None and not self.sock.closed.is_set():
            return self.sock
        if self.sock is not None:
            await self.sock.close()
        self.sock = RawSocket(self.meeting.server.url, self.serializer)
        await self.sock.open()
        auth = {"token": self.meeting.tokens[self.role], "meeting": self.meeting.id}
        if self.resume:
            auth["resume"] = self.resume
        assert "sid" in await self.sock.connect(auth)
        profile = {} if self.resume else {"name": f"Raw {self.role}", "municipality": "Hangö"}
        answer = await self.sock.call("join", profile)
        assert answer["ok"], answer
        self.resume = answer["data"]["resume_token"]
        return self.sock

    async def close(self) -> None:
        if self.sock is not None:
            await self.sock.close()


async def probe(sock: RawSocket) -> bool:
    """Whether the connection still answers a harmless event (False: it closed)."""
    answer = await probe_answer(sock)
    assert answer is None or answer["ok"], answer
    return answer is not None


async def probe_answer(sock: RawSocket) -> Any:
    """The answer to a harmless event, or None if the connection closed."""
    try:
        return await sock.call("agenda.templates", {}, timeout=1.5)
    except (Closed, TimeoutError):
        return None
