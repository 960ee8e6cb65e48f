"""Decisions about breakout rounds: preview, open, run, close.

Like ``rooms.commands``, every function checks the rules against the
current ``Session`` and returns the drafts to append, or raises a named
error. Time (``now`` in wall-clock ms), ids and seeds come in as arguments.
"""

import math
from collections.abc import Collection, Sequence
from typing import Annotated

import msgspec
from msgspec import UNSET
from msgspec.structs import replace

from facilitation.assignment import keep, manual, mix, random_groups
from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import (
    HelpAlreadyRequested,
    InfeasibleConstraint,
    InsufficientCapacity,
    InvalidConstraint,
    InvalidDuration,
    InvalidGroupCount,
    InvalidGroupIndex,
    InvalidMapping,
    InvalidRound,
    NoParticipants,
    NoPreviousRound,
    NoRound,
    NotInBreakout,
    RoundAlreadyClosed,
    RoundInProgress,
    UnknownParticipant,
)
from facilitation.late_join import place_late_joiner
from facilitation.people import Person
from facilitation.plans import MAX_PLANNED_ROUNDS, PlanRequest, fit, plan_request
from facilitation.rounds import Phase, Round, Strategy, room_id
from facilitation.schedule import Plan
from facilitation.self_select import SelfSelect
from facilitation.session import Session
from facilitation.sizing import resolve_group_count
from rooms import PLENARY, SYSTEM, Draft, Participant, Role
from rooms import commands as core
from rooms.commands import clean_text, present, require_facilitator
from rooms.events import (
    HandsCleared,
    HelpAnswered,
    HelpRequested,
    MixConstrained,
    ParticipantJoined,
    ParticipantMoved,
    RoomSpec,
    RoundBroadcast,
    RoundCancelled,
    RoundChosen,
    RoundClosed,
    RoundClosing,
    RoundExtended,
    RoundOpened,
    RoundPlaced,
    RoundPreviewed,
    RoundRegrouped,
    RoundWarned,
)
from rooms.municipalities import municipality_id

MIN_DURATION_S = 30  # warm-ups can be this short
MAX_DURATION_S = 3 * 60 * 60
PROMPT_MAX = 2000
BROADCAST_MAX = 500


class RoundSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a facilitator asks for when creating a round."""

    strategy: Strategy = Strategy.MIX
    group_count: Annotated[int, msgspec.Meta(ge=-1000, le=10_000)] | None = None
    group_size: Annotated[int, msgspec.Meta(ge=-1000, le=10_000)] | None = None
    duration_s: Annotated[int, msgspec.Meta(ge=-1, le=10**7)] = 15 * 60
    prompt: Annotated[str, msgspec.Meta(max_length=PROMPT_MAX)] = ""
    prompts: list[Annotated[str, msgspec.Meta(max_length=PROMPT_MAX)]] | None = None
    mapping: dict[str, Annotated[int, msgspec.Meta(ge=-1, le=10_000)]] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    closing_s: Annotated[int, msgspec.Meta(ge=0, le=600)] = 30
    warning_s: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 60
    activity: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    roaming: bool = False  # participants may change groups or return to the plenary
    rounds: Annotated[int, msgspec.Meta(ge=1, le=MAX_PLANNED_ROUNDS)] | None = None
    include_away: bool = False
    min_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2


MAX_CONSTRAINT_PAIRS = 200


def assignable(s: Session, online: Collection[str] | None = None,
               include_away: bool = True) -> list[Person]:
    """Present participants (facilitators are never assigned), in join order.

    With ``online`` (who is connected now, known to the server), people within
    their grace period are left out unless ``include_away``.
    """
    return [Person(p.id, municipality_id(p.municipality)) for p in s.meeting.present()
            if p.role is Role.PARTICIPANT
            and (online is None or include_away or p.id in online)]


def away(s: Session, online: Collection[str] | None) -> list[str]:
    """Present participants who are not connected now (within their grace period)."""
    if online is None:
        return []
    return [p.id for p in s.meeting.present()
            if p.role is Role.PARTICIPANT and p.id not in online]


def preview(s: Session, actor: str, round_id: str, spec: RoundSpec, seed: int,
            encounters: Encounters = NO_ENCOUNTERS, online: Collection[str] | None = None,
            plan: Plan | None = None) -> list[Draft]:
    """Propose groups; a preview already shown is replaced.

    ``online`` is who is connected now: the others (within their grace period)
    are listed apart as ``away`` and grouped only with ``include_away``.
    ``plan`` is a session plan computed for this round (``plans.plan_request``);
    without one, a round that needs a plan computes it here.
    """
    require_facilitator(s.meeting, actor)
    drafts = _replace_preview(s)
    _check_duration(spec.duration_s)
    people = assignable(s, online, spec.include_away)
    if spec.strategy is Strategy.MIX and people:
        if plan is None:
            request = plan_request(s, strategy=spec.strategy, group_count=spec.group_count,
                                   group_size=spec.group_size, rounds=spec.rounds,
                                   people=people, seed=seed, encounters=encounters)
            plan = _run_plan(s, request) if request is not None else None
    else:
        plan = None
    if plan is not None:
        groups, capacity = fit(plan.rounds[0], people, encounters), None
    else:
        groups, capacity = _assign(s, spec, people, seed, encounters)
    left_out = away(s, online)
    previewed = RoundPreviewed(
        id=round_id, number=1 + sum(r.opened_at is not None for r in s.rounds),
        strategy=spec.strategy.value, seed=seed, duration_s=spec.duration_s,
        closing_s=spec.closing_s, warning_s=spec.warning_s,
        prompts=_prompts(spec, len(groups)), groups=groups,
        capacity=UNSET if capacity is None else capacity,
        activity=clean_text(spec.activity, field="activity", max_len=64)
        if spec.activity else UNSET,
        roaming=True if spec.roaming else UNSET,
        away=left_out if left_out else UNSET,
        include_away=True if spec.include_away else UNSET,
        min_size=spec.min_size if spec.min_size != 2 else UNSET,
        plan=UNSET if plan is None else {
            **plan.summary(), "group_count": spec.group_count, "group_size": spec.group_size,
            "next": [[list(g) for g in groups] for groups in plan.rounds[1:]]},
    )
    return [*drafts, previewed]


def _run_plan(s: Session, request: PlanRequest) -> Plan:
    try:
        return request.run()
    except InfeasibleConstraint as exc:
        raise named(s, exc) from None


def named(s: Session, exc: InfeasibleConstraint) -> InfeasibleConstraint:
    """The same error with participant ids replaced by display names."""
    message = str(exc)
    for pid, p in s.meeting.participants.items():
        message = message.replace(pid, p.name)
    return InfeasibleConstraint(message)


def set_constraints(s: Session, actor: str, together: Sequence[Sequence[str]],
                    apart: Sequence[Sequence[str]], fair_seats: bool) -> list[Draft]:
    """Replace the facilitator's mixing constraints (pairs together, pairs apart,
    fair rotation of the seats in larger groups); they apply to ``mix`` rounds."""
    require_facilitator(s.meeting, actor)
    if len(together) + len(apart) > MAX_CONSTRAINT_PAIRS:
        raise InvalidConstraint(f"At most {MAX_CONSTRAINT_PAIRS} pairs can be constrained.")
    seen: dict[frozenset[str], str] = {}
    for kind, pairs in (("together", together), ("apart", apart)):
        for pair_ in pairs:
            if len(pair_) != 2:
                raise InvalidConstraint(f"A {kind} constraint names exactly two people.")
            a, b = pair_
            for pid in (a, b):
                p = s.meeting.participants.get(pid)
                if p is None or p.role is not Role.PARTICIPANT:
                    raise InvalidConstraint(f"{pid!r} in a {kind} constraint is not a "
                                            "participant of this meeting.")
            if a == b:
                raise InvalidConstraint(f"A {kind} constraint names {a!r} twice.")
            key = frozenset((a, b))
            if key in seen:
                raise InvalidConstraint(f"{a!r} and {b!r} are constrained twice "
                                        f"({seen[key]} and {kind}).")
            seen[key] = kind
    return [MixConstrained(together=[list(p) for p in together],
                           apart=[list(p) for p in apart], fair_seats=fair_seats)]


def place_returning(s: Session, participant: str,
                    encounters: Encounters = NO_ENCOUNTERS) -> list[Draft]:
    """Someone present but in no group of the open round (away when it opened) is
    back: they join the group that suits them at once."""
    r = s.current()
    p = s.meeting.participants.get(participant)
    if (r is None or not r.live or p is None or not p.present
            or p.role is not Role.PARTICIPANT or r.group_of(participant) is not None):
        return []
    municipality_of = {q.id: q.municipality for q in s.meeting.participants.values()}
    group = place_late_joiner(r.groups, Person(participant, p.municipality),
                              municipality_of=municipality_of, encounters=encounters)
    return [RoundPlaced(id=r.id, participant=participant, group=group,
                        moves={participant: r.rooms[group]})]


def regroup(s: Session, actor: str, participant: str, group: int) -> list[Draft]:
    """Move one person to another group in the preview."""
    require_facilitator(s.meeting, actor)
    r = _current(s)
    r.guard("regroup")
    _require_assignable(s, participant)
    _require_group(r, group)
    if r.strategy is Strategy.SELF_SELECT:
        return [RoundChosen(id=r.id, participant=participant, group=group)]
    groups = [[pid for pid in g if pid != participant] for g in r.groups]
    groups[group].append(participant)
    return [RoundRegrouped(id=r.id, groups=groups)]


def choose(s: Session, actor: str, group: int | None) -> list[Draft]:
    """A participant picks (or with None, un-picks) a group of a self-select round."""
    present(s.meeting, actor)
    r = _current(s)
    r.guard("choose")
    if r.strategy is not Strategy.SELF_SELECT:
        raise InvalidRound("In this round the groups are not chosen by the participants.")
    _require_assignable(s, actor)
    selection = _selection(s, r)
    if group is None:
        selection.withdraw(actor)
    else:
        selection.choose(actor, group)
    return [RoundChosen(id=r.id, participant=actor, group=group)]


def cancel(s: Session, actor: str) -> list[Draft]:
    require_facilitator(s.meeting, actor)
    r = _current(s)
    r.guard("cancel")
    return [RoundCancelled(id=r.id)]


def open_round(s: Session, actor: str, now: int,
               encounters: Encounters = NO_ENCOUNTERS,
               online: Collection[str] | None = None) -> list[Draft]:
    """Open the previewed round: rooms open, everyone moves to their group.

    Only people online now are sent (unless the preview included those away);
    groups smaller than the round's minimum are merged into the others, and
    the event says so (``rebalanced``).
    """
    require_facilitator(s.meeting, actor)
    r = _current(s)
    r.guard("open")
    people = assignable(s, online, r.include_away)
    if not people:
        raise NoParticipants("There is nobody to send to groups.")
    groups, prompts = _final_groups(s, r, people, encounters)
    groups, prompts, rebalanced = _rebalance(groups, prompts, r.min_size, people, encounters)
    rooms = [room_id(r.id, i) for i in range(len(groups))]
    # The plenary's raised hands are put aside (logged, so they can be restored after).
    lowered = [HandsCleared(reason="round", hands=list(s.meeting.hands))] \
        if s.meeting.hands else []
    left_out = [pid for pid in away(s, online) if not r.include_away]
    # One event opens every room and moves everyone: one delivery per client.
    return [*lowered, RoundOpened(
        id=r.id, groups=groups, rooms=rooms, prompts=prompts,
        deadline=now + r.duration_s * 1000,
        warned=r.warning_s == 0 or r.warning_s >= r.duration_s,
        opens=[RoomSpec(id=room, kind="breakout", name=str(i + 1), round=r.id)
               for i, room in enumerate(rooms)],
        moves={pid: room for room, group in zip(rooms, groups, strict=True) for pid in group},
        away=left_out if left_out else UNSET,
        rebalanced=rebalanced if rebalanced else UNSET)]


def extend(s: Session, actor: str, delta_s: int, now: int) -> list[Draft]:
    """Lengthen (or with a negative delta, shorten) the open round."""
    require_facilitator(s.meeting, actor)
    r = _current(s)
    r.guard("extend")
    assert r.deadline is not None and r.opened_at is not None
    base = r.deadline if r.phase is Phase.OPEN else now
    deadline = base + delta_s * 1000
    if deadline <= now:
        raise InvalidDuration("That would end the round in the past; close it instead.")
    if deadline - r.opened_at > MAX_DURATION_S * 1000:
        raise InvalidDuration("A round can last at most three hours.")
    return [RoundExtended(id=r.id, deadline=deadline, delta_s=delta_s,
                          warned=r.warning_s == 0)]


def close(s: Session, actor: str, reason: str = "facilitator") -> list[Draft]:
    """Close the round now: everyone in its rooms returns to the plenary."""
    if actor != SYSTEM:
        require_facilitator(s.meeting, actor)
    r = s.current()
    if r is None:
        last = s.rounds[-1] if s.rounds else None
        if last is not None:
            last.guard("close")
        raise NoRound("There is no open round.")
    r.guard("close")
    back = {p.id: PLENARY for p in s.meeting.present() if p.room in r.rooms}
    return [RoundClosed(id=r.id, reason=reason, moves=back, closes=list(r.rooms))]


def tick(s: Session, now: int) -> list[Draft]:
    """Whatever the clock says is due now: the warning, the closing countdown, the close."""
    r = s.current()
    if r is None or not r.live:
        return []
    assert r.deadline is not None
    drafts: list[Draft] = []
    closes_at = r.closes_at
    if r.phase is Phase.OPEN:
        if not r.warned and now >= r.deadline - r.warning_s * 1000 and now < r.deadline:
            drafts.append(RoundWarned(id=r.id, deadline=r.deadline))
        if now >= r.deadline:
            closes_at = r.deadline + r.closing_s * 1000
            drafts.append(RoundClosing(id=r.id, closes_at=closes_at))
    if closes_at is not None and now >= closes_at:
        drafts += close(s, SYSTEM, "deadline")
    return drafts


def broadcast(s: Session, actor: str, text: str) -> list[Draft]:
    require_facilitator(s.meeting, actor)
    r = _current(s)
    r.guard("broadcast")
    body = clean_text(text, field="message", max_len=BROADCAST_MAX)
    return [RoundBroadcast(id=r.id, text=body)]


def visit(s: Session, actor: str, group: int | None) -> list[Draft]:
    """A facilitator goes to a group's room (or back to the plenary with None)."""
    me = require_facilitator(s.meeting, actor)
    if group is None:
        return [] if me.room == PLENARY else [_move(actor, PLENARY, me.room)]
    r = _current(s)
    if not r.live:
        raise NotInBreakout("The round's groups are not open.")
    _require_group(r, group)
    room = r.rooms[group]
    drafts = [] if me.room == room else [_move(actor, room, me.room)]
    drafts += [HelpAnswered(participant=h.participant, room=room, by=actor)
               for h in s.help.values() if h.room == room]
    return drafts


def request_help(s: Session, actor: str) -> list[Draft]:
    me = present(s.meeting, actor)
    r = s.current()
    if r is None or not r.live or me.room not in r.rooms:
        raise NotInBreakout("Help can be asked for from a breakout group.")
    if actor in s.help:
        raise HelpAlreadyRequested("Your group has already asked for help.")
    return [HelpRequested(participant=actor, room=me.room, round=r.id,
                          group=r.rooms.index(me.room))]


def answer_help(s: Session, actor: str, participant: str) -> list[Draft]:
    require_facilitator(s.meeting, actor)
    request = s.help.get(participant)
    if request is None:
        raise UnknownParticipant("That help request is not open.")
    return [HelpAnswered(participant=participant, room=request.room, by=actor)]


def join(s: Session, participant: str, role: Role, *, name: str | None = None,
         municipality: str | None = None, sector: str | None = None,
         title: str | None = None, encounters: Encounters = NO_ENCOUNTERS,
         person: str | None = None) -> list[Draft]:
    """Join the meeting (see ``rooms.commands.join``); during a round a participant
    goes straight to their group, or a late joiner to the group that suits them."""
    drafts = core.join(s.meeting, participant, role, name=name, municipality=municipality,
                       sector=sector, title=title, person=person)
    r = s.current()
    if not drafts or r is None or not r.live:
        return drafts
    joined = drafts[0]
    assert isinstance(joined, ParticipantJoined)
    if joined.role != Role.PARTICIPANT.value:
        return drafts
    group = r.group_of(participant)
    extra: list[Draft] = []
    if group is None:
        municipality_of = {p.id: municipality_id(p.municipality)
                           for p in s.meeting.participants.values()}
        here = Person(participant, municipality_id(joined.municipality))
        group = place_late_joiner(r.groups, here,
                                  municipality_of=municipality_of, encounters=encounters)
        extra = [RoundPlaced(id=r.id, participant=participant, group=group)]
    return [replace(joined, room=r.rooms[group]), *extra]


def next_due(s: Session) -> int | None:
    r = s.current()
    return r.next_due() if r is not None else None


def _replace_preview(s: Session) -> list[Draft]:
    r = s.current()
    if r is None:
        return []
    if r.phase is not Phase.PREVIEW:
        raise RoundInProgress(f"Round {r.number} is still open; close it first.")
    return [RoundCancelled(id=r.id)]


def _assign(s: Session, spec: RoundSpec, people: list[Person], seed: int,
            encounters: Encounters) -> tuple[list[list[str]], int | None]:
    if spec.strategy is Strategy.KEEP:
        previous = s.last_opened()
        if previous is None:
            raise NoPreviousRound("There is no earlier round whose groups could be kept.")
        if spec.group_size is not None or (spec.group_count is not None
                                           and spec.group_count != len(previous.groups)):
            raise InvalidGroupCount(
                f"Keeping the groups reopens the previous round's {len(previous.groups)} "
                "groups; leave out the number or size of groups.")
        return keep(previous.groups, people, encounters=encounters), None
    count = resolve_group_count(len(people), spec.group_count, spec.group_size)
    if spec.strategy is Strategy.MIX:
        return mix(people, group_count=count, seed=seed, encounters=encounters), None
    if spec.strategy is Strategy.RANDOM:
        return random_groups(people, group_count=count, seed=seed), None
    if spec.strategy is Strategy.MANUAL:
        if spec.mapping is None:
            raise InvalidMapping("A manual round needs a mapping of participants to groups.")
        return manual(people, spec.mapping, count, seed=seed, encounters=encounters), None
    capacity = spec.capacity or math.ceil(len(people) / count)
    if capacity * count < len(people):
        raise InsufficientCapacity(f"{count} groups of {capacity} cannot seat "
                                   f"{len(people)} participants.")
    return [[] for _ in range(count)], capacity


def _final_groups(s: Session, r: Round, people: list[Person],
                  encounters: Encounters) -> tuple[list[list[str]], list[str]]:
    if r.strategy is Strategy.SELF_SELECT:
        groups = _selection(s, r).finalize(people, seed=r.seed, encounters=encounters)
    else:
        here = {p.id for p in people}
        groups = [[pid for pid in g if pid in here] for g in r.groups]
        municipality_of = {p.id: p.municipality for p in people}
        for person in people:
            if all(person.id not in g for g in groups):
                index = place_late_joiner(groups, person, municipality_of=municipality_of,
                                          encounters=encounters)
                groups[index].append(person.id)
    kept = [i for i, g in enumerate(groups) if g]
    return [groups[i] for i in kept], [r.prompts[i] for i in kept]


def _rebalance(groups: list[list[str]], prompts: list[str], min_size: int,
               people: list[Person], encounters: Encounters,
               ) -> tuple[list[list[str]], list[str], dict[str, object]]:
    """Merge groups below ``min_size`` into the others, smallest first, while more
    than one group is left; returns what was done (empty if nothing)."""
    groups = [list(g) for g in groups]
    prompts = list(prompts)
    moved: list[str] = []
    merged: list[int] = []
    numbers = list(range(1, len(groups) + 1))
    municipality_of = {p.id: p.municipality for p in people}
    while len(groups) > 1:
        small = min(range(len(groups)), key=lambda g: (len(groups[g]), -g))
        if len(groups[small]) >= min_size:
            break
        members = groups.pop(small)
        prompts.pop(small)
        merged.append(numbers.pop(small))
        for pid in members:
            index = place_late_joiner(groups, Person(pid, municipality_of.get(pid, "")),
                                      municipality_of=municipality_of, encounters=encounters)
            groups[index].append(pid)
            moved.append(pid)
    if not merged:
        return groups, prompts, {}
    return groups, prompts, {"merged": sorted(merged), "moved": moved, "min_size": min_size}


def _selection(s: Session, r: Round) -> SelfSelect:
    capacity = r.capacity or 1
    return SelfSelect(tuple(p.id for p in assignable(s)), (capacity,) * len(r.groups),
                      {pid: g for pid, g in r.choices.items()})


def _prompts(spec: RoundSpec, count: int) -> list[str]:
    def clean(text: str) -> str:
        return clean_text(text, field="task", max_len=PROMPT_MAX, required=False)
    if spec.prompts is None:
        return [clean(spec.prompt)] * count
    if len(spec.prompts) != count:
        raise InvalidRound(f"Give one prompt for all groups or exactly {count} prompts.")
    return [clean(p) for p in spec.prompts]


def _check_duration(seconds: int) -> None:
    if not MIN_DURATION_S <= seconds <= MAX_DURATION_S:
        raise InvalidDuration("A round lasts from 30 seconds to three hours.")


def _current(s: Session) -> Round:
    r = s.current()
    if r is None:
        last = s.rounds[-1] if s.rounds else None
        if last is not None and last.phase in (Phase.CLOSED, Phase.CANCELLED):
            raise RoundAlreadyClosed(f"Round {last.number} is already closed.")
        raise NoRound("There is no round; create one first.")
    return r


def _require_assignable(s: Session, participant: str) -> Participant:
    p = s.meeting.participants.get(participant)
    if p is None or not p.present or p.role is not Role.PARTICIPANT:
        raise UnknownParticipant("That person is not a participant present in this meeting.")
    return p


def _require_group(r: Round, group: int) -> None:
    if not 0 <= group < len(r.groups):
        raise InvalidGroupIndex(f"There is no group {group + 1}.")


def _move(participant: str, room: str, came_from: str) -> Draft:
    return ParticipantMoved(id=participant, room=room, from_=came_from)

