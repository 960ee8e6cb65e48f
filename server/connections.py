"""Who is connected: one ``Connection`` per Socket.IO sid, with an explicit phase.

    handshake --authenticate--> authenticated --join--> joined --leave--> authenticated
                                                        joined --replace--> replaced
    any --close--> closing

A connection is bound to a participant only while ``joined``; a replaced or closing
connection remembers whom it was (for the grace period) but receives nothing more.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from rooms import Role
from rooms.exceptions import NotJoined
from server.limits import TokenBucket


class Phase(StrEnum):
    HANDSHAKE = "handshake"
    AUTHENTICATED = "authenticated"
    JOINED = "joined"
    REPLACED = "replaced"
    CLOSING = "closing"


class BadTransition(Exception):
    """A connection was asked to change phase in a way its state machine forbids."""


_ALLOWED = {
    (Phase.HANDSHAKE, Phase.AUTHENTICATED),
    (Phase.AUTHENTICATED, Phase.JOINED),
    (Phase.JOINED, Phase.AUTHENTICATED),  # left the meeting, may join again
    (Phase.JOINED, Phase.REPLACED),
    (Phase.JOINED, Phase.JOINED),  # a second join on the same connection
    *((p, Phase.CLOSING) for p in Phase),
}


@dataclass
class Connection:
    sid: str
    meeting: str
    role: Role
    bucket: TokenBucket
    person: str | None = None  # the roster person of a personal link
    municipality: str | None = None  # ... and their municipality on the roster
    phase: Phase = Phase.HANDSHAKE
    #: Who the connection is: claimed by a resume token while authenticated, then
    #: the participant it joined as (kept when replaced or closing, for the grace).
    participant: str | None = None
    #: The last seq the client held when it connected, until its first welcome.
    resume_seq: int | None = None
    speaking: list[float] = field(default_factory=list)  # monotonic times, rate limit
    _claim: str | None = field(default=None, repr=False)  # the resume token's participant

    @property
    def joined(self) -> bool:
        return self.phase is Phase.JOINED

    @property
    def pid(self) -> str:
        """The participant of a joined connection."""
        if self.phase is not Phase.JOINED or self.participant is None:
            raise NotJoined("Join the meeting first.")
        return self.participant

    def to(self, phase: Phase) -> None:
        if (self.phase, phase) not in _ALLOWED:
            raise BadTransition(f"{self.sid}: {self.phase} -> {phase}")
        self.phase = phase

    def authenticated(self, resume_for: str | None, last_seq: int | None) -> None:
        self.to(Phase.AUTHENTICATED)
        self.participant = self._claim = resume_for
        self.resume_seq = last_seq

    def take_resume_seq(self) -> int | None:
        seq, self.resume_seq = self.resume_seq, None
        return seq


@dataclass
class Connections:
    by_sid: dict[str, Connection] = field(default_factory=dict)
    by_meeting: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """Meeting id -> participant id -> that participant's joined connection ids."""
    version: int = 0
    """Counts the changes to ``by_meeting``: who is online is the same while it is."""

    def add(self, conn: Connection) -> None:
        self.by_sid[conn.sid] = conn

    def bind(self, conn: Connection, participant: str) -> None:
        conn.to(Phase.JOINED)
        conn.participant = participant
        self.version += 1
        self.by_meeting.setdefault(conn.meeting, {}).setdefault(participant, set()).add(conn.sid)

    def unbind(self, conn: Connection, to: Phase = Phase.AUTHENTICATED) -> None:
        """Out of the participant's connections: left (authenticated again), replaced
        or closing."""
        if conn.participant is not None:
            self.version += 1
            online = self.by_meeting.get(conn.meeting, {})
            sids = online.get(conn.participant, set())
            sids.discard(conn.sid)
            if not sids:
                online.pop(conn.participant, None)
        if conn.phase is Phase.JOINED or to is Phase.CLOSING:
            conn.to(to)
        if to is Phase.AUTHENTICATED:
            conn.participant = conn._claim  # joining again resumes the same participant

    def remove(self, sid: str) -> Connection | None:
        conn = self.by_sid.pop(sid, None)
        if conn is not None:
            self.unbind(conn, Phase.CLOSING)
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
