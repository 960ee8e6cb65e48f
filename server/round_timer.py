"""Fires the timed steps of breakout rounds.

The deadline lives in the log; this only asks the domain, at the moment
the next step is due, what is due now (``breakouts.tick``), so a restart
simply schedules the same wall-clock moment again, or fires at once.
"""

from facilitation import breakouts
from rooms import SYSTEM
from server.clock import Clock
from server.hub import Hub
from server.live import LiveMeeting
from server.scheduler import Scheduler


class RoundTimer:
    def __init__(self, hub: Hub, scheduler: Scheduler, clock: Clock) -> None:
        self._hub, self._scheduler, self._clock = hub, scheduler, clock

    def sync(self, live: LiveMeeting) -> None:
        """(Re)schedule the meeting's next timed step from its state."""
        key = f"round:{live.id}"
        due = breakouts.next_due(live.state)
        if due is None:
            self._scheduler.cancel(key)
        else:
            meeting = live.id
            self._scheduler.at_wall(key, due, lambda: self._fire(meeting))

    def sync_all(self) -> None:
        for live in self._hub.all():
            self.sync(live)

    async def _fire(self, meeting: str) -> None:
        try:
            await self._hub.execute(meeting, SYSTEM,
                                    lambda s: breakouts.tick(s, self._clock.now_ms()))
        finally:
            self.sync(self._hub.get(meeting))
