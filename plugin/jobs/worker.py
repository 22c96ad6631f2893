"""Workers: the embedded one (the ``job`` table, no extra service) and the RQ one (Redis).

``microcred worker`` runs the one the settings ask for. On the embedded default the web
app may also run the embedded worker in a daemon thread (``MICROCRED_EMBEDDED_WORKER``,
see :func:`start_embedded_thread`), so ``microcred demo`` or a single ``microcred serve``
needs no second process. Several embedded workers (threads, processes, machines) can
share one database: a job is claimed by exactly one of them.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update

from plugin.jobs.queue import execute_job
from plugin.logging import log_event
from plugin.storage.models import Job

log = logging.getLogger("microcred.jobs")

# A job left "running" longer than this (its worker died) is taken again.
STALE_AFTER = timedelta(minutes=30)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class EmbeddedWorker:
    """Claims due jobs from the ``job`` table and runs them, one at a time."""

    def __init__(self, services, *, poll_interval: float = 1.0, kinds: list[str] | None = None):
        self.services = services
        self.poll_interval = poll_interval
        self.kinds = kinds
        self._stop = threading.Event()

    def _due(self):
        now = _now()
        due = or_(
            (Job.status == "queued") & (Job.run_after <= now),
            (Job.status == "running") & (Job.updated_at < now - STALE_AFTER),
        )
        q = select(Job.id).where(due).order_by(Job.run_after, Job.id).limit(1)
        if self.kinds:
            q = q.where(Job.kind.in_(self.kinds))
        return q

    def claim(self) -> int | None:
        """Take one due job: ``running``, attempt counted. ``None`` when nothing is due."""
        with self.services.session() as s:
            if s.bind.dialect.name == "postgresql":
                job_id = s.scalar(self._due().with_for_update(skip_locked=True))
                if job_id is None:
                    return None
                s.execute(update(Job).where(Job.id == job_id)
                          .values(status="running", attempts=Job.attempts + 1, updated_at=_now()))
                return job_id
            # SQLite: writers are serialised; a compare-and-set on the status makes sure
            # that of two workers who saw the same row, only one takes it.
            for _ in range(5):
                row = s.execute(self._due().add_columns(Job.status, Job.attempts)).first()
                if row is None:
                    return None
                job_id, status, attempts = row
                # attempts grows on every claim: it is the row's version number.
                taken = s.execute(
                    update(Job).where(Job.id == job_id, Job.status == status, Job.attempts == attempts)
                    .values(status="running", attempts=Job.attempts + 1, updated_at=_now())
                    .execution_options(synchronize_session=False))
                if taken.rowcount == 1:
                    return job_id
            return None

    def run_once(self) -> str | None:
        """Claim and run one job; its final status, or ``None`` when nothing was due."""
        job_id = self.claim()
        if job_id is None:
            return None
        return execute_job(self.services, job_id, claimed=True)

    def run_until_empty(self, limit: int = 1000) -> int:
        """Run due jobs until none is due (tests, ``microcred worker --burst``); returns how many ran."""
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
    worker = EmbeddedWorker(services, poll_interval=poll_interval)
    thread = threading.Thread(target=worker.run_forever, name="microcred-embedded-worker", daemon=True)
    services.extras["embedded_worker"] = worker
    thread.start()
    return worker


def run_rq_worker(services, *, burst: bool = False, queue_name: str | None = None) -> bool:
    """Run an RQ worker (with its scheduler, which runs the delayed retries)."""
    from redis import Redis
    from rq import Worker

    from plugin.jobs import rq_tasks
    from plugin.jobs.queue import RQ_QUEUE_NAME

    rq_tasks.bind(services)
    connection = Redis.from_url(services.settings.redis_url)
    worker = Worker([queue_name or services.extras.get("rq_queue", RQ_QUEUE_NAME)], connection=connection)
    return worker.work(burst=burst, with_scheduler=True)
