"""The fan-out port's address book follows the fold: after every change of rooms, each
connection is addressed in exactly the room the meeting's state has its participant in."""

from server.keys import GATEWAY, HUB
from tests.support import Meeting


def address_book(meeting: Meeting) -> dict[str, set[str]]:
    gw = meeting.server.app[GATEWAY]
    prefix = f"r:{meeting.id}:"
    return {pid: {name for sid in sids for name in gw.sio.rooms(sid, "/")
                  if name.startswith(prefix)}
            for pid, sids in gw.conns.online_set(meeting.id).items()}


def fold(meeting: Meeting) -> dict[str, set[str]]:
    state = meeting.server.app[HUB].get(meeting.id).state
    online = meeting.server.app[GATEWAY].conns.online_set(meeting.id)
    return {pid: {f"r:{meeting.id}:{state.meeting.participants[pid].room}"} for pid in online}


async def test_the_address_book_follows_the_fold(meeting: Meeting) -> None:
    fia = await meeting.facilitator()
    people = [await meeting.participant(f"P{i}", m)
              for i, m in enumerate(["Vasa", "Borgå", "Esbo", "Pargas"])]
    assert address_book(meeting) == fold(meeting)
    await fia.ok("round.preview", {"group_count": 2})
    await fia.ok("round.open")
    book = address_book(meeting)
    assert book == fold(meeting) and len(set.union(*book.values())) == 3
    await fia.ok("round.move", {"participant": people[0].participant, "group": None})
    assert address_book(meeting) == fold(meeting)
    await fia.ok("round.close", {})
    assert address_book(meeting) == fold(meeting)
    await people[1].ok("leave")
    assert people[1].participant not in address_book(meeting)
    gw = meeting.server.app[GATEWAY]
    sid = people[1].sio.get_sid("/")
    assert [name for name in gw.sio.rooms(sid, "/") if name != sid] == []
