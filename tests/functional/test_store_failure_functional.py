"""A store that fails for a moment: clients get an error, the log gets no gap, the
meeting is reloaded from the log and goes on."""

import asyncio
from collections.abc import Sequence

from rooms import Event
from server.keys import HUB
from server.round_timer import RETRY_S
from server.store import MemoryStore, StoreError
from tests.support import start_server


class FlakyStore(MemoryStore):
    """The in-memory store, failing the appends it is told to fail; ``hold`` keeps the
    next failing append waiting (a slow disk) until it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = 0
        self.failing = False
        self.failed = asyncio.Event()
        self.hold: asyncio.Event | None = None
        self.held = asyncio.Event()

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.fail_next or self.failing:
            self.fail_next = max(0, self.fail_next - 1)
            if self.hold is not None:
                self.held.set()
                await self.hold.wait()
            self.failed.set()
            raise StoreError("The disk is full.")
        await super().append(meeting, events)


async def test_a_failed_append_is_an_error_and_the_meeting_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FlakyStore()
    server = await start_server(tmp_path / "d", store=store)
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        bo = await m.participant("Bo", "Vasa")
        await anna.ok("chat", {"text": "ett"})
        store.fail_next = 1
        failed = await anna.call("chat", {"text": "förlorat"})
        assert failed["error"]["code"] == "store_unavailable"
        await anna.ok("chat", {"text": "två"})
        log = await store.read(m.id)
        assert [e.seq for e in log] == list(range(1, len(log) + 1))  # no gap
        texts = [e.data["text"] for e in log if e.type == "chat.sent"]
        assert texts == ["ett", "två"]
        live = server.app[HUB].get(m.id).state
        assert [c.text for c in live.meeting.chat["plenary"]] == ["ett", "två"]
        seen = [e["data"]["text"] for e in bo.inbox.events("chat.sent")]
        assert "förlorat" not in seen
    finally:
        await server.stop()


async def test_a_refused_event_is_never_handed_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Not by ``sync`` asked while the append is under way, nor after it failed, nor by a
    resuming client's ``welcome``, nor by the review API; the real event of that seq
    then reaches everyone."""
    store = FlakyStore()
    server = await start_server(tmp_path / "d", store=store)
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        bo = await m.participant("Bo", "Vasa")
        await anna.ok("chat", {"text": "ett"})
        head = bo.last_seq()
        store.fail_next, store.hold = 1, asyncio.Event()
        lost = asyncio.create_task(anna.call("chat", {"text": "förlorat"}))
        await asyncio.wait_for(store.held.wait(), 5)  # the refused chat is in memory now
        during = asyncio.create_task(bo.call("sync", {"last_seq": head}))
        await asyncio.sleep(0)
        store.hold.set()
        assert (await lost)["error"]["code"] == "store_unavailable"
        answers = [await during, await bo.call("sync", {"last_seq": head})]
        for answer in answers:
            assert answer["ok"], answer
            assert answer["data"]["welcome"]["seq"] == head
            assert "förlorat" not in str(answer["data"]["welcome"])
        status, log = await server.api("GET", f"/api/meetings/{m.id}/log")
        assert status == 200 and log["seq"] == head and "förlorat" not in str(log)
        status, view = await server.api("GET", f"/api/meetings/{m.id}/state")
        assert status == 200 and "förlorat" not in str(view)
        cleo = server.client(m.tokens["participant"], meeting=m.id, resume=anna.resume_token,
                             last_seq=head)
        await cleo.connect()
        await cleo.ok("join", {})
        welcome = await cleo.inbox.wait("welcome")
        assert welcome["seq"] == head and "förlorat" not in str(welcome)
        real = await cleo.ok("chat", {"text": "två"})  # cleo took over anna's session
        assert real["seq"] == head + 1
        got = await bo.inbox.wait("event", lambda e: e["type"] == "chat.sent"
                                  and e["data"]["text"] == "två")
        assert got["seq"] == head + 1
        assert "förlorat" not in str(bo.inbox.items) + str(cleo.inbox.items)
    finally:
        await server.stop()


async def test_sync_above_the_head_is_refused_with_a_fresh_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = await start_server(tmp_path / "d")
    try:
        m = await server.new_meeting()
        anna = await m.participant()
        head = anna.last_seq()
        answer = await anna.call("sync", {"last_seq": head + 5})
        assert answer["ok"] is False and answer["error"]["code"] == "seq_ahead"
        fresh = anna.inbox.named("welcome")[-1]
        assert len(anna.inbox.named("welcome")) == 2
        assert fresh["seq"] == head and fresh["snapshot"]["seq"] == head
        resumed = server.client(m.tokens["participant"], meeting=m.id,
                                resume=anna.resume_token, last_seq=head + 5)
        await resumed.connect()
        await resumed.ok("join", {})
        welcome = await resumed.inbox.wait("welcome")
        assert welcome["seq"] == head + 0 and "snapshot" in welcome and "missed" not in welcome
    finally:
        await server.stop()


async def test_a_deadline_that_fails_to_log_closes_the_round_after_recovery(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FlakyStore()
    server = await start_server(tmp_path / "d", store=store)
    try:
        m = await server.new_meeting()
        fia = await m.facilitator()
        for name in ("Anna", "Bo"):
            await m.participant(name, "Vasa")
        await fia.ok("round.preview", {"group_count": 2, "duration_s": 60, "closing_s": 0,
                                        "warning_s": 0})
        await fia.ok("round.open")
        store.failing = True
        store.failed.clear()
        extended = await fia.call("round.extend", {"delta_s": -59})  # fails: deadline unchanged
        assert extended["error"]["code"] == "store_unavailable"
        store.failing = False
        await fia.ok("round.extend", {"delta_s": -59})  # the deadline is 1 s away
        store.failing = True
        store.failed.clear()
        await server.advance(1)
        await asyncio.wait_for(store.failed.wait(), 5)  # the deadline came; its write failed
        store.failing = False
        await server.armed(f"round:{m.id}")
        await server.advance(RETRY_S)  # the timer tries again, and the store is back
        await fia.inbox.wait("event", lambda e: e["type"] == "round.closed")
        log = await store.read(m.id)
        assert [e.type for e in log].count("round.closed") == 1
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert server.app[HUB].get(m.id).state.rounds[-1].phase == "closed"
    finally:
        await server.stop()
