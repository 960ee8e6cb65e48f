"""The Socket.IO adapter: connections in, commands to the hub, acks out.

Every client event passes through ``_handle``: rate limit, decode into a
typed message, run the command, and answer ``{"ok": true, "data": ...}``
or ``{"ok": false, "error": {"code", "message"}}``. Nothing a client sends
reaches the domain undecoded, and no error closes the connection except a
sustained flood.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import socketio

from facilitation import breakouts
from facilitation.encounters import NO_ENCOUNTERS, Encounters
from facilitation.exceptions import FacilitationError
from facilitation.session import Session
from facilitation.view import session_view
from rooms import SYSTEM, Draft, Event, Role, moves_of, visible
from rooms import commands as cmd
from rooms.board import BoardError
from rooms.events import ParticipantJoined
from rooms.exceptions import DomainError, NotJoined
from server import authz
from server import protocol as p
from server.clock import Clock
from server.config import Settings
from server.connections import Connection, Connections, Phase
from server.dispatcher import Dispatcher
from server.effects import Attached, Detached, PresenceChanged
from server.fanout import SocketFanout, ToConnection, ToMeeting
from server.hub import Hub, MeetingNotFound
from server.ice import ice_servers
from server.limits import TokenBucket
from server.live import LiveMeeting
from server.metrics import Metrics
from server.scheduler import Scheduler
from server.sio import SocketServer
from server.store import StoreError
from server.tokens import Invite, TokenError, Tokens

log = logging.getLogger("ledarstig.gateway")

Handler = Callable[[Connection, Any], Awaitable[dict[str, Any] | None]]
_KNOWN_ERRORS = (p.InvalidMessage, DomainError, FacilitationError, BoardError, TokenError,
                 StoreError)


def ok(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ok": True, "data": data or {}}


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def refuse(code: str, message: str) -> socketio.exceptions.ConnectionRefusedError:
    """Refusal as clients see it: ``err.message`` and ``err.data.code``."""
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code})


@dataclass(frozen=True)
class Tools:
    """What every command may use beside the hub and the connections."""

    tokens: Tokens
    scheduler: Scheduler
    clock: Clock
    settings: Settings
    metrics: Metrics


class Gateway:
    def __init__(self, sio: SocketServer, hub: Hub, conns: Connections, fanout: SocketFanout,
                 dispatcher: Dispatcher, tools: Tools) -> None:
        self.sio, self.hub, self.conns, self.fanout = sio, hub, conns, fanout
        self.dispatcher = dispatcher
        self.tokens, self.scheduler, self.clock = tools.tokens, tools.scheduler, tools.clock
        self.settings, self.metrics = tools.settings, tools.metrics
        self._handlers: dict[str, tuple[type[Any], Handler, authz.EventRule]] = {}
        # Admits a personal link (revoked? cohort over? facilitator?); see server.organisers.
        self.admit: Callable[[Invite], Invite] = lambda invite: invite
        # Loads a link's meeting before the checks, if this process does not hold it
        # yet (server/cluster: created a moment ago on another process).
        self.adopt: Callable[[str], Awaitable[object]] | None = None
        self.stopping = False  # the server is shutting down: no presence, no grace
        self.closers: list[Callable[[], None]] = []  # run when the server stops
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("*", self.on_unknown)
        sio.refuse_event = self.refuse_event
        sio.on_connected = self.introduce
        self.command("join", p.Join, self.join, joined=False)
        self.command("sync", p.Sync, self.sync)

    def command(self, name: str, kind: type[Any], handler: Handler,
                joined: bool | None = None) -> None:
        """Register a client event. Its rule (phase, role, scope, cost) comes from
        ``server.authz.EVENTS``: an event without one cannot be registered."""
        rule = authz.event_rule(name)
        if joined is not None and joined != (rule.phase is authz.Phase.JOINED):
            raise authz.MissingRule(f"{name!r}: joined={joined} contradicts server/authz.py.")
        authz.check_payload(name, getattr(kind, "__struct_fields__", ()))
        self._handlers[name] = (kind, handler, rule)

        async def entry(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            # More than one argument is not one payload object: refused by the decoder.
            return await self._handle(name, sid, [data, *extra] if extra else data)

        self.sio.on(name, entry)

    # -- connection lifecycle -------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        if self.adopt is not None:
            await self._adopt(auth)
        try:
            conn = self._authenticate(sid, auth)
        except socketio.exceptions.ConnectionRefusedError:
            self.metrics.rejected.labels("connect_refused").inc()
            raise
        self.conns.add(conn)
        self.metrics.connected.inc()
        self.arm_join_timeout(sid)
        return True

    async def introduce(self, sid: str) -> None:
        """Right after the handshake, before ``join``: which meeting this link is for
        (the join page shows its title)."""
        conn = self.conns.by_sid.get(sid)
        if conn is not None:
            m = self.hub.get(conn.meeting).state.meeting
            await self.fanout.send("meeting", {"id": m.id, "title": m.title,
                                               "starts_at": m.starts_at}, ToConnection(sid))

    def arm_join_timeout(self, sid: str) -> None:
        """Close ``sid`` unless it joins within ``join_timeout_s`` (again after ``leave``)."""
        self.scheduler.after(_join_key(sid), self.settings.limits.join_timeout_s,
                             lambda: self._drop_if_not_joined(sid))

    async def _drop_if_not_joined(self, sid: str) -> None:
        conn = self.conns.by_sid.get(sid)
        if conn is not None and not conn.joined:
            log.info("closing %s: authenticated but never joined", sid)
            await self.sio.close_with(sid, "join_timeout",
                                      "The connection was idle before joining; connect again.")

    async def _adopt(self, auth: Any) -> None:
        """The ``adopt`` hook for the link's meeting; a bad link is refused afterwards."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if isinstance(token, str) and self.adopt is not None:
            try:
                await self.adopt(self.tokens.read_invite(token).meeting)
            except (TokenError, StoreError):
                return  # refused (bad link) or not found (store down) by the checks

    def _authenticate(self, sid: str, auth: Any) -> Connection:
        try:
            a = p.decode(p.Auth, auth)
            invite = self.admit(self.tokens.read_invite(a.token))
        except p.InvalidMessage as exc:
            raise refuse("invalid_auth", exc.message) from exc
        except TokenError as exc:
            raise refuse(exc.code, str(exc)) from exc
        if a.meeting is not None and a.meeting != invite.meeting:
            raise refuse("token_wrong_meeting", "This link belongs to another meeting.")
        try:
            live = self.hub.get(invite.meeting)
        except MeetingNotFound as exc:
            raise refuse(exc.code, exc.message) from exc
        if live.state.meeting.ended:
            raise refuse("meeting_ended", "This meeting has ended.")
        resume_for = self._resumable(a.resume, invite.meeting, live.state.meeting.participants)
        limits = self.settings.limits
        conn = Connection(sid, invite.meeting, invite.role,
                          TokenBucket(limits.rate_per_second, limits.rate_burst,
                                      self.clock.monotonic(), limits.flood_disconnect_after,
                                      limits.flood_window_s),
                          person=invite.person, municipality=invite.municipality)
        conn.authenticated(resume_for, a.last_seq)
        return conn

    def _resumable(self, token: str | None, meeting: str, known: dict[str, Any]) -> str | None:
        if token is None:
            return None
        try:
            resume = self.tokens.read_resume(token)
        except TokenError as exc:
            raise refuse(exc.code, "The session can no longer be resumed; join again.") from exc
        if resume.meeting != meeting or resume.participant not in known:
            raise refuse("resume_invalid", "The session belongs to another meeting.")
        return resume.participant

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.scheduler.cancel(_join_key(sid))
        conn = self.conns.by_sid.get(sid)
        if conn is None:
            return
        was = conn.phase
        self.conns.remove(sid)
        self.metrics.connected.dec()
        pid = conn.participant if was is Phase.JOINED else None
        await self.dispatcher.happened(conn.meeting, Detached(sid, pid))
        if pid is None or self.stopping or self.conns.online(conn.meeting, pid):
            return  # when stopping, the next start gives everyone present their grace
        self.give_grace(conn.meeting, pid)
        await self._presence(conn.meeting, pid, False)

    async def _presence(self, meeting: str, pid: str, online: bool) -> None:
        """Tell the meeting a participant came online or went offline; then its effects."""
        await self._tell_presence(meeting, pid, online)
        await self.dispatcher.happened(meeting, PresenceChanged(pid, online))

    async def _tell_presence(self, meeting: str, pid: str, online: bool) -> None:
        await self.fanout.send("presence", {"participant": pid, "online": online},
                               ToMeeting(meeting))

    async def _expire(self, meeting: str, participant: str) -> None:
        if not self.conns.online(meeting, participant):
            await self.hub.execute(meeting, SYSTEM,
                                   lambda s: cmd.leave(s.meeting, participant, "timeout"))

    def give_grace(self, meeting: str, participant: str) -> None:
        """The participant leaves unless back within the grace period (cluster: the
        process that held their connections died)."""
        self.scheduler.after(_grace_key(meeting, participant), self.settings.grace_s,
                             lambda: self._expire(meeting, participant))

    def start_grace_after_restart(self) -> None:
        """Everyone present when the server stopped gets a grace period to return."""
        for live in self.hub.all():
            for part in live.state.meeting.present():
                self.give_grace(live.id, part.id)

    async def close_meeting(self, meeting: str) -> None:
        """Disconnect everyone of a meeting that has ended."""
        for conn in [c for c in self.conns.by_sid.values() if c.meeting == meeting]:
            conn.to(Phase.CLOSING)
            await self.sio.disconnect(conn.sid)

    # -- dispatch -------------------------------------------------------------

    async def _handle(self, name: str, sid: str, data: Any) -> dict[str, Any]:
        conn = self.conns.by_sid.get(sid)
        if conn is None:
            await self.sio.disconnect(sid)
            return error("not_connected", "This connection is not authenticated.")
        kind, handler, rule = self._handlers[name]
        if not conn.bucket.allow(self.clock.monotonic(), rule.cost):
            return await self._flooded(conn)
        refusal = self._authorise(conn, rule)
        if refusal is not None:
            return self._reject(refusal)
        try:
            return ok(await handler(conn, p.decode(kind, data)))
        except _KNOWN_ERRORS as exc:
            return self._reject(error(exc.code, getattr(exc, "message", str(exc))))
        except Exception:
            log.exception("handler %s failed", name)
            return self._reject(error("internal_error", "The server could not do that."))

    def _authorise(self, conn: Connection, rule: authz.EventRule) -> dict[str, Any] | None:
        """The gateway's half of ``server.authz``; the domain checks again."""
        if rule.phase is authz.Phase.JOINED and not conn.joined:
            return error("not_joined", "Join the meeting first.")
        if rule.who is authz.Who.FACILITATOR:
            me = self.hub.get(conn.meeting).state.meeting.participants.get(
                conn.participant if conn.joined else "")
            if me is None or me.role is not Role.FACILITATOR:
                return error("forbidden", "Only a facilitator may do that.")
        return None

    async def on_unknown(self, event: Any, sid: str, *data: Any) -> dict[str, Any]:
        name = str(event)[:64]  # a raw client may send any JSON value as the name
        return await self.refuse_event(sid, "unknown_event",
                                       f"There is no event called {name!r}.")

    async def refuse_event(self, sid: str, code: str, message: str) -> dict[str, Any]:
        """An event no handler takes (unknown or reserved name): rate-limited, refused."""
        conn = self.conns.by_sid.get(sid)
        if conn is None:
            await self.sio.disconnect(sid)
            return self._reject(error("not_connected", "This connection is not authenticated."))
        if not conn.bucket.allow(self.clock.monotonic()):
            return await self._flooded(conn)
        return self._reject(error(code, message))

    async def _flooded(self, conn: Connection) -> dict[str, Any]:
        if conn.bucket.flooding and conn.sid in self.conns.by_sid:
            self.sio.quiet_log("flood", "disconnecting %s: flooding", conn.sid)
            await self.sio.close_with(conn.sid, "flooding", "Too many messages; disconnected.")
        return self._reject(error("rate_limited", "Too many messages; slow down."))

    def _reject(self, answer: dict[str, Any]) -> dict[str, Any]:
        self.metrics.rejected.labels(answer["error"]["code"]).inc()
        return answer

    # -- commands -------------------------------------------------------------

    async def join(self, conn: Connection, msg: p.Join) -> dict[str, Any]:
        live = self.hub.get(conn.meeting)
        # A personal link is always the same participant: a second tab resumes it.
        pid = conn.participant or conn.person or secrets.token_hex(6)
        # A connection that resumes nothing: its client holds no state and no board yet.
        fresh = conn.participant is None and conn.resume_seq is None
        current = live.state.current()
        # Only a late joiner during a round is placed, using who met whom.
        encounters = (self.encounters(conn.meeting) if current is not None and current.live
                      else NO_ENCOUNTERS)
        events = await self.hub.execute(conn.meeting, pid, lambda s: breakouts.join(
            s, pid, conn.role, encounters=encounters, name=msg.name,
            municipality=conn.municipality or msg.municipality, sector=msg.sector,
            title=msg.title, person=conn.person))
        # participant.joined tells the meeting that the participant is here and online.
        announced = any(e.type == ParticipantJoined.TYPE for e in events)
        if conn.sid not in self.conns.by_sid:  # dropped meanwhile
            if announced and not self.conns.online(conn.meeting, pid):
                self.give_grace(conn.meeting, pid)  # the meeting heard they came: gone
                await self._presence(conn.meeting, pid, False)
            raise NotJoined("The connection closed while joining.")
        return await self._attach(conn, pid, announced=announced, fresh=fresh)

    async def _attach(self, conn: Connection, pid: str, *, announced: bool,
                      fresh: bool) -> dict[str, Any]:
        live = self.hub.get(conn.meeting)
        me = live.state.meeting.participants[pid]
        self.scheduler.cancel(_grace_key(conn.meeting, pid))
        self.scheduler.cancel(_join_key(conn.sid))
        replaced = self.conns.sids_of(conn.meeting, pid) - {conn.sid}
        was_online = bool(replaced)
        self.conns.bind(conn, pid)
        if not was_online and not announced:
            # Back online: told to the others before this connection enters the meeting's
            # rooms (its welcome says who is online); a join's event told them already.
            await self._tell_presence(conn.meeting, pid, True)
        await self.fanout.admit(conn.sid, conn.meeting, pid, me.room,
                                me.role is Role.FACILITATOR)
        if not was_online:
            # Coming online re-plans the others of the room now, in the turn their
            # participant.joined went out (one write each for both); this connection
            # gets its first plan in its welcome.
            await self.dispatcher.happened(conn.meeting, PresenceChanged(pid, True))
        welcome = await self.hub.hand_out(  # only durable state goes out
            conn.meeting, lambda _: self._welcome(conn, pid, conn.take_resume_seq()),
            self._send_first_welcome(conn))
        for old in replaced:
            await self.replace(old)
        await self.dispatcher.happened(conn.meeting, Attached(conn.sid, pid, fresh))
        return {"participant": pid, "seq": welcome["seq"],
                "resume_token": welcome["resume_token"]}

    def _welcome(self, conn: Connection, pid: str, last_seq: int | None) -> dict[str, Any]:
        live = self.hub.get(conn.meeting)
        state = live.state
        welcome: dict[str, Any] = {
            "seq": state.seq, "participant": pid,
            "role": state.meeting.participants[pid].role.value,
            "resume_token": self.tokens.resume(conn.meeting, pid),
            "online": self.conns.online_in(conn.meeting),
            "server_time": self.clock.now_ms(),
        }
        welcome["ice_servers"], welcome["ice_expires_at"] = ice_servers(
            self.settings, pid, self.clock.now_ms())
        ahead = last_seq is not None and last_seq > state.seq
        missed = live.since(last_seq) if last_seq is not None and not ahead else None
        if missed is None or any(pid in moves_of(e) or (e.type == "participant.joined"
                                                        and e.data["id"] == pid)
                                 for e in missed):
            # Too old to replay, or the participant changed rooms meanwhile: a fresh
            # snapshot is simpler and smaller than the other rooms' history.
            welcome["snapshot"] = session_view(state, pid)
        else:
            welcome["missed"] = self._visible(missed, pid, conn)
        return welcome

    def _visible(self, missed: list[Event], pid: str, conn: Connection) -> list[dict[str, Any]]:
        me = self.hub.get(conn.meeting).state.meeting.participants[pid]
        return [e.to_wire() for e in visible(missed, pid, me.room,
                                             me.role is Role.FACILITATOR)]

    async def replace(self, sid: str) -> None:
        """A newer connection of the same participant took over (a second tab)."""
        old = self.conns.by_sid.get(sid)
        if old is None:
            return
        self.conns.unbind(old, Phase.REPLACED)
        await self.fanout.send("session.replaced", {"message": "You joined from another tab."},
                               ToConnection(sid))
        await self.sio.disconnect(sid)

    async def sync(self, conn: Connection, msg: p.Sync) -> dict[str, Any]:
        pid = self.pid(conn)
        ahead = False  # the client holds events the log does not: it must start afresh

        def build(live: LiveMeeting) -> dict[str, Any]:
            nonlocal ahead
            ahead = msg.last_seq > live.state.seq
            return self._welcome(conn, pid, msg.last_seq)

        async def send(welcome: dict[str, Any]) -> None:
            if ahead:  # otherwise it goes out in the ack
                await self.fanout.send("welcome", welcome, ToConnection(conn.sid))

        welcome = await self.hub.hand_out(conn.meeting, build, send)
        if ahead:
            raise SeqAhead(f"last_seq {msg.last_seq} is above the meeting's last event "
                           f"{welcome['seq']}; a fresh welcome was sent.")
        return {"welcome": welcome}

    def _send_first_welcome(self, conn: Connection
                            ) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """A joined connection's welcome, carrying its first peer plan (``peers``, as the
        ``peers`` message has it): one message instead of two, and no plan can reach
        the client before the meeting it belongs to. The plan is made as the welcome
        goes out, from who is online then; changes after it come as ``peers``."""
        media = self.dispatcher.services.media

        async def send(welcome: dict[str, Any]) -> None:
            plan = media.first(conn.sid, conn.meeting, welcome["participant"])
            if plan is not None:
                welcome["peers"] = plan.to_wire()
            await self.fanout.send("welcome", welcome, ToConnection(conn.sid))
            if plan is not None:
                await media.welcomed(conn.sid, plan)
        return send

    async def run(self, conn: Connection,
                  decide: Callable[[Session, str], Sequence[Draft]]) -> dict[str, Any]:
        """Run a command as the connection's participant; answer the last seq."""
        pid = self.pid(conn)
        events = await self.hub.execute(conn.meeting, pid, lambda s: decide(s, pid))
        return {"seq": events[-1].seq if events else self.hub.get(conn.meeting).state.seq}

    def encounters(self, meeting: str) -> Encounters:
        """Who already met whom, across this meeting's cohort."""
        return self.hub.encounters(meeting)

    @staticmethod
    def pid(conn: Connection) -> str:
        return conn.pid


class SeqAhead(DomainError):
    code = "seq_ahead"


def _grace_key(meeting: str, participant: str) -> str:
    return f"grace:{meeting}:{participant}"


def _join_key(sid: str) -> str:
    return f"join:{sid}"


__all__ = ["Gateway", "error", "ok"]
