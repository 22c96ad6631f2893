"""Background jobs: one ``enqueue(kind, payload)`` interface, two ways to run them.

Every job is a row of the ``job`` table (kind, payload, status, attempts, run_after,
last_error, result): the row is the durable record a page can poll and the place where
retries are counted, whichever backend runs it.

* **Embedded** (default, no extra service): the embedded worker
  (:class:`plugin.jobs.worker.EmbeddedWorker`) claims due rows from the table itself
  (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a compare-and-set update on SQLite).
* **Redis** (``MICROCRED_REDIS_URL`` set): the row is also pushed to an RQ queue once the
  transaction that created it commits; ``microcred worker`` runs an RQ worker that
  executes it. Retries are scheduled with ``enqueue_in`` (the RQ worker runs its scheduler).

A running job holds a **lease** renewed by a heartbeat (:mod:`plugin.jobs.lease`): when its
worker dies, another worker takes the job over once the lease expires (30 s by default).

A failing job is retried with exponential backoff (``BACKOFF_BASE * 2**(attempt-1)``
seconds, capped at ``BACKOFF_MAX``, plus up to 10 % jitter; a kind may have its own pair
in :data:`JOB_BACKOFF`) until ``max_attempts``, then marked ``failed`` with its last error.

Handlers are listed in :data:`JOB_KINDS` as ``"module:function"`` so a worker imports only
what it runs. A handler is ``handler(services, payload, ctx) -> dict | None``; ``ctx``
(:class:`JobContext`) reports progress into the row's ``result`` while the job runs, and
fences the handler's own transactions with the lease (:meth:`JobContext.hold`). A handler
may run again after a takeover, so it must be idempotent, and a long one should resume
where it stopped (the bulk issue does).
"""
from __future__ import annotations

import importlib
import logging
import random
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from plugin.jobs.lease import Heartbeat, LeaseLost, lease_seconds, new_owner, owner_label
from plugin.logging import log_event
from plugin.storage.models import Job

log = logging.getLogger("microcred.jobs")

BACKOFF_BASE = 2.0  # seconds before the first retry
BACKOFF_MAX = 15 * 60.0
DEFAULT_MAX_ATTEMPTS = 5
RQ_QUEUE_NAME = "microcred"  # the default of MICROCRED_RQ_QUEUE

JOB_KINDS: dict[str, str] = {
    "notify_credential_ready": "plugin.delivery.notify:run_notify_job",
    "notify_claim_reminder": "plugin.delivery.notify:run_claim_reminder_job",
    "sync_course": "plugin.evidence.sync:run_sync_job",
    "pull_learner": "plugin.evidence.sync:run_pull_learner_job",
    "bulk_issue": "plugin.issuance.bulk:run_bulk_issue_job",
    "issue_from_evidence": "plugin.issuance.pending:run_retry_job",
    "edc_seal": "plugin.issuance.edc_sealing:run_seal_job",
    "edc_europass": "plugin.issuance.edc_sealing:run_europass_job",
    "pathway_check": "plugin.issuance.pathways:run_check_job",
    "pathway_backlog": "plugin.issuance.pathways:run_backlog_job",
}
# (first delay, longest delay) of the kinds that do not use BACKOFF_BASE / BACKOFF_MAX
JOB_BACKOFF: dict[str, tuple[float, float]] = {
    "issue_from_evidence": (30.0, 1800.0),  # plugin.issuance.pending.RETRY_BACKOFF
}


class UnknownJobKind(ValueError):
    pass


class PermanentJobError(Exception):
    """Raise from a handler when retrying cannot help (bad configuration, unknown course)."""


def backoff_delay(attempt: int, base: float | None = None, cap: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based), with a little jitter."""
    base = BACKOFF_BASE if base is None else base
    cap = BACKOFF_MAX if cap is None else cap
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay + random.uniform(0, delay * 0.1)


def resolve_handler(kind: str) -> Callable[..., Any]:
    target = JOB_KINDS.get(kind)
    if target is None:
        raise UnknownJobKind(f"no handler for job kind {kind!r}")
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- queues
class DatabaseQueue:
    """Jobs wait in the ``job`` table for the embedded worker."""

    backend = "embedded"

    def __init__(self, services):
        self.services = services

    def enqueue(self, kind: str, payload: dict[str, Any], *, session: Session | None = None,
                max_attempts: int = DEFAULT_MAX_ATTEMPTS, delay: float = 0.0) -> int:
        """Add a job; inside ``session``'s transaction when given (it runs only if that commits)."""
        if kind not in JOB_KINDS:
            raise UnknownJobKind(f"no handler for job kind {kind!r}")
        job = Job(kind=kind, payload=payload, status="queued", attempts=0, max_attempts=max_attempts,
                  run_after=_now() + timedelta(seconds=delay))
        if session is not None:
            session.add(job)
            session.flush()
            self._after_commit(session, job.id, delay)
            return job.id
        with self.services.session() as s:
            s.add(job)
            s.flush()
            job_id = job.id
        self._dispatch(job_id, delay)
        return job_id

    def enqueue_many(self, kind: str, payloads: list[dict[str, Any]], *, session: Session,
                     max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> list[int]:
        """Add one job per payload in ``session``'s transaction, with one multi-row insert (bulk issuance)."""
        if kind not in JOB_KINDS:
            raise UnknownJobKind(f"no handler for job kind {kind!r}")
        if not payloads:
            return []
        from sqlalchemy import insert
        now = _now()
        if session.get_bind().dialect.name == "postgresql":  # one array parameter per column, not per value
            import json

            from plugin.storage.arrays import insert_unnest
            ids = list(insert_unnest(session, "job", {"payload": ("json", [json.dumps(p) for p in payloads])}, {
                "kind": ("text", kind), "status": ("text", "queued"), "attempts": ("integer", 0),
                "max_attempts": ("integer", max_attempts), "run_after": ("timestamptz", now),
                "created_at": ("timestamptz", now), "updated_at": ("timestamptz", now)},
                suffix="RETURNING id").scalars())
            self._after_commit_many(session, ids)
            return ids
        ids = list(session.scalars(insert(Job).returning(Job.id), [
            {"kind": kind, "payload": p, "status": "queued", "attempts": 0, "max_attempts": max_attempts,
             "run_after": now, "created_at": now, "updated_at": now} for p in payloads]))
        self._after_commit_many(session, ids)
        return ids

    def _after_commit_many(self, session: Session, job_ids: list[int]) -> None:
        pass

    def _after_commit(self, session: Session, job_id: int, delay: float) -> None:
        pass

    def _dispatch(self, job_id: int, delay: float) -> None:
        pass

    def retry_later(self, job_id: int, delay: float) -> None:
        """The row is already back to ``queued`` with its ``run_after``; the worker finds it."""


class RedisQueue(DatabaseQueue):
    """Jobs are rows too, and their ids go to an RQ queue once the row is committed."""

    backend = "redis"

    def __init__(self, services, queue_name: str | None = None):
        super().__init__(services)
        from redis import Redis
        from rq import Queue
        self.connection = Redis.from_url(services.settings.redis_url)
        self.queue = Queue(queue_name or rq_queue_name(services), connection=self.connection)

    def _after_commit(self, session: Session, job_id: int, delay: float) -> None:
        # Dispatch only if the row is committed; a rollback cancels the dispatch.
        state = {"open": True}

        def push(_session):
            if state["open"]:
                state["open"] = False
                self._dispatch(job_id, delay)

        def cancel(_session):
            state["open"] = False
        event.listen(session, "after_commit", push)
        event.listen(session, "after_rollback", cancel)

    def _after_commit_many(self, session: Session, job_ids: list[int]) -> None:
        state = {"open": True}

        def push(_session):
            if state["open"]:
                state["open"] = False
                from rq import Queue

                from plugin.jobs import rq_tasks
                self.queue.enqueue_many([Queue.prepare_data(rq_tasks.run_job, (job_id,), timeout=3600)
                                         for job_id in job_ids])

        def cancel(_session):
            state["open"] = False
        event.listen(session, "after_commit", push)
        event.listen(session, "after_rollback", cancel)

    def _dispatch(self, job_id: int, delay: float) -> None:
        from plugin.jobs import rq_tasks
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), rq_tasks.run_job, job_id, job_timeout=3600)
        else:
            self.queue.enqueue(rq_tasks.run_job, job_id, job_timeout=3600)

    def retry_later(self, job_id: int, delay: float) -> None:
        self._dispatch(job_id, delay)


def rq_queue_name(services) -> str:
    """The RQ queue of this instance: ``MICROCRED_RQ_QUEUE`` (tests may override it in ``services.extras``)."""
    return services.extras.get("rq_queue") or getattr(services.settings, "rq_queue", None) or RQ_QUEUE_NAME


def get_queue(services) -> DatabaseQueue:
    """The queue the settings ask for: Redis when ``MICROCRED_REDIS_URL`` is set, else embedded."""
    cached = services.extras.get("job_queue")
    if cached is not None:
        return cached
    queue = RedisQueue(services) if services.settings.redis_url else DatabaseQueue(services)
    services.extras["job_queue"] = queue
    return queue


def enqueue(services, kind: str, payload: dict[str, Any], **kwargs) -> int:
    """Queue ``kind`` with ``payload`` on the configured backend; returns the job id."""
    return get_queue(services).enqueue(kind, payload, **kwargs)


def enqueue_many(services, kind: str, payloads: list[dict[str, Any]], **kwargs) -> list[int]:
    """Queue one ``kind`` job per payload, in the given session's transaction (one insert)."""
    return get_queue(services).enqueue_many(kind, payloads, **kwargs)


# --------------------------------------------------------------------------- execution
@dataclass
class JobContext:
    """What a handler knows about the job it runs: its id, attempt and lease."""
    services: Any
    job_id: int
    attempt: int
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    owner: str | None = None  # the lease token; None when run outside a worker (tests, inline)
    heartbeat: Heartbeat | None = None
    on_success: list[Callable[[Session], None]] = field(default_factory=list)

    def _mine(self):
        """This job, while it is still this worker's (no lease check outside a worker)."""
        if self.owner is None:
            return Job.id == self.job_id
        return (Job.id == self.job_id) & (Job.lease_owner == self.owner)

    def progress(self, done: int, total: int | None = None, **info: Any) -> None:
        """Store progress in the job's ``result`` now (its own transaction, so pages see it).

        Raises :class:`LeaseLost` when another worker took the job over. Never call it inside
        a transaction fenced with :meth:`hold` (it would wait for that transaction's lock).
        """
        with self.services.session() as s:
            job = s.scalar(select(Job).where(self._mine()))
            if job is None:
                raise LeaseLost(f"job {self.job_id} was taken over by another worker")
            result = dict(job.result or {})
            result.update(info)
            result["progress"] = {"done": done, "total": total}
            job.result = result

    def hold(self, session: Session) -> None:
        """Fence ``session``'s transaction with the lease: call it first in a transaction whose
        effects must happen only while this worker holds the job.

        It renews the lease inside that transaction (an ``UPDATE`` of the job row checked
        against the owner token): on PostgreSQL the row stays locked until the transaction
        ends, so a takeover (which updates that row) waits for it, or the transaction sees the
        takeover and raises :class:`LeaseLost` (nothing is written). On SQLite, where a
        transaction holds the database's write lock, this also keeps the lease alive when the
        handler's transactions follow each other so closely that the heartbeat thread cannot
        get the lock in between.
        """
        if self.owner is None:
            return
        renewed = session.execute(
            update(Job).where(self._mine(), Job.status == "running")
            .values(lease_expires_at=_now() + timedelta(seconds=lease_seconds(self.services)))
            .execution_options(synchronize_session=False))
        if renewed.rowcount != 1:
            raise LeaseLost(f"job {self.job_id} was taken over by another worker")

    @property
    def lease_lost(self) -> bool:
        return self.heartbeat is not None and self.heartbeat.lost.is_set()


def _start(services, job_id: int, owner: str) -> bool:
    """Take a queued row for ``owner`` (RQ path): compare-and-set, so one execution wins."""
    with services.session() as s:
        taken = s.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", attempts=Job.attempts + 1, lease_owner=owner,
                    lease_expires_at=_now() + timedelta(seconds=lease_seconds(services)))
            .execution_options(synchronize_session=False))
        return taken.rowcount == 1


def execute_job(services, job_id: int, *, claimed: bool = False, owner: str | None = None) -> str:
    """Run one job row; returns its new status (done, queued for a retry, failed, skipped,
    missing, or lost when another worker took it over meanwhile).

    ``claimed``: the embedded worker already set the row to ``running`` for lease ``owner``
    and counted the attempt. Otherwise (RQ) this takes the row from ``queued`` to ``running``
    itself, and skips it when it is not queued (done, or run by someone else).
    """
    if not claimed:
        owner = new_owner()
        if not _start(services, job_id, owner):
            with services.session() as s:
                found = s.get(Job, job_id) is not None
            if not found:
                log_event(log, "job row not found", logging.WARNING, job_id=job_id)
            return "skipped" if found else "missing"
    with services.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            log_event(log, "job row not found", logging.WARNING, job_id=job_id)
            return "missing"
        kind, payload, attempt, max_attempts = job.kind, dict(job.payload or {}), job.attempts, job.max_attempts
    with Heartbeat(services, job_id, owner) if owner else _NoHeartbeat() as beat:
        ctx = JobContext(services=services, job_id=job_id, attempt=attempt, max_attempts=max_attempts, owner=owner,
                         heartbeat=beat if owner else None)
        try:
            handler = resolve_handler(kind)
            result = handler(services, payload, ctx)
        except LeaseLost:
            return _lost(job_id, kind, owner)
        except Exception as exc:
            return _failed(services, ctx, kind, max_attempts, exc)
    with services.session() as s:
        job = s.scalar(select(Job).where(ctx._mine()))
        if job is None or job.status != "running":
            return _lost(job_id, kind, owner)
        merged = dict(job.result or {})
        if isinstance(result, dict):
            merged.update(result)
        job.result = merged
        job.status = "done"
        job.last_error = None
        job.lease_owner = job.lease_expires_at = None
        for step in ctx.on_success:
            step(s)
    log_event(log, "job done", job_id=job_id, kind=kind, attempt=attempt)
    return "done"


class _NoHeartbeat:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


def _lost(job_id: int, kind: str, owner: str | None) -> str:
    log_event(log, "job abandoned: another worker took it over", logging.WARNING, job_id=job_id, kind=kind,
              owner=owner_label(owner))
    return "lost"


def _failed(services, ctx: JobContext, kind: str, max_attempts: int, exc: Exception) -> str:
    permanent = isinstance(exc, (PermanentJobError, UnknownJobKind))
    message = f"{type(exc).__name__}: {exc}"
    attempt = ctx.attempt
    with services.session() as s:
        job = s.scalar(select(Job).where(ctx._mine()))
        if job is None or job.status != "running":
            return _lost(ctx.job_id, kind, ctx.owner)
        job.last_error = message[:4000]
        job.lease_owner = job.lease_expires_at = None
        if permanent or attempt >= max_attempts:
            job.status = "failed"
            status, delay = "failed", None
        else:
            delay = backoff_delay(attempt, *JOB_BACKOFF.get(kind, (None, None)))
            job.status = "queued"
            job.run_after = _now() + timedelta(seconds=delay)
            status = "queued"
    log_event(log, "job failed", logging.WARNING if status == "queued" else logging.ERROR,
              job_id=ctx.job_id, kind=kind, attempt=attempt, max_attempts=max_attempts, error=message,
              retry_in=round(delay, 1) if delay is not None else None,
              trace=traceback.format_exc(limit=3) if status == "failed" else None)
    if status == "queued":
        get_queue(services).retry_later(ctx.job_id, delay)
    return status
