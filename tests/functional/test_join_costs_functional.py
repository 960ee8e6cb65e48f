"""A join's costs on the wire (issue 17, item 4): what a new websocket session writes."""

from asyncio import selector_events
from typing import Any

import pytest

from tests.rawsio import RawSocket
from tests.support import RunningServer

pytestmark = pytest.mark.parametrize("serializer", ["json"])


async def test_a_new_websocket_sessions_101_and_open_packet_go_out_in_one_write(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []
    write = selector_events._SelectorSocketTransport.write

    def recording(self: Any, data: Any) -> None:
        writes.append(bytes(data))
        write(self, data)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", recording)
    raw = RawSocket(server.url, "json")
    try:
        await raw.open()  # asserts the first message is Engine.IO's OPEN
    finally:
        await raw.close()
    answers = [w for w in writes if w.startswith(b"HTTP/1.1 101")]
    assert len(answers) == 1
    assert b'0{"sid":"' + raw.eio_sid.encode() in answers[0]  # the OPEN frame with it
    assert not [w for w in writes if b'0{"sid":"' in w and w is not answers[0]]
