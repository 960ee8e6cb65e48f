"""The whole state of a meeting: the core meeting plus its facilitation.

``Session.apply`` folds one log event: the meeting core takes its own
events, and the reducers here take rounds, help requests and the agenda.
The server, restart recovery and the review player all fold with this.
"""

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from facilitation.rounds import Phase, Round, Strategy
from facilitation.schedule import Constraints
from rooms import Event, Meeting, Role, moves_of


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

    def apply(self, event: Event) -> None:
        self.meeting.apply(event)
        reducer = _REDUCERS.get(event.type)
        if reducer is not None:
            reducer(self, event)
        self._count_arrivals(event)

    def _count_arrivals(self, event: Event) -> None:
        """Whoever any event moves into a group room of the open round met its members."""
        r = self.current()
        if r is None or not r.live:
            return
        arrivals = dict(moves_of(event))
        if event.type == "participant.joined" and event.data.get("room") in r.rooms:
            arrivals[event.data["id"]] = event.data["room"]
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


def fold(events: Iterable[Event], state: Session | None = None) -> Session:
    session = state if state is not None else Session()
    for event in events:
        session.apply(event)
    return session


def _round(s: Session, e: Event) -> Round:
    found = s.round(e.data["id"])
    assert found is not None, f"event {e.seq} names an unknown round"
    return found


def _previewed(s: Session, e: Event) -> None:
    d = e.data
    s.rounds.append(
        Round(
            id=d["id"],
            number=d["number"],
            strategy=Strategy(d["strategy"]),
            seed=d["seed"],
            duration_s=d["duration_s"],
            closing_s=d["closing_s"],
            warning_s=d["warning_s"],
            prompts=list(d["prompts"]),
            groups=[list(g) for g in d["groups"]],
            capacity=d.get("capacity"),
            activity=d.get("activity"),
            roaming=d.get("roaming", False),
            plan=d.get("plan"),
            away=list(d.get("away", [])),
            include_away=d.get("include_away", False),
            min_size=d.get("min_size", 2),
        )
    )


def _cancelled(s: Session, e: Event) -> None:
    _round(s, e).phase = Phase.CANCELLED


def _regrouped(s: Session, e: Event) -> None:
    _round(s, e).groups = [list(g) for g in e.data["groups"]]


def _chosen(s: Session, e: Event) -> None:
    r, pid, group = _round(s, e), e.data["participant"], e.data["group"]
    if group is None:
        r.choices.pop(pid, None)
    else:
        r.choices[pid] = group


def _opened(s: Session, e: Event) -> None:
    r, d = _round(s, e), e.data
    r.phase = Phase.OPEN
    r.groups = [list(g) for g in d["groups"]]
    r.rooms = list(d["rooms"])
    r.met = [list(g) for g in r.groups]
    r.opened_at = e.ts
    r.deadline = d["deadline"]
    r.warned = d["warned"]


def _placed(s: Session, e: Event) -> None:
    r = _round(s, e)
    r.groups[e.data["group"]].append(e.data["participant"])
    if r.met:
        r.arrived(e.data["participant"], r.rooms[e.data["group"]])


def _moved(s: Session, e: Event) -> None:
    r, pid, group = _round(s, e), e.data["participant"], e.data["group"]
    r.groups = [[p for p in g if p != pid] for g in r.groups]
    if group is not None:
        r.groups[group].append(pid)


def _extended(s: Session, e: Event) -> None:
    r = _round(s, e)
    r.deadline, r.warned = e.data["deadline"], e.data["warned"]
    r.phase, r.closes_at = Phase.OPEN, None


def _warned(s: Session, e: Event) -> None:
    _round(s, e).warned = True


def _closing(s: Session, e: Event) -> None:
    r = _round(s, e)
    r.phase, r.closes_at = Phase.CLOSING, e.data["closes_at"]


def _closed(s: Session, e: Event) -> None:
    r = _round(s, e)
    r.phase, r.closed_at, r.close_reason = Phase.CLOSED, e.ts, e.data["reason"]
    s.help.clear()


def _broadcast(s: Session, e: Event) -> None:
    _round(s, e).broadcasts.append(e.data["text"])


def _help_requested(s: Session, e: Event) -> None:
    d = e.data
    s.help[d["participant"]] = HelpRequest(d["participant"], d["room"], d.get("round"), e.ts)


def _help_answered(s: Session, e: Event) -> None:
    s.help.pop(e.data["participant"], None)


def _joined(s: Session, e: Event) -> None:
    """A join comes from a live connection: online from now. So the first join needs
    no ``presence.changed`` of its own (one event less per join to every client)."""
    s.online.setdefault(e.data["id"], e.ts)


def _left(s: Session, e: Event) -> None:
    s.help.pop(e.data["id"], None)
    _went_offline(s, e.data["id"], e.ts)


def _went_offline(s: Session, pid: str, at: int) -> None:
    since = s.online.pop(pid, None)
    if since is not None:
        s.attended_ms[pid] = s.attended_ms.get(pid, 0) + max(0, at - since)


def _presence(s: Session, e: Event) -> None:
    """Online from ``at``, or offline since ``at`` (the disconnect, logged only once
    the person stayed away the debounce time)."""
    pid, at = e.data["participant"], e.data["at"]
    if e.data["online"]:
        s.online.setdefault(pid, at)
    else:
        _went_offline(s, pid, at)


def _recording_deleted(s: Session, e: Event) -> None:
    s.recording_deleted = True


def _ended(s: Session, e: Event) -> None:
    for pid in list(s.online):
        _went_offline(s, pid, e.ts)


def _agenda_set(s: Session, e: Event) -> None:
    d = e.data
    s.agenda = AgendaState(d.get("template"), d["lang"], list(d["activities"]))


def _agenda_started(s: Session, e: Event) -> None:
    if s.agenda is not None:
        s.agenda.cursor = e.data["index"]


def _board_shown(s: Session, e: Event) -> None:
    s.shown_board = e.data["room"]


def _board_updated(s: Session, e: Event) -> None:
    room = e.data["room"]
    s.board_updates[room] = s.board_updates.get(room, 0) + 1
    if e.data.get("origin") is None:
        s.board_edits[room] = s.board_edits.get(room, 0) + 1


def _constrained(s: Session, e: Event) -> None:
    d = e.data
    s.constraints = MixConstraints([list(p) for p in d["together"]],
                                   [list(p) for p in d["apart"]], d["fair_seats"])


_REDUCERS: dict[str, Callable[[Session, Event], None]] = {
    "mix.constrained": _constrained,
    "board.shown": _board_shown,
    "board.updated": _board_updated,
    "round.previewed": _previewed,
    "round.cancelled": _cancelled,
    "round.regrouped": _regrouped,
    "round.chosen": _chosen,
    "round.opened": _opened,
    "round.placed": _placed,
    "round.moved": _moved,
    "round.extended": _extended,
    "round.warned": _warned,
    "round.closing": _closing,
    "round.closed": _closed,
    "round.broadcast": _broadcast,
    "help.requested": _help_requested,
    "help.answered": _help_answered,
    "participant.joined": _joined,
    "participant.left": _left,
    "presence.changed": _presence,
    "meeting.ended": _ended,
    "recording.deleted": _recording_deleted,
    "agenda.set": _agenda_set,
    "agenda.started": _agenda_started,
}
