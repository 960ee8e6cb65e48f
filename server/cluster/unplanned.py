"""Someone heard of as online before their join reached this process.

A participant who joins on another process comes online there; this process hears of
it twice, by two roads: the presence message (``Presence``, pub/sub) and their
``participant.joined`` (the log's tail). When the presence comes first, the meeting
here has no such participant yet, so the re-plan it brings cannot place them, and the
join, when it is taken in, re-plans nothing (a local join re-plans through its coming
online). The others' peer plans and SFU feeds here would then miss the newcomer until
some later change. This keeps who came online too early, and names the rooms to
re-plan once their join is in.
"""

from collections.abc import Sequence

from rooms import Event, Meeting
from rooms.events import ParticipantJoined


class Unplanned:
    def __init__(self) -> None:
        self._early: set[tuple[str, str]] = set()  # (meeting, participant)

    def heard(self, meeting: str, state: Meeting, pid: str, online: bool) -> None:
        """Presence of ``pid`` from another process, as the meeting here stands."""
        if online and pid not in state.participants:
            self._early.add((meeting, pid))
        else:
            self._early.discard((meeting, pid))

    def joined(self, meeting: str, state: Meeting, fresh: Sequence[Event]) -> frozenset[str]:
        """The rooms to re-plan now that ``fresh`` (taken in from the log) is folded."""
        rooms: set[str] = set()
        for event in fresh:
            if event.type == ParticipantJoined.TYPE:
                pid = event.data["id"]
                person = state.participants.get(pid)
                if (meeting, pid) in self._early and person is not None:
                    self._early.discard((meeting, pid))
                    rooms.add(person.room)
        return frozenset(rooms)

    def forget(self, meeting: str) -> None:
        """The meeting is not held here any more."""
        self._early = {key for key in self._early if key[0] != meeting}
