"""Breakout rounds, help requests and the agenda."""

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from facilitation import breakouts as b
from facilitation import list_templates, planning, steering
from facilitation.exceptions import InfeasibleConstraint
from facilitation.history import network_report
from facilitation.plans import plan_request
from rooms import SYSTEM, Event, moves_of
from rooms.commands import require_facilitator
from server import protocol as p
from server.connections import Connection
from server.gateway import Gateway
from server.hub import MeetingNotFound
from server.live import LiveMeeting
from server.planner import DEBOUNCE_S, Planner, continuing_seed

log = logging.getLogger("ledarstig.rounds")
_REPLAN_AFTER = frozenset({"participant.joined", "participant.left", "round.opened",
                           "round.closed", "mix.constrained"})


def register(gw: Gateway) -> None:
    planner = Planner(scheduler=gw.scheduler)
    gw.closers.append(planner.close)

    def online(meeting: str) -> set[str]:
        return set(gw.conns.online_set(meeting))

    async def preview(conn: Connection, msg: p.RoundPreview) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        require_facilitator(state.meeting, gw.pid(conn))
        seed = msg.seed if msg.seed is not None else continuing_seed(state)
        seed = seed if seed is not None else secrets.randbelow(2**31)
        round_id = f"r{secrets.token_hex(4)}"
        spec = msg.spec()
        encounters = gw.encounters(conn.meeting)
        here = online(conn.meeting)
        request = plan_request(state, strategy=spec.strategy, group_count=spec.group_count,
                               group_size=spec.group_size, rounds=spec.rounds,
                               people=b.assignable(state, here, spec.include_away),
                               seed=seed, encounters=encounters)
        try:
            plan = await planner.plan(conn.meeting, request) if request is not None else None
        except InfeasibleConstraint as exc:
            raise b.named(gw.hub.get(conn.meeting).state, exc) from None
        answer = await gw.run(conn, lambda s, pid: b.preview(
            s, pid, round_id, spec, seed, encounters, online(conn.meeting), plan))
        r = gw.hub.get(conn.meeting).state.round(round_id)
        assert r is not None
        extra = {"plan": {k: v for k, v in r.plan.items() if k != "next"}} if r.plan else {}
        return {**answer, "round": round_id, "groups": r.groups, "seed": seed, **extra}

    async def open_(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        encounters = gw.encounters(conn.meeting)
        return await gw.run(conn, lambda s, pid: b.open_round(s, pid, gw.clock.now_ms(),
                                                              encounters, online(conn.meeting)))

    async def constraints(conn: Connection, msg: p.MixConstraints) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: b.set_constraints(
            s, pid, msg.together, msg.apart, msg.fair_seats))

    async def replan(meeting: str) -> None:
        try:
            live = gw.hub.get(meeting)
        except MeetingNotFound:
            return
        request = planner.next_request(live.state, online(meeting),
                                       lambda: gw.encounters(meeting))
        if request is not None:
            try:
                await planner.plan(meeting, request)
            except Exception as exc:  # shown to the facilitator at the preview
                log.info("re-planning %s failed: %s", meeting, exc)

    def changed(meeting: str) -> None:
        """Debounced: re-plan the next round of a running plan once joins settle."""
        try:
            state = gw.hub.get(meeting).state
        except MeetingNotFound:
            return
        if continuing_seed(state) is not None:
            planner.later(meeting, DEBOUNCE_S, lambda: replan(meeting))

    async def on_events(live: LiveMeeting, events: Sequence[Event]) -> None:
        if any(e.type in _REPLAN_AFTER or moves_of(e) for e in events):
            changed(live.id)

    async def on_presence(meeting: str, participant: str) -> None:
        """A participant who comes back during a round joins a group at once."""
        if gw.conns.online(meeting, participant):
            state = gw.hub.get(meeting).state
            r = state.current()
            if r is not None and r.live and r.group_of(participant) is None:
                encounters = gw.encounters(meeting)
                await gw.hub.execute(meeting, SYSTEM, lambda s: b.place_returning(
                    s, participant, encounters))
        changed(meeting)

    gw.hub.listeners.append(on_events)
    gw.on_presence.append(on_presence)

    async def extend(conn: Connection, msg: p.Extend) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: b.extend(s, pid, msg.delta_s,
                                                          gw.clock.now_ms()))

    async def network(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        state = gw.hub.get(conn.meeting).state
        require_facilitator(state.meeting, gw.pid(conn))
        return network_report(state, gw.hub.cohort_of(conn.meeting))

    async def overview(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        """What the console shows of each group beyond the log events it receives."""
        state = gw.hub.get(conn.meeting).state
        require_facilitator(state.meeting, gw.pid(conn))
        r = state.current()
        rooms = r.rooms if r is not None else []
        return {"rooms": {room: {"board_edits": state.board_edits.get(room, 0)}
                          for room in rooms}}

    async def templates(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        return {"templates": [{"id": t.id, "titles": dict(t.titles)} for t in list_templates()]}

    def simple(name: str, kind: type[Any], decide: Any) -> None:
        async def handler(conn: Connection, msg: Any) -> dict[str, Any]:
            return await gw.run(conn, lambda s, pid: decide(s, pid, msg))
        gw.command(name, kind, handler)

    gw.command("round.preview", p.RoundPreview, preview)
    gw.command("mix.constraints", p.MixConstraints, constraints)
    gw.command("round.open", p.Empty, open_)
    gw.command("round.extend", p.Extend, extend)
    simple("round.regroup", p.Regroup, lambda s, pid, m: b.regroup(s, pid, m.participant,
                                                                   m.group))
    simple("round.choose", p.Choose, lambda s, pid, m: b.choose(s, pid, m.group))
    simple("round.cancel", p.Empty, lambda s, pid, m: b.cancel(s, pid))
    async def close(conn: Connection, msg: p.Close) -> dict[str, Any]:
        if msg.countdown:
            return await gw.run(conn, lambda s, pid: steering.close_with_countdown(
                s, pid, gw.clock.now_ms()))
        return await gw.run(conn, lambda s, pid: b.close(s, pid))

    gw.command("round.close", p.Close, close)
    simple("round.move", p.Move, lambda s, pid, m: steering.move(s, pid, m.participant,
                                                                 m.group))
    simple("round.go", p.Choose, lambda s, pid, m: steering.go(s, pid, m.group))
    simple("round.message", p.GroupMessage, lambda s, pid, m: steering.message(
        s, pid, m.group, m.text))
    simple("hands.restore", p.Empty, lambda s, pid, m: steering.restore_hands(s, pid))
    simple("round.broadcast", p.Broadcast, lambda s, pid, m: b.broadcast(s, pid, m.text))
    simple("round.visit", p.Visit, lambda s, pid, m: b.visit(s, pid, m.group))
    simple("help.request", p.Empty, lambda s, pid, m: b.request_help(s, pid))
    simple("help.answer", p.AnswerHelp, lambda s, pid, m: b.answer_help(s, pid,
                                                                        m.participant))
    gw.command("network", p.Empty, network)
    gw.command("round.overview", p.Empty, overview)
    gw.command("agenda.templates", p.Empty, templates)
    simple("agenda.set", p.SetAgenda, lambda s, pid, m: planning.set_agenda(s, pid, m.template,
                                                                             m.lang))
    simple("agenda.start", p.StartActivity, lambda s, pid, m: planning.start_activity(
        s, pid, m.index))
