"""Workers: the embedded one (the ``job`` table, no extra service) and the RQ one (Redis).

``microcred worker`` runs the one the settings ask for. On the embedded default the web
app may also run the embedded worker in a daemon thread (``MICROCRED_EMBEDDED_WORKER``,
see :func:`start_embedded_thread`), so ``microcred demo`` or a single ``microcred serve``
needs no second process. Several embedded workers (threads, processes, machines) can
share one database: a job is claimed by exactly one of them.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from plugin.jobs.lease import lease_seconds, new_owner
from plugin.jobs.queue import execute_job
from plugin.logging import log_event
from plugin.storage.models import Job

log = logging.getLogger("microcred.jobs")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class EmbeddedWorker:
    """Claims due jobs from the ``job`` table and runs them, one at a time.

    With ``maintenance`` (``microcred worker`` and the web app's thread), it also takes over
    jobs whose worker died and starts the scheduled catch-ups (:mod:`plugin.jobs.maintenance`)
    every few seconds; tests that drive a worker by hand leave it off.
    """

    def __init__(self, services, *, poll_interval: float = 1.0, kinds: list[str] | None = None,
                 maintenance: bool = False):
        self.services = services
        self.poll_interval = poll_interval
        self.kinds = kinds
        self._stop = threading.Event()
        self.maintenance = None
        if maintenance:
            from plugin.jobs.maintenance import Maintenance
            self.maintenance = Maintenance(services)

    def _due(self):
        q = (select(Job.id).where(Job.status == "queued", Job.run_after <= _now())
             .order_by(Job.run_after, Job.id).limit(1))
        if self.kinds:
            q = q.where(Job.kind.in_(self.kinds))
        return q

    def _take(self, owner: str):
        return dict(status="running", attempts=Job.attempts + 1, lease_owner=owner,
                    lease_expires_at=_now() + timedelta(seconds=lease_seconds(self.services)))

    def claim(self) -> tuple[int, str] | None:
        """Take one due job: ``running`` under a new lease, attempt counted; ``None`` when nothing is due."""
        owner = new_owner()
        with self.services.session() as s:
            if s.bind.dialect.name == "postgresql":
                job_id = s.scalar(self._due().with_for_update(skip_locked=True))
                if job_id is None:
                    return None
                s.execute(update(Job).where(Job.id == job_id).values(**self._take(owner)))
                return job_id, owner
            # SQLite: writers are serialised; a compare-and-set on the status makes sure
            # that of two workers who saw the same row, only one takes it.
            for _ in range(5):
                row = s.execute(self._due().add_columns(Job.attempts)).first()
                if row is None:
                    return None
                job_id, attempts = row
                # attempts grows on every claim: it is the row's version number.
                taken = s.execute(
                    update(Job).where(Job.id == job_id, Job.status == "queued", Job.attempts == attempts)
                    .values(**self._take(owner)).execution_options(synchronize_session=False))
                if taken.rowcount == 1:
                    return job_id, owner
            return None

    def maintain(self, force: bool = False) -> None:
        """Run the maintenance duties when they are due (every few seconds), or now with ``force``."""
        if self.maintenance is not None:
            self.maintenance.run_if_due(force=force)

    def run_once(self) -> str | None:
        """Claim and run one job; its final status, or ``None`` when nothing was due."""
        self.maintain()
        claimed = self.claim()
        if claimed is None:
            return None
        job_id, owner = claimed
        return execute_job(self.services, job_id, claimed=True, owner=owner)

    def run_until_empty(self, limit: int = 1000) -> int:
        """Run due jobs until none is due (tests, ``microcred worker --burst``); returns how many ran."""
        self.maintain(force=True)
        ran = 0
        while ran < limit and self.run_once() is not None:
            ran += 1
        return ran

    def run_forever(self) -> None:
        log_event(log, "embedded worker started", poll_interval=self.poll_interval)
        while not self._stop.is_set():
            try:
                if self.run_once() is None:
                    self._stop.wait(self.poll_interval)
            except Exception:  # the database went away for a moment: keep the worker alive
                log.exception("embedded worker loop error")
                self._stop.wait(min(30.0, self.poll_interval * 5))
        log_event(log, "embedded worker stopped")

    def stop(self) -> None:
        self._stop.set()


def start_embedded_thread(services, *, poll_interval: float = 1.0) -> EmbeddedWorker:
    """Run an embedded worker in a daemon thread of this process (once per services)."""
    existing = services.extras.get("embedded_worker")
    if existing is not None:
        return existing
    worker = EmbeddedWorker(services, poll_interval=poll_interval, maintenance=True)
    thread = threading.Thread(target=worker.run_forever, name="microcred-embedded-worker", daemon=True)
    services.extras["embedded_worker"] = worker
    thread.start()
    return worker


def run_rq_worker(services, *, burst: bool = False, queue_name: str | None = None) -> bool:
    """Run an RQ worker (with its scheduler, which runs the delayed retries) that also does the
    maintenance duties RQ does not know about (takeover of jobs whose worker died, scheduled
    catch-ups), from its own main thread between two looks at the queue."""
    from redis import Redis

    from plugin.jobs import rq_tasks
    from plugin.jobs.maintenance import Maintenance
    from plugin.jobs.queue import RedisQueue, rq_queue_name

    rq_tasks.bind(services)
    _dispose_pool_in_children(services)
    name = queue_name or rq_queue_name(services)
    connection = Redis.from_url(services.settings.redis_url)
    maintenance = Maintenance(services, queue=RedisQueue(services, name))
    worker = _rq_worker_class()([name], connection=connection,
                                job_monitoring_interval=max(1, int(maintenance.interval)))
    worker.maintenance = maintenance
    if burst:
        maintenance.run_if_due(force=True)
    return worker.work(burst=burst, with_scheduler=True)


def _rq_worker_class():
    """RQ's forking worker, plus our maintenance in its main thread.

    No thread of ours runs beside RQ: RQ forks a work horse per job, and a fork taken while
    another thread holds a lock (an import, a connection pool) leaves the horse stuck forever.
    RQ calls ``heartbeat`` before every look at the queue (which now waits at most one
    maintenance interval) and, while a horse works, every ``job_monitoring_interval``.
    """
    from rq import Worker

    class MicrocredWorker(Worker):
        maintenance = None
        parent_pid = os.getpid()  # the work horses are forks: they leave the maintenance to the parent

        @property
        def dequeue_timeout(self) -> int:
            if self.maintenance is None:
                return super().dequeue_timeout
            return max(1, int(self.maintenance.interval))

        def heartbeat(self, timeout=None, pipeline=None):
            super().heartbeat(timeout, pipeline=pipeline)
            if self.maintenance is not None and os.getpid() == self.parent_pid:
                self.maintenance.run_if_due()

    return MicrocredWorker


def _dispose_pool_in_children(services) -> None:
    """RQ runs each job in a forked work horse: the child must open its own database connections,
    never reuse the parent's (the parent keeps using them for its maintenance)."""
    if services.extras.get("pool_disposed_at_fork"):
        return
    services.extras["pool_disposed_at_fork"] = True
    engine = services.engine
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
