"""Retention: recordings are deleted ``retention_days`` after their meeting ended; the
pseudonymised encounters ``mix`` and the network figures need stay until the cohort
has ended, then the meeting goes entirely (see docs/privacy.md)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime

from aiohttp import web

from server import privacy
from server.clock import sleep
from server.keys import CREDENTIALS, HUB, SETTINGS, STORE
from server.organisers import WORKSPACE
from server.review import read_range
from server.review_pages import REVIEW
from server.store import StoreError

log = logging.getLogger("ledarstig.retention")
DAY_MS = 86_400_000
SWEEP_EVERY_S = 3600.0


async def sweep(app: web.Application, now_ms: int) -> dict[str, list[str]]:
    """One pass; returns the meetings whose recording was deleted and those removed."""
    hub, store = app[HUB], app[STORE]
    keep_ms = app[SETTINGS].retention_days * DAY_MS
    secret = app[CREDENTIALS].secret_key
    done: dict[str, list[str]] = {"stripped": [], "removed": []}
    await hub.adopt_all()  # cluster: this process may hold only some
    for live in hub.all():
        s = live.state
        if not s.meeting.ended:
            continue
        last = await read_range(store, live.id, s.seq - 1, s.seq, 1)
        if not last or now_ms - last[0].ts < keep_ms:
            continue
        review, stripped = app[REVIEW], False
        if not s.recording_deleted:
            async with review.rewriting(live.id):
                await hub.rewrite(live.id, lambda events, m=live.id: privacy.strip_recording(
                    events, secret, m))
            done["stripped"].append(live.id)
            stripped = True
        if not _cohort_running(app, s.meeting.cohort, now_ms):
            async with review.rewriting(live.id):
                await hub.remove(live.id)
            done["removed"].append(live.id)
        elif stripped:
            review.build_later(hub.get(live.id))
    return done


def _cohort_running(app: web.Application, cohort: str, now_ms: int) -> bool:
    if not cohort:
        return False
    try:
        _, found = app[WORKSPACE].cohort(cohort)
    except Exception:
        return True  # a cohort outside the workspace: its end is not known; keep them
    if not found.ends_on:
        return True
    today = datetime.fromtimestamp(now_ms / 1000).date()
    return date.fromisoformat(found.ends_on) >= today


async def my_turn(app: web.Application) -> bool:
    """Several processes (``--redis-url``): one sweep per period for the deployment, by
    whichever process takes the period's lease first."""
    lease = getattr(app[STORE], "lease", None)
    return lease is None or bool(await lease("retention", SWEEP_EVERY_S))


async def run(app: web.Application) -> None:
    while True:
        try:
            if await my_turn(app):
                result = await sweep(app, app[WORKSPACE].clock.now_ms())
                log.debug("retention swept: %s", result)
                if result["stripped"] or result["removed"]:
                    log.info("retention: %s", result)
            else:
                log.debug("retention: another process sweeps this period")
        except (StoreError, Exception):  # the sweep must survive anything
            log.exception("retention sweep failed")
        await sleep(app[WORKSPACE].clock, SWEEP_EVERY_S)


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(run(app), name="retention")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
