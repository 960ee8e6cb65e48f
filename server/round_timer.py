"""Fires the timed steps of breakout rounds.

The deadline lives in the log; this only asks the domain, at the moment
the next step is due, what is due now (``breakouts.tick``), so a restart
simply schedules the same wall-clock moment again, or fires at once.

A step the store refused is not lost: the timer tries again shortly (the
hub then reloads the meeting from its log and the domain decides afresh),
and every reload re-arms the timer from the reloaded state. The domain
closes a round only once, however often it is asked.
"""

import logging

from facilitation import breakouts
from rooms import SYSTEM
from server.clock import Clock
from server.hub import Hub, MeetingNotFound
from server.live import LiveMeeting
from server.scheduler import Scheduler

log = logging.getLogger("ledarstig.round_timer")
RETRY_S = 0.5


class RoundTimer:
    def __init__(self, hub: Hub, scheduler: Scheduler, clock: Clock,
                 retry_s: float = RETRY_S) -> None:
        self._hub, self._scheduler, self._clock = hub, scheduler, clock
        self._retry_s = retry_s

    def sync(self, live: LiveMeeting) -> None:
        """(Re)schedule the meeting's next timed step from its state."""
        key = _key(live.id)
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
        except MeetingNotFound:
            return
        except Exception:
            # Not logged, so not done; the meeting in memory may say otherwise.
            log.warning("the timed step of %s failed; retrying in %.1f s",
                        meeting, self._retry_s, exc_info=True)
            self._scheduler.after(_key(meeting), self._retry_s, lambda: self._fire(meeting))
            return
        self.sync(self._hub.get(meeting))


def _key(meeting: str) -> str:
    return f"round:{meeting}"
