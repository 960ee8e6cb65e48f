"""Presence transitions in the log, debounced, folded into attendance."""

from pathlib import Path

from server.keys import HUB
from tests.support import start_server


async def _presence_events(server, meeting_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    status, body = await server.api("GET", f"/api/meetings/{meeting_id}/log")
    assert status == 200
    return [e for e in body["events"] if e["type"] == "presence.changed"]


async def test_flaky_link_logs_nothing_and_a_long_absence_logs_offline_once(
        tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data")  # a debounce of 10 s, grace of 60 s
    debounce = server.settings.presence_debounce_s
    try:
        meeting = await server.new_meeting()
        anna = await meeting.participant("Anna")
        bo = await meeting.participant("Bo")  # watches the log's events go out
        # Joining is coming online: the join event says so, no presence event of its own.
        assert await _presence_events(server, meeting.id) == []
        hub = server.app[HUB]
        assert anna.participant in hub.get(meeting.id).state.online
        joined_at = hub.get(meeting.id).state.online[anna.participant]
        # A flaky link: ten drops and returns within the debounce time.
        for _ in range(10):
            await anna.close()
            again = server.client(meeting.tokens["participant"], meeting=meeting.id,
                                  resume=anna.resume_token)
            await again.connect()
            await again.join("Anna")
            anna = again
        await server.advance(debounce + 1)  # longer than the debounce: nothing may appear
        assert await _presence_events(server, meeting.id) == []
        # Away for good: one offline event, at the moment of the drop.
        dropped_at = server.clock.now_ms()
        await anna.close()
        await server.armed(f"presence:{meeting.id}:{anna.participant}")
        await server.advance(debounce - 0.1)
        assert await _presence_events(server, meeting.id) == []
        await server.advance(0.1)
        await bo.inbox.wait("event", lambda e: e["type"] == "presence.changed"
                            and not e["data"]["online"])
        events = [e for e in await _presence_events(server, meeting.id)
                  if e["actor"] == anna.participant]
        assert [e["data"]["online"] for e in events] == [False]
        assert events[0]["data"]["at"] == dropped_at
        assert events[0]["ts"] - events[0]["data"]["at"] == debounce * 1000  # logged after it
        state = hub.get(meeting.id).state
        assert anna.participant not in state.online
        minutes = state.attendance_ms(events[0]["ts"] + 10_000)[anna.participant]
        assert minutes == events[0]["data"]["at"] - joined_at
        # Back after being logged away: that return is logged.
        back = server.client(meeting.tokens["participant"], meeting=meeting.id,
                             resume=anna.resume_token)
        await back.connect()
        await back.join("Anna")
        await bo.inbox.wait("event", lambda e: e["type"] == "presence.changed"
                            and e["data"]["online"] and e["actor"] == anna.participant)
        assert anna.participant in hub.get(meeting.id).state.online
        await back.close()
    finally:
        await server.stop()
