"""Generated and mutated input at every event and at the raw framing, as a joined
participant, as a facilitator and (for events) as a connection that has not joined, with
both packet formats. The server must stay up,
answer every event with an ack (or close the connection cleanly), and leave the
meeting's log byte for byte as it was whenever it refused the input."""

import asyncio
import contextlib
import functools
import json
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socketio import packet as sio_packet
from socketio.msgpack_packet import MsgPackPacket

from server import authz
from server import protocol as p
from server.keys import GATEWAY
from tests.hostile import LogReader, RawMember, check_ack, fuzz_server, probe_answer
from tests.rawsio import Closed, RawSocket
from tests.support import Meeting, RunningServer

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=250,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
UNKNOWN = ["", "x" * 300, "chat ", "CHAT", "__proto__", "constructor", "round", "\u0000",
           "board.update\u200b", "🎉"]
# Timers run from an open round and would append to the log behind the test's back.
NEVER_VALID = {"round.open"}
EDGE_TEXT = ["", " ", "\u0000", "\ud800", "\udfff", "\ufeff", "\u202e", "e\u0301" * 300,
             "🏳️\u200d🌈", "\u0085\u2028\u2029", "x" * 4001, "😀" * 2001, "\U0010ffff",
             " \t\n ", "<script>", "%s%n", "null", "\\u0000"]


def leaves(surrogates: bool, known: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Scalars: edge cases, and the meeting's real ids and rooms to get past lookups."""
    edge = [t for t in EDGE_TEXT if surrogates or not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    return st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
                     st.sampled_from([2**70, -(2**70), 0, -1, 10**6]),
                     st.floats(allow_nan=False), st.text(max_size=40),
                     st.sampled_from(edge), st.binary(max_size=64), st.sampled_from(known))


@functools.cache
def values(surrogates: bool, known: tuple[str, ...] = ("plenary",)) -> st.SearchStrategy[Any]:
    return st.recursive(leaves(surrogates, known), lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def payloads(fields: tuple[str, ...], surrogates: bool,
             known: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Anything; things shaped like the event's payload with wrong parts; huge things."""
    names = list(fields) or ["text"]
    anything = values(surrogates, known)
    shaped = st.dictionaries(st.sampled_from([*names, "extra", "meeting", "room"]), anything,
                             max_size=len(names) + 1)
    huge = st.sampled_from([{names[0]: "x" * 120_000}, {names[0]: deep(60)}, deep(300),
                            ["x"] * 20_000, {names[0]: "x" * 140_000}])
    return st.one_of(anything, shaped, shaped, huge)


@dataclass
class Fuzzer:
    """A meeting with a facilitator and two participants, and its log as bytes."""

    meeting: Meeting
    clients: dict[str, Any] = field(default_factory=dict)
    log: bytes = b""

    reader: LogReader | None = None

    @property
    def server(self) -> RunningServer:
        return self.meeting.server

    def known(self) -> tuple[str, ...]:
        return tuple(c.participant for c in self.clients.values() if c.participant)

    async def read_log(self) -> bytes:
        assert self.reader is not None
        return await self.reader()

    async def start(self) -> None:
        self.clients["facilitator"] = await self.meeting.facilitator()
        self.clients["participant"] = await self.meeting.participant()
        self.clients["peer"] = await self.meeting.participant("Bo", "Esbo")
        await self.new_guest()
        self.log = await self.read_log()

    async def new_guest(self) -> None:
        """A connection with a valid invitation that has not joined (yet)."""
        if "guest" in self.clients:
            await self.clients["guest"].close()
        guest = self.server.client(self.meeting.tokens["participant"], meeting=self.meeting.id)
        await guest.connect()
        self.clients["guest"] = guest

    async def rejoin(self, role: str) -> Any:
        old = self.clients[role]
        await old.close()
        fresh = self.server.client(self.meeting.tokens[role], meeting=self.meeting.id,
                                   resume=old.resume_token)
        await fresh.connect()
        answer = await fresh.call("join", {})
        assert answer["ok"], answer
        fresh.participant, fresh.resume_token = old.participant, answer["data"]["resume_token"]
        self.clients[role] = fresh
        return fresh

    async def still_serves(self) -> None:
        """A fresh client can join and chat."""
        newcomer = await self.meeting.participant("Nina", "Lojo")
        assert (await newcomer.call("chat", {"text": "hej"}))["ok"]
        await newcomer.close()
        self.log = await self.read_log()


@pytest.fixture
async def fuzzer(tmp_path, serializer):  # type: ignore[no-untyped-def]
    server = await fuzz_server(tmp_path, serializer)
    f = Fuzzer(await server.new_meeting())
    async with LogReader(f.meeting) as reader:
        f.reader = reader
        await f.start()
        yield f
    await server.stop()


def cases(serializer: str, kinds: dict[str, type[Any]], names: list[str],
          known: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str, Any]]:
    surrogates = serializer == "json"
    table = {name: payloads(tuple(getattr(kinds.get(name), "__struct_fields__", ())),
                            surrogates, known) for name in names}
    return st.tuples(st.sampled_from(["participant", "facilitator", "guest"]),
                     st.sampled_from(names)).flatmap(
        lambda re: st.tuples(st.just(re[0]), st.just(re[1]), table[re[1]]))


async def ack_or_close(client: Any, event: str, payload: Any) -> Any:
    """The event's ack, or None if the server closed the connection instead."""
    ack = asyncio.ensure_future(client.sio.call(event, payload, timeout=5))
    closed = asyncio.ensure_future(client.disconnected(6.0))
    await asyncio.wait({ack, closed}, return_when=asyncio.FIRST_COMPLETED)
    if ack.done() and ack.exception() is None:
        closed.cancel()
        return ack.result()
    ack.cancel()
    assert await closed, f"no ack and no close for {event!r} {payload!r:.300}"
    return None


async def send_case(f: Fuzzer, role: str, event: str, payload: Any) -> None:
    client = f.clients[role]
    answer = await ack_or_close(client, event, payload)
    after = await f.read_log()
    if answer is not None:
        try:
            check_ack(answer)
        except AssertionError as exc:
            raise AssertionError(f"{role} {event!r} {payload!r:.300}: {exc}") from exc
    if answer is None or not answer["ok"]:
        assert after == f.log, f"refused {event!r} {payload!r:.200} changed the log"
    f.log = after
    gone = answer is None or not client.sio.connected
    if role == "guest" and (gone or (event == "join" and answer["ok"])):
        await f.new_guest()  # the guest stays one who has not joined
    elif gone or (event == "leave" and answer["ok"]):
        await f.rejoin(role)
    f.log = await f.read_log()


def _encodable(serializer: str, payload: Any) -> bool:
    try:
        if serializer == "msgpack":
            msgpack.packb(payload)
        else:
            json.dumps(payload, default=lambda b: None)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False
    return True


def kinds_of(server: RunningServer) -> dict[str, type[Any]]:
    """Each registered event's payload type."""
    return {name: entry[0] for name, entry in server.app[GATEWAY]._handlers.items()}


def is_valid(kind: type[Any] | None, payload: Any) -> bool:
    if kind is None:
        return False
    try:
        p.decode(kind, payload)
    except (p.InvalidMessage, TypeError, ValueError):
        return False
    return True


@pytest.mark.timeout(120)
async def test_fuzzed_payloads_at_every_event(fuzzer: Fuzzer, serializer: str) -> None:
    kinds = kinds_of(fuzzer.server)
    examples: list[tuple[str, str, Any]] = []

    known = (*fuzzer.known(), "plenary", fuzzer.meeting.id)

    @FUZZ
    @given(cases(serializer, kinds, sorted(authz.EVENTS) + UNKNOWN, known))
    def collect(case: tuple[str, str, Any]) -> None:
        _, event, payload = case
        if _encodable(serializer, payload) and not (event in NEVER_VALID and
                                                     is_valid(kinds.get(event), payload)):
            examples.append(case)
    collect()
    assert len(examples) > 60
    for role, event, payload in examples:
        await send_case(fuzzer, role, event, payload)
    await fuzzer.still_serves()


@pytest.mark.parametrize("serializer", ["json"])
async def test_a_lone_surrogate_in_a_field_name_is_an_invalid_payload(meeting: Meeting) -> None:
    """Found by the fuzzer: msgspec cannot encode such a key, which was an internal error."""
    anna = await meeting.participant()
    answer = await anna.call("chat", {"\udfff": "hej"})
    assert answer["ok"] is False and answer["error"]["code"] == "invalid_payload", answer


# -- raw Engine.IO / Socket.IO framing ------------------------------------------------------

def mutate(frame: str | bytes, edits: list[tuple[int, int, int]]) -> str | bytes:
    """Replace, insert or delete single bytes (characters) of a frame."""
    chars = bytearray(frame) if isinstance(frame, bytes) else list(frame)
    for op, where, value in edits:
        i = where % (len(chars) + 1)
        item = value if isinstance(frame, bytes) else chr(value % 0x800 or 32)
        if op == 0 and i < len(chars):
            chars[i] = item  # type: ignore[call-overload]
        elif op == 1:
            chars.insert(i, item)  # type: ignore[arg-type]
        elif i < len(chars):
            del chars[i]
    return bytes(chars) if isinstance(frame, bytes) else "".join(chars)  # type: ignore[arg-type]


def frames(serializer: str) -> st.SearchStrategy[tuple[str, str | bytes]]:
    encoder = RawSocket("http://x", serializer)
    base = st.builds(lambda name, data: encoder.encode(2, [name, data], 7),
                     st.sampled_from(sorted(authz.EVENTS)),
                     values(False).filter(lambda v: _encodable(serializer, v)))
    edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 255)),
                     min_size=1, max_size=6)
    mutated = st.builds(mutate, base, edits)
    text = st.one_of(st.text(max_size=60), st.from_regex(r"4[0-6][0-9]{0,3}[\[{\"].{0,40}",
                                                          fullmatch=True))
    garbage = st.one_of(text, st.binary(max_size=80), mutated, mutated)
    return st.tuples(st.sampled_from(["participant", "facilitator"]), garbage)


@pytest.mark.timeout(120)
async def test_fuzzed_frames_on_a_raw_websocket(tmp_path, serializer: str) -> None:  # type: ignore[no-untyped-def]
    server = await fuzz_server(tmp_path, serializer)
    try:
        await fuzz_frames(await server.new_meeting(), serializer)
    finally:
        await server.stop()


async def fuzz_frames(meeting: Meeting, serializer: str) -> None:
    members = {role: RawMember(meeting, role, serializer)
               for role in ("participant", "facilitator")}
    examples: list[tuple[str, str | bytes]] = []

    @FUZZ
    @given(frames(serializer))
    def collect(case: tuple[str, str | bytes]) -> None:
        examples.append(case)
    collect()
    problems: list[str] = []
    try:
        async with LogReader(meeting) as read:
            await fuzz_examples(members, examples, read, problems, serializer)
    finally:
        for member in members.values():
            await member.close()
    newcomer = await meeting.participant("Nina", "Lojo")
    assert (await newcomer.call("chat", {"text": "hej"}))["ok"]
    assert not problems, "\n".join(problems)


def read_as_server(frame: str | bytes, serializer: str) -> str:
    """What python-socketio's own decoder makes of a frame: 'close' (the client closes),
    'event' (a known event, which may be valid) or 'other'."""
    try:
        if isinstance(frame, str) and frame.startswith("1"):
            return "close"
        if isinstance(frame, str) and frame.startswith("4") and serializer == "json":
            pkt = sio_packet.Packet(encoded_packet=frame[1:])
        elif isinstance(frame, bytes) and serializer == "msgpack":
            pkt = MsgPackPacket(encoded_packet=frame)
        else:
            return "other"
    except Exception:
        return "other"
    if pkt.packet_type == sio_packet.DISCONNECT and pkt.namespace in (None, "/"):
        return "close"
    if (pkt.packet_type in (sio_packet.EVENT, sio_packet.BINARY_EVENT)
            and isinstance(pkt.data, list) and pkt.data
            and isinstance(pkt.data[0], str) and pkt.data[0] in authz.EVENTS):
        return "event"
    return "other"


async def fuzz_examples(members: dict[str, RawMember], examples: list[tuple[str, str | bytes]],
                        read_log: LogReader, problems: list[str], serializer: str) -> None:
    log, sock = b"", None
    for role, frame in examples:
        previous, sock = sock, await members[role].ensure()
        if sock is not previous:
            log = await read_log()
        seen = set(sock.acked)
        with contextlib.suppress(Closed):
            await sock.send(frame)
        kind = read_as_server(frame, serializer)
        if kind == "close":
            await sock.close()  # a close packet: this client has closed
            continue  # (the server leaving the websocket open is tested on its own)
        answer = await probe_answer(sock)
        alive = answer is not None
        if alive and not answer["ok"]:
            if kind == "event" and answer["error"]["code"] == "not_joined":
                await sock.close()  # a valid `leave` among the mutations: join again
            else:
                problems.append(f"after {frame!r:.200} a harmless event got {answer}")
        after = await read_log()
        answers = [a for i, a in sock.acked.items() if i not in seen and i <= 1000]
        accepted = any(isinstance(a, dict) and a.get("ok") for a in answers) or (
            kind == "event" and not answers)  # a valid event sent without an ack id
        if not (alive or sock.closed.is_set()):
            problems.append(f"no answer, no close after {frame!r:.200}")
            await sock.close()
        if not accepted and after != log:
            problems.append(f"the refused frame {frame!r:.200} changed the log")
        log = after
