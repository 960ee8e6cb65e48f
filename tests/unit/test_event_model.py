"""The typed event model (rooms/events.py) is the one list of log events: the fold,
the audience rules, docs/protocol.md's tables and the browser's reducers follow it,
and logs written before it still decode to the same data and fold to the same state."""

import asyncio
import json
import re
import shutil
import subprocess
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest

from facilitation import session
from programmes import state as programme_state
from programmes.state import Programme
from rooms import EVENTS, Event, Seen, audience, decode, event_docs, meeting
from rooms.events import (
    GROUPS,
    MOVERS,
    ORGANISER_EVENTS,
    PROGRAMME_EVENTS,
    ChatSent,
    Draft,
    InvalidEvent,
    UnknownEvent,
    decode_in,
    type_of,
)
from server.app import STORE_FILE
from server.organisers.accounts import Accounts
from server.store.namespaces import ORGANISERS, is_meeting_log
from server.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "meeting_logs_v1"
STATES = ROOT / "tests" / "fixtures" / "meeting_logs_v1.json"
CLIENT = ROOT / "web_client" / "src"


def fixture_logs(tmp: Path, meetings: bool = True) -> dict[str, list[Event]]:
    """The meetings' logs (or the other logs) in the fixture data directory, by key."""
    shutil.copytree(FIXTURE, tmp / "data")

    async def read() -> dict[str, list[Event]]:
        async with SQLiteStore(tmp / "data" / STORE_FILE) as store:
            return {key: await store.read(key) for key in await store.meetings()
                    if is_meeting_log(key) == meetings}
    return asyncio.run(read())


def test_every_event_class_has_a_reducer_and_an_audience() -> None:
    classes = set(EVENTS.values())
    folded = meeting.reduced() | session.reduced()
    assert classes - folded - session.UNFOLDED == set(), "classes nothing folds"
    assert folded - classes == set(), "reducers of classes that are not log events"
    assert classes >= session.UNFOLDED and not session.UNFOLDED & folded
    for cls in classes:
        assert isinstance(cls.SEEN_BY, Seen), cls
        if cls.SEEN_BY is not Seen.MEETING:  # the audience is the event's room
            assert typing.get_type_hints(cls)["room"] is str, cls


def test_every_event_class_is_listed_once_under_its_own_type() -> None:
    listed = [cls for group in GROUPS.values() for cls in group]
    assert len(listed) == len(set(listed)) == len(EVENTS)
    assert set(listed) == set(Draft.__subclasses__())
    assert all(EVENTS[type_of(cls)] is cls and type_of(cls) == cls.TYPE for cls in listed)


def test_only_declared_bulk_changes_move_people() -> None:
    assert {"participant.moved", "round.opened", "round.placed", "round.moved",
                      "round.closed"} == MOVERS
    with_bulk = {type_of(c) for c in EVENTS.values() if event_docs.bulk(c)}
    assert with_bulk == MOVERS - {"participant.moved"}


def test_a_draft_is_logged_as_the_type_string_and_dict_of_today() -> None:
    draft = ChatSent(id="c1", room="plenary", text="Hej")
    assert (draft.type, draft.data) == ("chat.sent", {"id": "c1", "room": "plenary",
                                                      "text": "Hej"})
    assert decode(Event(1, 0, "a", draft.type, draft.data)) == draft


def test_unknown_types_and_misfit_data_are_refused_by_name() -> None:
    with pytest.raises(UnknownEvent, match="room.opened"):
        decode(Event(3, 0, "f", "room.opened", {"id": "g1", "kind": "breakout", "name": "1"}))
    with pytest.raises(InvalidEvent, match=r"Event 4 \(chat.sent\)"):
        decode(Event(4, 0, "a", "chat.sent", {"room": "plenary"}))
    with pytest.raises(UnknownEvent):
        audience("board.cleared", {"room": "plenary"})


def test_a_data_dir_of_the_untyped_server_decodes_to_the_same_data(tmp_path: Path) -> None:
    logs = fixture_logs(tmp_path)
    events = [e for log in logs.values() for e in log]
    assert {e.type for e in events} == set(EVENTS)  # the fixture has every kind
    for e in events:
        body = decode(e)
        assert body.type == e.type and body.data == e.data, e


def test_a_data_dir_of_the_untyped_server_folds_to_the_same_state(tmp_path: Path) -> None:
    logs = fixture_logs(tmp_path)
    expected = json.loads(STATES.read_text("utf-8"))
    assert len(logs) == 2
    for meeting_id, log in logs.items():
        state = json.loads(msgspec.json.encode(session.fold(log)))
        assert state == expected[meeting_id], meeting_id


def test_the_programme_and_organiser_logs_decode_and_fold_as_before(tmp_path: Path) -> None:
    logs = fixture_logs(tmp_path, meetings=False)
    expected = json.loads(STATES.read_text("utf-8"))
    assert len(logs) == 2
    for key, log in logs.items():
        kinds = ORGANISER_EVENTS if key == ORGANISERS else PROGRAMME_EVENTS
        assert {e.type for e in log} == set(kinds)  # every kind of the log
        assert all(decode_in(kinds, e).data == e.data for e in log)
        state: Accounts | Programme = Accounts() if key == ORGANISERS else Programme()
        for e in log:
            state.apply(e)
        assert json.loads(msgspec.json.encode(state)) == expected[key], key
    assert programme_state.reduced() == set(PROGRAMME_EVENTS.values())


def test_the_audience_follows_the_class(tmp_path: Path) -> None:
    for e in (e for log in fixture_logs(tmp_path).values() for e in log):
        aud, seen = audience(e.type, e.data), EVENTS[e.type].SEEN_BY
        assert (aud.kind == "meeting") == (seen is Seen.MEETING), e.type
        assert aud.facilitators == (seen is Seen.ROOM_AND_FACILITATORS), e.type
        if aud.room is not None:
            assert aud.room == e.data["room"]


def test_the_protocols_event_tables_are_generated_from_the_model() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text("utf-8")
    for group in GROUPS:
        assert event_docs.block(doc, group) == event_docs.markdown(group), (
            f"docs/protocol.md's {group} events differ from rooms/events.py: run "
            "`python -m rooms.event_docs docs/protocol.md web_client/src/events.generated.js`")
    assert event_docs.rewritten(doc) == doc


def test_the_browsers_list_of_event_types_is_generated_from_the_model() -> None:
    assert (CLIENT / event_docs.JS_FILE).read_text("utf-8") == event_docs.javascript(), (
        "run `python -m rooms.event_docs docs/protocol.md web_client/src/events.generated.js`")


SCRIPT = """
import { EVENT_TYPES } from %s
import { REDUCERS, IGNORED } from %s
console.log(JSON.stringify({types: Object.keys(EVENT_TYPES), reduced: Object.keys(REDUCERS),
                            ignored: [...IGNORED]}))
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_browser_folds_or_ignores_every_type_the_server_sends_and_no_other() -> None:
    script = SCRIPT % (json.dumps((CLIENT / event_docs.JS_FILE).as_uri()),
                       json.dumps((CLIENT / "store.js").as_uri()))
    run = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30, check=True)
    out: dict[str, Any] = json.loads(run.stdout)
    types, reduced, ignored = set(out["types"]), set(out["reduced"]), set(out["ignored"])
    assert types == set(EVENTS)
    assert reduced - types == set(), "store.js reduces types the server never sends"
    assert types - reduced - ignored == set(), "types store.js neither reduces nor ignores"
    assert reduced & ignored == set(), "store.js both reduces and ignores"


def test_no_event_type_is_named_by_hand_in_the_core() -> None:
    """rooms/, facilitation/ and programmes/ name event types through the classes only."""
    quoted = re.compile(r"""["']([a-z]+\.[a-z_]+)["']""")
    found = [f"{path.relative_to(ROOT)}: {name}"
             for package in ("rooms", "facilitation", "programmes")
             for path in sorted((ROOT / package).rglob("*.py"))
             if path != ROOT / "rooms" / "events.py"
             for name in quoted.findall(path.read_text("utf-8")) if name in EVENTS]
    assert found == []
