"""What every worker does besides running jobs, every few seconds.

1. **Takeover**: jobs whose lease expired (their worker died) go back to the queue
   (:func:`plugin.jobs.lease.take_over_expired`); with RQ they are dispatched again.
2. **Scheduled catch-up**: courses whose next catch-up is due get a ``sync_course`` job
   (:func:`plugin.evidence.sync_schedule.start_due_syncs`).
3. **Housekeeping**, at most once a minute: expired rows of ``key_value`` (login states,
   launches, caches) and ``one_time_token`` (LTI nonces, webhook ``jti``) are deleted
   (:func:`purge_expired`). Requests never delete them: expired rows already read as missing.

The embedded worker calls :meth:`Maintenance.run_if_due` from its loop, the RQ worker from its
main thread between two looks at the queue (RQ knows nothing of leases or schedules; no
thread may run beside RQ, which forks). Both are safe with many workers: each change is a compare-and-set, so two
workers never take over the same job or start the same course twice.
"""
from __future__ import annotations

import logging
import time

from plugin.jobs.lease import lease_seconds, take_over_expired

log = logging.getLogger("microcred.jobs")


PURGE_EVERY = 60.0  # seconds between two purges of expired short-lived rows


def purge_expired(services) -> int:
    """Delete expired ``key_value`` and ``one_time_token`` rows; returns how many went."""
    from datetime import datetime, timezone

    from sqlalchemy import delete

    from plugin.storage.models import KeyValue, OneTimeToken
    now = datetime.now(timezone.utc)
    with services.session() as s:
        return (s.execute(delete(KeyValue).where(KeyValue.expires_at < now)).rowcount
                + s.execute(delete(OneTimeToken).where(OneTimeToken.expires_at < now)).rowcount)


def maintenance_interval(services) -> float:
    """Seconds between two rounds: a third of the lease, at most 10 s (a dead worker's job is
    back in the queue at most lease + this after its last heartbeat)."""
    return max(1.0, min(10.0, lease_seconds(services) / 3))


class Maintenance:
    def __init__(self, services, queue=None, interval: float | None = None):
        from plugin.jobs.queue import get_queue
        self.services = services
        self.queue = queue if queue is not None else get_queue(services)
        self.interval = interval if interval is not None else maintenance_interval(services)
        self._last = float("-inf")
        self._last_purge = float("-inf")

    def run_once(self) -> dict[str, int]:
        """One round; returns what it did (``taken_over``, ``syncs_started``, ``purged``)."""
        self._last = time.monotonic()
        done = {"taken_over": 0, "syncs_started": 0, "purged": 0, "visits": 0}
        from plugin.issuance import visits  # page views counted in Redis (or this process), written in batches
        done["visits"] = visits.flush(self.services)
        if self._last - self._last_purge >= PURGE_EVERY:
            done["purged"] = purge_expired(self.services)
            self._last_purge = self._last
        for job_id in take_over_expired(self.services):
            self.queue.retry_later(job_id, 0)  # RQ: dispatch again; embedded: the row is due already
            done["taken_over"] += 1
        from plugin.evidence.sync_schedule import start_due_syncs
        done["syncs_started"] = len(start_due_syncs(self.services, self.queue, lookahead=self.interval))
        return done

    def run_if_due(self, force: bool = False) -> dict[str, int] | None:
        if not force and time.monotonic() - self._last < self.interval:
            return None
        try:
            return self.run_once()
        except Exception:  # the database or Redis went away for a moment: the next round tries again
            log.exception("worker maintenance failed")
            return None
