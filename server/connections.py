"""Who is connected: Socket.IO sids, their meeting and participant."""

from dataclasses import dataclass, field

from rooms import Role
from server.limits import TokenBucket


@dataclass
class Connection:
    sid: str
    meeting: str
    role: Role
    bucket: TokenBucket
    participant: str | None = None
    resume_for: str | None = None
    person: str | None = None  # the roster person of a personal link
    municipality: str | None = None  # ... and their municipality on the roster
    last_seq: int | None = None
    replaced: bool = False


@dataclass
class Connections:
    by_sid: dict[str, Connection] = field(default_factory=dict)
    by_meeting: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """Meeting id -> participant id -> that participant's connection ids."""

    def add(self, conn: Connection) -> None:
        self.by_sid[conn.sid] = conn

    def bind(self, conn: Connection, participant: str) -> None:
        conn.participant = participant
        self.by_meeting.setdefault(conn.meeting, {}).setdefault(participant, set()).add(conn.sid)

    def unbind(self, conn: Connection) -> None:
        if conn.participant is not None:
            online = self.by_meeting.get(conn.meeting, {})
            sids = online.get(conn.participant, set())
            sids.discard(conn.sid)
            if not sids:
                online.pop(conn.participant, None)
        conn.participant = None

    def remove(self, sid: str) -> Connection | None:
        conn = self.by_sid.pop(sid, None)
        if conn is not None and conn.participant is not None:
            pid = conn.participant
            self.unbind(conn)
            conn.participant = pid
        return conn

    def sids_of(self, meeting: str, participant: str) -> set[str]:
        return set(self.online_set(meeting).get(participant, ()))

    def online(self, meeting: str, participant: str) -> bool:
        return participant in self.online_set(meeting)

    def online_in(self, meeting: str) -> list[str]:
        return list(self.online_set(meeting))

    def online_set(self, meeting: str) -> dict[str, set[str]]:
        """Participant id -> their connection ids, for one meeting (read-only)."""
        return self.by_meeting.get(meeting, {})

    def __len__(self) -> int:
        return len(self.by_sid)
