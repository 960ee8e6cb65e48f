"""Breakout rounds, help requests and the agenda."""

import secrets
from functools import partial
from typing import Any

from facilitation import breakouts as b
from facilitation import list_templates, planning, steering
from facilitation.exceptions import InfeasibleConstraint
from facilitation.history import network_report
from facilitation.plans import plan_request
from rooms.commands import require_facilitator
from server import protocol as p
from server.connections import Connection
from server.gateway import Gateway
from server.handlers.command import Command
from server.planner import Planner, continuing_seed


def online(gw: Gateway, meeting: str) -> set[str]:
    return set(gw.conns.online_set(meeting))


async def preview(gw: Gateway, planner: Planner, conn: Connection,
                  msg: p.RoundPreview) -> dict[str, Any]:
    state = gw.hub.get(conn.meeting).state
    require_facilitator(state.meeting, gw.pid(conn))
    seed = msg.seed if msg.seed is not None else continuing_seed(state)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    round_id = f"r{secrets.token_hex(4)}"
    spec = msg.spec()
    encounters = gw.encounters(conn.meeting)
    here = online(gw, conn.meeting)
    request = plan_request(state, strategy=spec.strategy, group_count=spec.group_count,
                           group_size=spec.group_size, rounds=spec.rounds,
                           people=b.assignable(state, here, spec.include_away),
                           seed=seed, encounters=encounters)
    try:
        plan = await planner.plan(conn.meeting, request) if request is not None else None
    except InfeasibleConstraint as exc:
        raise b.named(gw.hub.get(conn.meeting).state, exc) from None
    answer = await gw.run(conn, lambda s, pid: b.preview(
        s, pid, round_id, spec, seed, encounters, online(gw, conn.meeting), plan))
    r = gw.hub.get(conn.meeting).state.round(round_id)
    assert r is not None
    extra = {"plan": {k: v for k, v in r.plan.items() if k != "next"}} if r.plan else {}
    return {**answer, "round": round_id, "groups": r.groups, "seed": seed, **extra}


async def open_round(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    encounters = gw.encounters(conn.meeting)
    return await gw.run(conn, lambda s, pid: b.open_round(s, pid, gw.clock.now_ms(),
                                                          encounters, online(gw, conn.meeting)))


async def constraints(gw: Gateway, conn: Connection, msg: p.MixConstraints) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.set_constraints(
        s, pid, msg.together, msg.apart, msg.fair_seats))


async def extend(gw: Gateway, conn: Connection, msg: p.Extend) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.extend(s, pid, msg.delta_s, gw.clock.now_ms()))


async def close(gw: Gateway, conn: Connection, msg: p.Close) -> dict[str, Any]:
    if msg.countdown:
        return await gw.run(conn, lambda s, pid: steering.close_with_countdown(
            s, pid, gw.clock.now_ms()))
    return await gw.run(conn, lambda s, pid: b.close(s, pid))


async def network(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    state = gw.hub.get(conn.meeting).state
    require_facilitator(state.meeting, gw.pid(conn))
    return network_report(state, gw.hub.cohort_of(conn.meeting))


async def overview(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    """What the console shows of each group beyond the log events it receives."""
    state = gw.hub.get(conn.meeting).state
    require_facilitator(state.meeting, gw.pid(conn))
    r = state.current()
    rooms = r.rooms if r is not None else []
    return {"rooms": {room: {"board_edits": state.board_edits.get(room, 0)}
                      for room in rooms}}


async def templates(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return {"templates": [{"id": t.id, "titles": dict(t.titles)} for t in list_templates()]}


async def regroup(gw: Gateway, conn: Connection, msg: p.Regroup) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.regroup(s, pid, msg.participant, msg.group))


async def choose(gw: Gateway, conn: Connection, msg: p.Choose) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.choose(s, pid, msg.group))


async def cancel(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.cancel(s, pid))


async def move(gw: Gateway, conn: Connection, msg: p.Move) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: steering.move(s, pid, msg.participant, msg.group))


async def go(gw: Gateway, conn: Connection, msg: p.Choose) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: steering.go(s, pid, msg.group))


async def message(gw: Gateway, conn: Connection, msg: p.GroupMessage) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: steering.message(s, pid, msg.group, msg.text))


async def restore_hands(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: steering.restore_hands(s, pid))


async def broadcast(gw: Gateway, conn: Connection, msg: p.Broadcast) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.broadcast(s, pid, msg.text))


async def visit(gw: Gateway, conn: Connection, msg: p.Visit) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.visit(s, pid, msg.group))


async def request_help(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.request_help(s, pid))


async def answer_help(gw: Gateway, conn: Connection, msg: p.AnswerHelp) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: b.answer_help(s, pid, msg.participant))


async def set_agenda(gw: Gateway, conn: Connection, msg: p.SetAgenda) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: planning.set_agenda(s, pid, msg.template, msg.lang))


async def start_activity(gw: Gateway, conn: Connection, msg: p.StartActivity) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: planning.start_activity(s, pid, msg.index))


def commands(gw: Gateway, planner: Planner) -> list[Command]:
    return [
        Command("round.preview", p.RoundPreview, partial(preview, gw, planner)),
        Command("mix.constraints", p.MixConstraints, partial(constraints, gw)),
        Command("round.open", p.Empty, partial(open_round, gw)),
        Command("round.extend", p.Extend, partial(extend, gw)),
        Command("round.regroup", p.Regroup, partial(regroup, gw)),
        Command("round.choose", p.Choose, partial(choose, gw)),
        Command("round.cancel", p.Empty, partial(cancel, gw)),
        Command("round.close", p.Close, partial(close, gw)),
        Command("round.move", p.Move, partial(move, gw)),
        Command("round.go", p.Choose, partial(go, gw)),
        Command("round.message", p.GroupMessage, partial(message, gw)),
        Command("hands.restore", p.Empty, partial(restore_hands, gw)),
        Command("round.broadcast", p.Broadcast, partial(broadcast, gw)),
        Command("round.visit", p.Visit, partial(visit, gw)),
        Command("help.request", p.Empty, partial(request_help, gw)),
        Command("help.answer", p.AnswerHelp, partial(answer_help, gw)),
        Command("network", p.Empty, partial(network, gw)),
        Command("round.overview", p.Empty, partial(overview, gw)),
        Command("agenda.templates", p.Empty, partial(templates, gw)),
        Command("agenda.set", p.SetAgenda, partial(set_agenda, gw)),
        Command("agenda.start", p.StartActivity, partial(start_activity, gw)),
    ]
