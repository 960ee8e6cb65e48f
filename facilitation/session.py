"""The whole state of a meeting: the core meeting plus its facilitation.

``Session.apply`` folds one log event: the meeting core takes its own
events, and the reducers here take rounds, help requests and the agenda.
The server, restart recovery and the review player all fold with this.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from facilitation.rounds import Phase, Round, Strategy
from facilitation.schedule import Constraints
from rooms import Event, Meeting, Role
from rooms.events import (
    MOVERS,
    AgendaSet,
    AgendaStarted,
    BoardShown,
    BoardUpdated,
    Draft,
    HelpAnswered,
    HelpRequested,
    MeetingEnded,
    MixConstrained,
    ParticipantJoined,
    ParticipantLeft,
    PresenceChanged,
    ReactionSent,
    RecordingDeleted,
    RoundBroadcast,
    RoundCancelled,
    RoundChosen,
    RoundClosed,
    RoundClosing,
    RoundExtended,
    RoundMessaged,
    RoundMoved,
    RoundOpened,
    RoundPlaced,
    RoundPreviewed,
    RoundRegrouped,
    RoundWarned,
    decode,
)


class HelpRequest(msgspec.Struct, frozen=True):
    participant: str
    room: str
    round: str | None
    at: int


class AgendaState(msgspec.Struct):
    template: str | None
    lang: str
    activities: list[dict[str, Any]]
    cursor: int | None = None


class MixConstraints(msgspec.Struct):
    """The facilitator's mixing constraints, as folded from ``mix.constrained``."""

    together: list[list[str]] = msgspec.field(default_factory=list)
    apart: list[list[str]] = msgspec.field(default_factory=list)
    fair_seats: bool = False

    def constraints(self) -> Constraints:
        return Constraints(tuple((a, b) for a, b in self.together),
                           tuple((a, b) for a, b in self.apart), self.fair_seats)


class Session(msgspec.Struct):
    meeting: Meeting = msgspec.field(default_factory=Meeting)
    rounds: list[Round] = msgspec.field(default_factory=list)
    help: dict[str, HelpRequest] = msgspec.field(default_factory=dict)
    agenda: AgendaState | None = None
    shown_board: str | None = None
    board_updates: dict[str, int] = msgspec.field(default_factory=dict)
    board_edits: dict[str, int] = msgspec.field(default_factory=dict)  # people's, not seeds
    constraints: MixConstraints = msgspec.field(default_factory=MixConstraints)
    # Logged presence (``presence.changed``): who is online since when, and the
    # milliseconds of each participant's closed online intervals.
    online: dict[str, int] = msgspec.field(default_factory=dict)
    attended_ms: dict[str, int] = msgspec.field(default_factory=dict)
    recording_deleted: bool = False  # only the pseudonymised encounters are left

    @property
    def seq(self) -> int:
        return self.meeting.seq

    @property
    def id(self) -> str:
        return self.meeting.id

    def apply(self, event: Event, body: Draft | None = None) -> None:
        """Fold one event (``body``: its typed data, when the caller has it already, as
        ``LiveMeeting.commit`` has the draft it numbered: no round trip through a dict)."""
        if body is None:
            body = decode(event)
        self.meeting.apply(event, body)
        reducer = _REDUCERS.get(type(body))
        if reducer is not None:
            reducer(self, event, body)
        if event.type in _ARRIVALS:
            self._count_arrivals(body)

    def _count_arrivals(self, body: Draft) -> None:
        """Whoever any event moves into a group room of the open round met its members."""
        r = self.current()
        if r is None or not r.live:
            return
        arrivals = dict(body.moved())
        if isinstance(body, ParticipantJoined) and body.room in r.rooms:
            assert isinstance(body.room, str)
            arrivals[body.id] = body.room
        for pid, room in arrivals.items():
            p = self.meeting.participants.get(pid)
            if p is not None and p.role is Role.PARTICIPANT:
                r.arrived(pid, room)

    def current(self) -> Round | None:
        """The round in preview, open or closing, if there is one."""
        last = self.rounds[-1] if self.rounds else None
        return (
            last
            if last is not None and last.phase in (Phase.PREVIEW, Phase.OPEN, Phase.CLOSING)
            else None
        )

    def round(self, round_id: str) -> Round | None:
        return next((r for r in self.rounds if r.id == round_id), None)

    def attendance_ms(self, at: int) -> dict[str, int]:
        """Online milliseconds per participant up to ``at`` (server time, ms)."""
        totals = dict(self.attended_ms)
        for pid, since in self.online.items():
            totals[pid] = totals.get(pid, 0) + max(0, at - since)
        return totals

    def last_opened(self) -> Round | None:
        return next((r for r in reversed(self.rounds) if r.opened_at is not None), None)


_ARRIVALS = MOVERS | {ParticipantJoined.TYPE}  # the types that can bring people to a room


def fold(events: Iterable[Event], state: Session | None = None) -> Session:
    session = state if state is not None else Session()
    for event in events:
        session.apply(event)
    return session


P = TypeVar("P", bound=Draft)
Reducer = Callable[[Session, Event, P], None]
_REDUCERS: dict[type[Draft], Reducer[Any]] = {}
UNFOLDED: frozenset[type[Draft]] = frozenset({ReactionSent, RoundMessaged})
"""Events seen live that change no state (neither the meeting's nor the session's)."""


def reduces(cls: type[P]) -> Callable[[Reducer[P]], Reducer[P]]:
    """Register the session's reducer of the event class ``cls``."""
    def register(reducer: Reducer[P]) -> Reducer[P]:
        assert cls not in _REDUCERS, f"{cls.__name__} has two reducers"
        _REDUCERS[cls] = reducer
        return reducer
    return register


def reduced() -> frozenset[type[Draft]]:
    """The event classes the session folds (besides the meeting's own)."""
    return frozenset(_REDUCERS)


def _round(s: Session, e: Event, round_id: str) -> Round:
    found = s.round(round_id)
    assert found is not None, f"event {e.seq} names an unknown round"
    return found


@reduces(RoundPreviewed)
def _previewed(s: Session, e: Event, b: RoundPreviewed) -> None:
    s.rounds.append(
        Round(
            id=b.id,
            number=b.number,
            strategy=Strategy(b.strategy),
            seed=b.seed,
            duration_s=b.duration_s,
            closing_s=b.closing_s,
            warning_s=b.warning_s,
            prompts=list(b.prompts),
            groups=[list(g) for g in b.groups],
            capacity=None if b.capacity is UNSET else b.capacity,
            activity=None if b.activity is UNSET else b.activity,
            roaming=False if b.roaming is UNSET else b.roaming,
            plan=None if b.plan is UNSET else b.plan,
            away=[] if b.away is UNSET else list(b.away),
            include_away=False if b.include_away is UNSET else b.include_away,
            min_size=2 if b.min_size is UNSET else b.min_size,
        )
    )


@reduces(RoundCancelled)
def _cancelled(s: Session, e: Event, b: RoundCancelled) -> None:
    _round(s, e, b.id).phase = Phase.CANCELLED


@reduces(RoundRegrouped)
def _regrouped(s: Session, e: Event, b: RoundRegrouped) -> None:
    _round(s, e, b.id).groups = [list(g) for g in b.groups]


@reduces(RoundChosen)
def _chosen(s: Session, e: Event, b: RoundChosen) -> None:
    r = _round(s, e, b.id)
    if b.group is None:
        r.choices.pop(b.participant, None)
    else:
        r.choices[b.participant] = b.group


@reduces(RoundOpened)
def _opened(s: Session, e: Event, b: RoundOpened) -> None:
    r = _round(s, e, b.id)
    r.phase = Phase.OPEN
    r.groups = [list(g) for g in b.groups]
    r.rooms = list(b.rooms)
    r.met = [list(g) for g in r.groups]
    r.opened_at = e.ts
    r.deadline = b.deadline
    r.warned = b.warned


@reduces(RoundPlaced)
def _placed(s: Session, e: Event, b: RoundPlaced) -> None:
    r = _round(s, e, b.id)
    r.groups[b.group].append(b.participant)
    if r.met:
        r.arrived(b.participant, r.rooms[b.group])


@reduces(RoundMoved)
def _moved(s: Session, e: Event, b: RoundMoved) -> None:
    r = _round(s, e, b.id)
    r.groups = [[p for p in g if p != b.participant] for g in r.groups]
    if b.group is not None:
        r.groups[b.group].append(b.participant)


@reduces(RoundExtended)
def _extended(s: Session, e: Event, b: RoundExtended) -> None:
    r = _round(s, e, b.id)
    r.deadline, r.warned = b.deadline, b.warned
    r.phase, r.closes_at = Phase.OPEN, None


@reduces(RoundWarned)
def _warned(s: Session, e: Event, b: RoundWarned) -> None:
    _round(s, e, b.id).warned = True


@reduces(RoundClosing)
def _closing(s: Session, e: Event, b: RoundClosing) -> None:
    r = _round(s, e, b.id)
    r.phase, r.closes_at = Phase.CLOSING, b.closes_at


@reduces(RoundClosed)
def _closed(s: Session, e: Event, b: RoundClosed) -> None:
    r = _round(s, e, b.id)
    r.phase, r.closed_at, r.close_reason = Phase.CLOSED, e.ts, b.reason
    s.help.clear()


@reduces(RoundBroadcast)
def _broadcast(s: Session, e: Event, b: RoundBroadcast) -> None:
    _round(s, e, b.id).broadcasts.append(b.text)


@reduces(HelpRequested)
def _help_requested(s: Session, e: Event, b: HelpRequested) -> None:
    s.help[b.participant] = HelpRequest(b.participant, b.room,
                                        None if b.round is UNSET else b.round, e.ts)


@reduces(HelpAnswered)
def _help_answered(s: Session, e: Event, b: HelpAnswered) -> None:
    s.help.pop(b.participant, None)


@reduces(ParticipantJoined)
def _joined(s: Session, e: Event, b: ParticipantJoined) -> None:
    """A join comes from a live connection: online from now. So the first join needs
    no ``presence.changed`` of its own (one event less per join to every client)."""
    s.online.setdefault(b.id, e.ts)


@reduces(ParticipantLeft)
def _left(s: Session, e: Event, b: ParticipantLeft) -> None:
    s.help.pop(b.id, None)
    _went_offline(s, b.id, e.ts)


def _went_offline(s: Session, pid: str, at: int) -> None:
    since = s.online.pop(pid, None)
    if since is not None:
        s.attended_ms[pid] = s.attended_ms.get(pid, 0) + max(0, at - since)


@reduces(PresenceChanged)
def _presence(s: Session, e: Event, b: PresenceChanged) -> None:
    """Online from ``at``, or offline since ``at`` (the disconnect, logged only once
    the person stayed away the debounce time)."""
    if b.online:
        s.online.setdefault(b.participant, b.at)
    else:
        _went_offline(s, b.participant, b.at)


@reduces(RecordingDeleted)
def _recording_deleted(s: Session, e: Event, b: RecordingDeleted) -> None:
    s.recording_deleted = True


@reduces(MeetingEnded)
def _ended(s: Session, e: Event, b: MeetingEnded) -> None:
    for pid in list(s.online):
        _went_offline(s, pid, e.ts)


@reduces(AgendaSet)
def _agenda_set(s: Session, e: Event, b: AgendaSet) -> None:
    s.agenda = AgendaState(b.template, b.lang, list(b.activities))


@reduces(AgendaStarted)
def _agenda_started(s: Session, e: Event, b: AgendaStarted) -> None:
    if s.agenda is not None:
        s.agenda.cursor = b.index


@reduces(BoardShown)
def _board_shown(s: Session, e: Event, b: BoardShown) -> None:
    s.shown_board = b.room


@reduces(BoardUpdated)
def _board_updated(s: Session, e: Event, b: BoardUpdated) -> None:
    s.board_updates[b.room] = s.board_updates.get(b.room, 0) + 1
    if b.origin is UNSET:
        s.board_edits[b.room] = s.board_edits.get(b.room, 0) + 1


@reduces(MixConstrained)
def _constrained(s: Session, e: Event, b: MixConstrained) -> None:
    s.constraints = MixConstraints([list(p) for p in b.together],
                                   [list(p) for p in b.apart], b.fair_seats)
