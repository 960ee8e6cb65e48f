"""Presence in the log: online/offline transitions as ``presence.changed`` events.

Debounced so a flaky link does not flood the log: coming online is logged only
if the log has the person offline (a join itself counts as coming online, see
``facilitation.session._joined``); going offline is logged only once the person
has stayed away ``presence_debounce_s`` seconds, and then with the moment the
last connection dropped (``at``), so attendance minutes stay exact. A reconnect
within the debounce logs nothing at all.
"""

import logging

from facilitation.presence import presence_changed
from server.clock import Clock
from server.connections import Connections
from server.effects import Effect
from server.hub import Hub, MeetingNotFound
from server.scheduler import Scheduler
from server.store import StoreError

log = logging.getLogger("ledarstig.presence")


class PresenceLog:
    def __init__(self, hub: Hub, conns: Connections, scheduler: Scheduler, clock: Clock,
                 debounce_s: float) -> None:
        self.hub, self.conns, self.scheduler, self.clock = hub, conns, scheduler, clock
        self.debounce_s = debounce_s

    async def changed(self, meeting: str, pid: str, online: bool) -> list[Effect]:
        """A follow-up of ``PresenceChanged``: log coming online now (its effects are
        the dispatcher's to run), going offline once the debounce has passed."""
        if self.conns.online(meeting, pid):
            self.scheduler.cancel(_key(meeting, pid))
            try:
                live = self.hub.get(meeting)
                if pid in live.state.online and not live.broken:
                    return []  # the log has them online already (a join does: every join)
                return (await self.hub.apply(meeting, pid, lambda s: presence_changed(
                    s, pid, True, self.clock.now_ms())))[1]
            except (MeetingNotFound, StoreError):
                log.warning("presence of %s in %s not logged", pid, meeting)
                return []
        self._arm(meeting, pid, self.clock.now_ms())
        return []

    def after_restart(self) -> None:
        """Whoever the log has online has no connection now: offline unless they return."""
        now = self.clock.now_ms()
        for live in self.hub.all():
            for pid in list(live.state.online):
                self._arm(live.id, pid, now)

    def _arm(self, meeting: str, pid: str, since: int) -> None:
        if self.scheduler.pending(_key(meeting, pid)):
            return  # coalesced: the first drop is when the person went away

        async def check() -> None:
            if not self.conns.online(meeting, pid):
                await self._log(meeting, pid, False, since)

        self.scheduler.after(_key(meeting, pid), self.debounce_s, check)

    async def _log(self, meeting: str, pid: str, online: bool, at: int) -> None:
        try:
            await self.hub.execute(meeting, pid,
                                   lambda s: presence_changed(s, pid, online, at))
        except (MeetingNotFound, StoreError):
            log.warning("presence of %s in %s not logged", pid, meeting)


def _key(meeting: str, pid: str) -> str:
    return f"presence:{meeting}:{pid}"
