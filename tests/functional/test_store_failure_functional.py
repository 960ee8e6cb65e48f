"""A store that fails for a moment: clients get an error, the log gets no gap, the
meeting is reloaded from the log and goes on."""

from collections.abc import Sequence

from rooms import Event
from server.keys import HUB
from server.store import MemoryStore, StoreError
from tests.support import start_server


class FlakyStore(MemoryStore):
    """The in-memory store, failing the appends it is told to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = 0

    async def append(self, meeting: str, events: Sequence[Event]) -> None:
        if self.fail_next:
            self.fail_next -= 1
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
