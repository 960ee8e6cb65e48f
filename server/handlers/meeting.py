"""Presence, chat, hands and reactions."""

import secrets
from functools import partial
from typing import Any

import msgspec

from rooms import commands as cmd
from server import protocol as p
from server.connections import Connection
from server.effects import Detached
from server.gateway import Gateway
from server.handlers.command import Command


async def leave(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    answer = await gw.run(conn, lambda s, pid: cmd.leave(s.meeting, pid, "left"))
    for sid in gw.conns.sids_of(conn.meeting, conn.participant or ""):
        gw.conns.unbind(gw.conns.by_sid[sid])
        await gw.fanout.withdraw(sid)
        # its media as a closed connection's: a join on it again starts afresh
        await gw.dispatcher.happened(conn.meeting, Detached(sid, None))
        gw.arm_join_timeout(sid)
    return answer


async def chat(gw: Gateway, conn: Connection, msg: p.Chat) -> dict[str, Any]:
    message_id = secrets.token_hex(6)
    answer = await gw.run(conn, lambda s, pid: cmd.chat(s.meeting, pid, message_id, msg.text))
    return {"id": message_id, **answer}


async def raise_hand(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.raise_hand(s.meeting, pid))


async def lower_hand(gw: Gateway, conn: Connection, msg: p.LowerHand) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.lower_hand(s.meeting, pid, msg.participant))


async def clear_hands(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.clear_hands(s.meeting, pid))


async def react(gw: Gateway, conn: Connection, msg: p.React) -> dict[str, Any]:
    return await gw.run(conn, lambda s, pid: cmd.react(s.meeting, pid, msg.emoji))


async def end(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    """A facilitator ends the meeting; everyone is disconnected once this is answered."""
    answer = await gw.run(conn, lambda s, pid: cmd.end_meeting(s.meeting, pid))
    gw.scheduler.after(f"end:{conn.meeting}", 0.5, lambda: gw.close_meeting(conn.meeting))
    return answer


async def invite_info(gw: Gateway, conn: Connection, msg: p.Empty) -> dict[str, Any]:
    meeting = gw.hub.get(conn.meeting).state.meeting
    return {"title": meeting.title, "starts_at": meeting.starts_at, "role": conn.role.value}


async def chat_history(gw: Gateway, conn: Connection, msg: p.ChatHistory) -> dict[str, Any]:
    """The chat of your current room after ``after``: what you missed while elsewhere."""
    meeting = gw.hub.get(conn.meeting).state.meeting
    room = cmd.present(meeting, gw.pid(conn)).room
    return {"room": room, "messages": [msgspec.to_builtins(m)
                                       for m in meeting.chat.get(room, ())
                                       if m.seq > msg.after]}


def commands(gw: Gateway) -> list[Command]:
    return [
        Command("invite.info", p.Empty, partial(invite_info, gw), joined=False),
        Command("chat.history", p.ChatHistory, partial(chat_history, gw)),
        Command("leave", p.Empty, partial(leave, gw)),
        Command("meeting.end", p.Empty, partial(end, gw)),
        Command("chat", p.Chat, partial(chat, gw)),
        Command("hand.raise", p.Empty, partial(raise_hand, gw)),
        Command("hand.lower", p.LowerHand, partial(lower_hand, gw)),
        Command("hands.clear", p.Empty, partial(clear_hands, gw)),
        Command("react", p.React, partial(react, gw)),
    ]
