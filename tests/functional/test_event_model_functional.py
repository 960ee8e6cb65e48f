"""A data directory written by the server before the typed event model (commit
4e87455, ``tests/fixtures/meeting_logs_v1``) loads in today's server, folds to the
state it folded to then, and serves its log unchanged; so do its programme and
organiser logs."""

import json
import shutil
from pathlib import Path

import msgspec

from server.keys import HUB, STORE
from server.organisers import WORKSPACE
from server.store.namespaces import ORGANISERS, is_meeting_log, programme_log
from tests.support import start_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def test_an_old_data_dir_loads_and_folds_to_the_same_state(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "meeting_logs_v1", tmp_path / "data")
    expected = json.loads((FIXTURES / "meeting_logs_v1.json").read_text("utf-8"))
    server = await start_server(tmp_path / "data")
    try:
        hub, store = server.app[HUB], server.app[STORE]
        meetings = {key: state for key, state in expected.items() if is_meeting_log(key)}
        assert len(meetings) == 2
        for meeting_id, state in meetings.items():
            live = hub.get(meeting_id)
            assert json.loads(msgspec.json.encode(live.state)) == state
            status, body = await server.api("GET", f"/api/meetings/{meeting_id}/log")
            assert status == 200
            logged = await store.read(meeting_id)
            assert [(e["seq"], e["type"]) for e in body["events"]] == [
                (e.seq, e.type) for e in logged]
            status, summary = await server.api("GET", f"/api/meetings/{meeting_id}")
            assert status == 200 and summary["ended"] is True
        workspace = server.app[WORKSPACE]
        assert json.loads(msgspec.json.encode(workspace.accounts.state)) == expected[ORGANISERS]
        for ledger in workspace.programmes.values():
            key = programme_log(ledger.state.id)
            assert json.loads(msgspec.json.encode(ledger.state)) == expected[key]
    finally:
        await server.stop()
