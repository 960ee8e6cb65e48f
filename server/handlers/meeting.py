"""Presence, chat, hands and reactions."""

import secrets
from typing import Any

import msgspec

from rooms import commands as cmd
from server import protocol as p
from server.connections import Connection
from server.gateway import Gateway


def register(gw: Gateway) -> None:
    async def leave(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        answer = await gw.run(conn, lambda s, pid: cmd.leave(s.meeting, pid, "left"))
        for sid in gw.conns.sids_of(conn.meeting, conn.participant or ""):
            gw.conns.unbind(gw.conns.by_sid[sid])
            await gw.leave_rooms(sid)
            gw.arm_join_timeout(sid)
        return answer

    async def chat(conn: Connection, msg: p.Chat) -> dict[str, Any]:
        message_id = secrets.token_hex(6)
        answer = await gw.run(conn, lambda s, pid: cmd.chat(s.meeting, pid, message_id,
                                                            msg.text))
        return {"id": message_id, **answer}

    async def raise_hand(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.raise_hand(s.meeting, pid))

    async def lower_hand(conn: Connection, msg: p.LowerHand) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.lower_hand(s.meeting, pid,
                                                                 msg.participant))

    async def clear_hands(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.clear_hands(s.meeting, pid))

    async def react(conn: Connection, msg: p.React) -> dict[str, Any]:
        return await gw.run(conn, lambda s, pid: cmd.react(s.meeting, pid, msg.emoji))

    async def end(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        """A facilitator ends the meeting; everyone is disconnected once this is answered."""
        answer = await gw.run(conn, lambda s, pid: cmd.end_meeting(s.meeting, pid))
        gw.scheduler.after(f"end:{conn.meeting}", 0.5, lambda: gw.close_meeting(conn.meeting))
        return answer

    async def invite_info(conn: Connection, msg: p.Empty) -> dict[str, Any]:
        meeting = gw.hub.get(conn.meeting).state.meeting
        return {"title": meeting.title, "starts_at": meeting.starts_at,
                "role": conn.role.value}

    async def chat_history(conn: Connection, msg: p.ChatHistory) -> dict[str, Any]:
        """The chat of your current room after ``after``: what you missed while elsewhere."""
        meeting = gw.hub.get(conn.meeting).state.meeting
        room = cmd.present(meeting, gw.pid(conn)).room
        return {"room": room, "messages": [msgspec.to_builtins(m)
                                           for m in meeting.chat.get(room, ())
                                           if m.seq > msg.after]}

    gw.command("invite.info", p.Empty, invite_info, joined=False)
    gw.command("chat.history", p.ChatHistory, chat_history)
    gw.command("leave", p.Empty, leave)
    gw.command("meeting.end", p.Empty, end)
    gw.command("chat", p.Chat, chat)
    gw.command("hand.raise", p.Empty, raise_hand)
    gw.command("hand.lower", p.LowerHand, lower_hand)
    gw.command("hands.clear", p.Empty, clear_hands)
    gw.command("react", p.React, react)
