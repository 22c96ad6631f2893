"""Job leases: a running job belongs to one worker for a short, renewed time.

Claiming a job (embedded worker or RQ) sets ``lease_owner`` to a token new at every claim
(host, process, random part) and ``lease_expires_at`` to now + the lease
(``MICROCRED_JOB_LEASE_SECONDS``, 30 s by default). While the handler runs, a
:class:`Heartbeat` thread in the process that runs it pushes the expiry forward every
third of the lease. A worker killed with -9, a machine that vanished or a process frozen
longer than the lease stops renewing; :func:`take_over_expired`, run by every worker's
maintenance (:mod:`plugin.jobs.maintenance`), then puts the job back in the queue (or fails
it, if that was its last attempt: a job that kills its worker every time must stop).

The owner token is a fencing token: every write a job makes about itself (progress,
result, status) and every transaction a handler fences with :meth:`JobContext.hold`
checks it, so a worker that lost its lease (it was frozen, not dead) cannot overwrite
the work of the worker that took over; it gets :class:`LeaseLost` and stops.
Handlers stay idempotent (the engine's ``award`` issues at most one credential per
learner and definition), so a job run twice never issues twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update

from plugin.logging import log_event
from plugin.storage.models import Job

log = logging.getLogger("microcred.jobs")


class LeaseLost(Exception):
    """This worker no longer holds the job: another worker took it over."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def lease_seconds(services) -> float:
    return float(getattr(services.settings, "job_lease_seconds", 30) or 30)


def new_owner() -> str:
    """A token naming this claim: host and process (for people reading the job row) and a random part."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:10]}"


def owner_label(owner: str | None) -> str:
    """``host:pid`` of an owner token, for messages."""
    return ":".join((owner or "?").split(":")[:2])


def renew(services, job_id: int, owner: str) -> bool:
    """Push the lease forward; False when the job is no longer this owner's."""
    with services.session() as s:
        result = s.execute(
            update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(lease_expires_at=now() + timedelta(seconds=lease_seconds(services)))
            .execution_options(synchronize_session=False))
        return result.rowcount == 1


class Heartbeat:
    """Renews a job's lease from a daemon thread while the job runs (``with Heartbeat(...):``)."""

    def __init__(self, services, job_id: int, owner: str, interval: float | None = None):
        self.services, self.job_id, self.owner = services, job_id, owner
        self.interval = interval if interval is not None else lease_seconds(services) / 3
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not renew(self.services, self.job_id, self.owner):
                    self.lost.set()
                    log_event(log, "job lease lost", logging.WARNING, job_id=self.job_id,
                              owner=owner_label(self.owner))
                    return
            except Exception:  # the database went away for a moment: try again at the next beat
                log.warning("job heartbeat failed", exc_info=True)

    def __enter__(self) -> "Heartbeat":
        self._thread = threading.Thread(target=self._run, name=f"microcred-heartbeat-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def expired(services, at: datetime | None = None):
    """The condition of a running job whose lease expired. A row running from before leases
    existed (no expiry) counts as expired once its last update is older than one lease."""
    at = at or now()
    return (Job.status == "running") & or_(
        Job.lease_expires_at < at,
        and_(Job.lease_expires_at.is_(None), Job.updated_at < at - timedelta(seconds=lease_seconds(services))))


def take_over_expired(services, *, limit: int = 100) -> list[int]:
    """Put every job whose lease expired back in the queue (or fail it after its last attempt).

    Each row is changed with a compare-and-set on its owner, so when several workers look at
    once, one of them takes a given job. Returns the ids put back in the queue (RQ dispatches them).
    """
    requeued: list[int] = []
    at = now()
    with services.session() as s:
        rows = s.execute(select(Job.id, Job.lease_owner, Job.attempts, Job.max_attempts, Job.kind)
                         .where(expired(services, at)).order_by(Job.id).limit(limit)).all()
        for job_id, owner, attempts, max_attempts, kind in rows:
            who = owner_label(owner)
            last = attempts >= max_attempts
            message = (f"the worker running this job ({who}) stopped renewing its lease (it was stopped or died); "
                       + ("that was its last attempt" if last else "another worker takes it over"))
            owner_match = Job.lease_owner.is_(None) if owner is None else Job.lease_owner == owner
            changed = s.execute(
                update(Job).where(Job.id == job_id, Job.status == "running", owner_match, Job.attempts == attempts)
                .values(status="failed" if last else "queued", run_after=at, lease_owner=None,
                        lease_expires_at=None, last_error=message)
                .execution_options(synchronize_session=False))
            if changed.rowcount != 1:
                continue  # another worker took it first, or its worker came back and finished it
            log_event(log, "job taken over" if not last else "job failed: its worker died on the last attempt",
                      logging.WARNING if not last else logging.ERROR, job_id=job_id, kind=kind,
                      attempt=attempts, max_attempts=max_attempts, previous_owner=who)
            if not last:
                requeued.append(job_id)
    return requeued
