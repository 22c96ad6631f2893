"""Issuances that failed: recorded, retried, shown, and resolved exactly once (no Flask).

Every source that issues (the Open edX webhook, launches and gated launches, AGS scores,
the grades sync, the claim-time check, bulk uploads, the backlog queued on enabling, a
learner's claim) awards through :func:`award_or_defer`. When the engine fails (a JSON-LD
context is refused, the issuer's key is missing or does not open, the database hiccups),
the caller's pass evidence is kept and a :class:`PendingIssuance` row says what failed,
in plain words (:mod:`plugin.issuance.failures`). An ``issue_from_evidence`` job retries
it with exponential backoff (:data:`RETRY_ATTEMPTS` tries in all, the first being the one
that failed, spaced by :data:`RETRY_BACKOFF`); after the last one the row is ``failed``
and staff are told (an error in the log, an audit row, the instructor's issued list, the
admin overview and ``/healthz``). Staff fix the cause and press Retry, or the job's next
run succeeds.

Exactly once: the engine's ``award`` is idempotent (one current credential per learner
and definition, enforced by the database); every attempt first looks for a current
credential, and the database keeps at most one open row per learner and definition.
Issuing the credential by any path resolves the row (``award`` calls :func:`resolve_open`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.domain.i18n import Msg, N_
from plugin.issuance.failures import Failure, describe_failure, reason_from_json
from plugin.jobs.queue import JOB_BACKOFF
from plugin.logging import log_event
from plugin.metrics import count_issuance
from plugin.storage.models import (OPEN_ISSUANCE_STATES, AuditLog, Course, CredentialDefinition, IssuedCredential,
                                   Job, Learner, PendingIssuance)

log = logging.getLogger("microcred.issuance")

JOB_KIND = "issue_from_evidence"
# Tries in all (the failed one included); then the issuance is "failed" and staff are told.
RETRY_ATTEMPTS = 8
# (first delay, longest delay) in seconds: 30 s, 1, 2, 4, 8, 16, 30 min: about an hour in all.
RETRY_BACKOFF = JOB_BACKOFF[JOB_KIND]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class IssuanceRetry(RuntimeError):
    """Raised by the retry job when this attempt failed too (the queue schedules the next)."""


# --------------------------------------------------------------------------- awarding
def platform_name(learner: Learner | None) -> str | None:
    """The learner's name as their platform gave it (LTI ``name``, else given + family name)."""
    if learner is None:
        return None
    name = learner.name or " ".join(x for x in (learner.given_name, learner.family_name) if x)
    return " ".join(name.split()) or None


@dataclass
class Attempt:
    """What one try at issuing gave."""
    result: str  # issued | already_issued | not_due | failed
    credential: IssuedCredential | None = None
    failure: Failure | None = None
    why_not: Msg | None = None
    pending: PendingIssuance | None = None


def try_award(session: Session, services, *, definition_id: int, learner_id: int, evidence_id: int | None = None,
              display_name: str | None = None, actor: str = "system") -> Attempt:
    """Award through the engine inside a savepoint: a failure leaves the caller's transaction
    (its evidence, its other rows) intact and is returned, not raised."""
    from plugin.issuance.auto import award_credential
    try:
        with session.begin_nested():
            credential, created = award_credential(session, services, definition_id=definition_id,
                                                    learner_id=learner_id, evidence_id=evidence_id,
                                                    display_name=display_name, actor=actor)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        log.warning("issuing definition %s to learner %s failed", definition_id, learner_id, exc_info=True)
        return Attempt("failed", failure=describe_failure(exc))
    return Attempt("issued" if created else "already_issued", credential=credential)


def award_or_defer(session: Session, services, *, definition_id: int, learner_id: int,
                   evidence_id: int | None = None, display_name: str | None = None, actor: str = "system",
                   origin: str = "", claim: dict[str, Any] | None = None) -> Attempt:
    """Issue now; when that fails, record a pending issuance (and its retry job) in this
    transaction and return it. Raises only when even that cannot be recorded (the caller's
    transaction is then unusable: nothing is kept).

    Without a learner's claim (a pass seen by a bridge, a bulk upload, the backlog) and
    without a name, the credential carries the name the platform gave
    (:func:`platform_name`): claiming it later under that name delivers this credential,
    and only a corrected name issues a new one."""
    from_platform = claim is None and display_name is None
    if from_platform:
        display_name = platform_name(session.get(Learner, learner_id))
    attempt = try_award(session, services, definition_id=definition_id, learner_id=learner_id,
                        evidence_id=evidence_id, display_name=display_name, actor=actor)
    if from_platform and attempt.result == "issued" and attempt.credential is not None:
        attempt.credential.consent_at = None  # the learner consents when they claim it
    if attempt.failure is not None:
        attempt.pending = record_failure(session, services, definition_id=definition_id, learner_id=learner_id,
                                         evidence_id=evidence_id, failure=attempt.failure, origin=origin,
                                         claim=claim)
    count_issuance(attempt.pending.state if attempt.pending is not None else attempt.result, origin)
    return attempt


# --------------------------------------------------------------------------- the pending row
def open_pending(session: Session, definition_id: int, learner_id: int, *,
                 lock: bool = False) -> PendingIssuance | None:
    """The learner's open row for this credential; ``lock``: held until the transaction ends
    (concurrent failures then update it one after the other, none is lost)."""
    q = select(PendingIssuance).where(
        PendingIssuance.definition_id == definition_id, PendingIssuance.learner_id == learner_id,
        PendingIssuance.state.in_(OPEN_ISSUANCE_STATES))
    return session.scalar(q.with_for_update() if lock else q)


def _audit(session: Session, action: str, row: PendingIssuance, actor: str = "system", **details: Any) -> None:
    definition = session.get(CredentialDefinition, row.definition_id)
    learner = session.get(Learner, row.learner_id)
    session.add(AuditLog(actor=actor, action=action, target_type="definition",
                         target_id=definition.public_id if definition else str(row.definition_id),
                         details={"learner": learner.public_id if learner else None, "state": row.state,
                                  "reason_code": row.reason_code, "reason": row.detail, **details}))


def _job_active(session: Session, job_id: int | None) -> bool:
    if job_id is None:
        return False
    job = session.get(Job, job_id)
    return job is not None and job.status in ("queued", "running")


def schedule_retry(session: Session, services, row: PendingIssuance) -> int:
    """The ``issue_from_evidence`` job that retries ``row``, counting the failed try as its first."""
    from plugin.jobs.queue import backoff_delay, enqueue
    job_id = enqueue(services, JOB_KIND, {"definition_id": row.definition_id, "learner_id": row.learner_id,
                                          "evidence_id": row.evidence_id, "origin": row.origin},
                     session=session, max_attempts=RETRY_ATTEMPTS, delay=backoff_delay(1, *RETRY_BACKOFF))
    job = session.get(Job, job_id)
    job.attempts = 1
    job.last_error = row.detail[:4000]
    return job_id


def record_failure(session: Session, services, *, definition_id: int, learner_id: int, evidence_id: int | None,
                   failure: Failure, origin: str = "", claim: dict[str, Any] | None = None,
                   job_id: int | None = None, final: bool = False) -> PendingIssuance:
    """Record that issuing failed: a new open row with its retry job, or the open row updated.

    ``job_id``: the retry job reporting this failure. ``final``: it was its last try, so
    the row becomes ``failed`` (staff are told). A ``failed`` row stays failed: a new
    failing try (another event, a Retry press) updates its reason, not its state.
    """
    now = _now()
    row = open_pending(session, definition_id, learner_id, lock=True)
    created = False
    if row is None:
        row = PendingIssuance(definition_id=definition_id, learner_id=learner_id, evidence_id=evidence_id,
                              state="pending", origin=origin[:64], reason_code=failure.code,
                              reason=failure.reason_json(), detail=failure.detail, attempts=1, claim=claim,
                              first_failed_at=now, last_failed_at=now, job_id=job_id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            created = True
        except IntegrityError:  # recorded at the same moment by a concurrent request or worker
            row = open_pending(session, definition_id, learner_id, lock=True)
            if row is None:
                raise
    if not created:
        row.attempts += 1
        row.reason_code, row.reason, row.detail = failure.code, failure.reason_json(), failure.detail
        row.last_failed_at = now
        row.evidence_id = evidence_id or row.evidence_id
        row.claim = claim or row.claim
        if job_id is not None:
            row.job_id = job_id
    became_failed = final and row.state == "pending"
    if became_failed:
        row.state = "failed"
    elif row.state == "pending" and job_id is None and not _job_active(session, row.job_id):
        row.job_id = schedule_retry(session, services, row)
    session.flush()
    fields = dict(definition_id=definition_id, learner_id=learner_id, pending_id=row.id, state=row.state,
                  code=failure.code, reason=failure.detail, attempts=row.attempts, job_id=row.job_id)
    if became_failed:
        _audit(session, "credential.issue_failed", row, attempts=row.attempts)
        log_event(log, "credential issuance failed for good: staff must fix the cause and retry", logging.ERROR,
                  **fields)
    else:
        if created:
            _audit(session, "credential.issue_pending", row, origin=row.origin)
        log_event(log, "credential issuance failed; it will be retried" if row.state == "pending" else
                  "credential issuance failed again", logging.WARNING, **fields)
    return row


def resolve_open(session: Session, definition_id: int, learner_id: int, *, resolution: str,
                 credential_id: int | None = None) -> PendingIssuance | None:
    """Close the open row of this learner and definition, if any (the credential exists, or is no longer due)."""
    row = open_pending(session, definition_id, learner_id)
    if row is not None:
        row.state, row.resolution, row.resolved_at = "resolved", resolution, _now()
        row.credential_id = credential_id
        log_event(log, "pending issuance resolved", pending_id=row.id, resolution=resolution,
                  credential_id=credential_id)
    return row


# --------------------------------------------------------------------------- retrying
def _due_evidence(session: Session, definition: CredentialDefinition | None, learner_id: int, *,
                  claimed: bool, trusted_evidence_id: int | None) -> tuple[int | None, Msg | None]:
    """``(evidence id, None)`` when the learner is still owed the credential, else ``(None, why)``.

    Decided again at every try: the definition may have been disabled, its policy changed,
    or newer evidence recorded since the first try."""
    from plugin.domain.policy import PolicyError, evaluate, parse_policy
    from plugin.evidence.base import evidence_observation, latest_evidence
    from plugin.storage.models import PassEvidence
    if definition is None or not definition.enabled:
        return None, N_("the credential is no longer enabled for this course")
    trusted = session.get(PassEvidence, trusted_evidence_id) if trusted_evidence_id else None
    if trusted is not None and trusted.source == "bulk_upload":  # the instructor's own list of who passed
        return (trusted.id, None) if trusted.passed else (None, N_("the learner's latest result no longer passes"))
    policy = parse_policy(definition.policy)
    if policy is None:
        return None, N_("the credential has no pass policy any more")
    if policy.issuance != "automatic" and not claimed:
        return None, N_("the credential is now issued when the learner claims it")
    evidence = latest_evidence(session, definition.id, learner_id)
    try:
        passed = evidence is not None and evaluate(policy, evidence_observation(evidence)).passed
    except (PolicyError, ValueError):
        passed = False
    if not passed:
        return None, N_("the learner's latest result no longer passes")
    return evidence.id, None


def issue_pending(session: Session, services, *, definition_id: int, learner_id: int,
                  evidence_id: int | None = None, actor: str = "system") -> Attempt:
    """One try at issuing what the learner is owed (the retry job and the Retry button).

    A current credential, or a learner no longer owed one, resolves the open row; a failure
    is returned for the caller to record (:func:`record_failure`)."""
    row = open_pending(session, definition_id, learner_id)
    from plugin.issuance.service import current_credential
    current = current_credential(session, definition_id, learner_id)
    if current is not None:
        resolve_open(session, definition_id, learner_id, resolution="issued", credential_id=current.id)
        return Attempt("already_issued", credential=current, pending=row)
    claim = (row.claim if row is not None else None) or {}
    evidence, why_not = _due_evidence(session, session.get(CredentialDefinition, definition_id), learner_id,
                                      claimed=bool(claim), trusted_evidence_id=(row.evidence_id if row else None)
                                      or evidence_id)
    if evidence is None:
        resolve_open(session, definition_id, learner_id, resolution="not_due")
        return Attempt("not_due", why_not=why_not, pending=row)
    name = claim.get("display_name") if claim else platform_name(session.get(Learner, learner_id))
    attempt = try_award(session, services, definition_id=definition_id, learner_id=learner_id, evidence_id=evidence,
                        display_name=name, actor=claim.get("actor") or actor)
    attempt.pending = row
    if attempt.result == "issued" and attempt.credential is not None and not claim:
        attempt.credential.consent_at = None  # the learner consents when they claim it
    if attempt.credential is not None and claim:
        consent = claim.get("at")
        at = datetime.fromisoformat(consent) if consent else _now()
        attempt.credential.consent_at = attempt.credential.consent_at or at
        attempt.credential.claimed_at = attempt.credential.claimed_at or at
    return attempt


def retry_now(session: Session, services, row: PendingIssuance, *, actor: str) -> Attempt:
    """Staff pressed Retry: one try now. A failure updates the row's reason; a ``failed`` row
    stays failed, a ``pending`` one keeps its automatic retries."""
    attempt = issue_pending(session, services, definition_id=row.definition_id, learner_id=row.learner_id,
                            evidence_id=row.evidence_id, actor=actor)
    if attempt.failure is not None:
        record_failure(session, services, definition_id=row.definition_id, learner_id=row.learner_id,
                       evidence_id=row.evidence_id, failure=attempt.failure, origin=row.origin)
    count_issuance(row.state if attempt.failure is not None else attempt.result, "staff_retry")
    return attempt


def run_retry_job(services, payload: dict[str, Any], ctx) -> dict[str, Any]:
    """Job ``issue_from_evidence``: ``{"definition_id", "learner_id", "evidence_id"?, "origin"?}``.

    Also what enabling a credential queues for passes recorded before (``origin: backlog``).
    A failed try is recorded on the pending row, then raised so the queue retries with
    backoff; the last try marks the row ``failed``."""
    definition_id, learner_id = int(payload["definition_id"]), int(payload["learner_id"])
    with services.session() as s:
        attempt = issue_pending(s, services, definition_id=definition_id, learner_id=learner_id,
                                evidence_id=payload.get("evidence_id"))
        if attempt.failure is not None:
            record_failure(s, services, definition_id=definition_id, learner_id=learner_id,
                           evidence_id=payload.get("evidence_id"), failure=attempt.failure,
                           origin=str(payload.get("origin") or "backlog"), job_id=ctx.job_id,
                           final=ctx.attempt >= ctx.max_attempts)
    failed = "failed" if ctx.attempt >= ctx.max_attempts else "pending"
    count_issuance(failed if attempt.failure is not None else attempt.result, "retry")
    if attempt.failure is not None:
        raise IssuanceRetry(attempt.failure.detail)
    if attempt.result == "not_due":
        return {"action": "skipped", "reason": str(attempt.why_not)}
    return {"action": attempt.result, "credential_id": attempt.credential.id if attempt.credential else None}


# --------------------------------------------------------------------------- what pages and monitoring show
@dataclass
class OpenIssuance:
    """An open row as pages show it."""
    row: PendingIssuance
    learner: Learner
    reason: Msg
    next_attempt_at: datetime | None
    course: Course | None = None

    @property
    def state(self) -> str:
        return self.row.state


def _next_attempt(row: PendingIssuance, job: Job | None) -> datetime | None:
    if row.state != "pending" or job is None or job.status not in ("queued", "running"):
        return None
    return job.run_after


def open_issuances(session: Session, *, definition_id: int | None = None, course_ids: list[int] | None = None,
                   course_id: int | None = None, limit: int = 200) -> list[OpenIssuance]:
    """Open rows (failed first, then the newest), with their learner and next automatic try."""
    q = (select(PendingIssuance, Learner, Job, Course)
         .join(Learner, Learner.id == PendingIssuance.learner_id)
         .join(CredentialDefinition, CredentialDefinition.id == PendingIssuance.definition_id)
         .join(Course, Course.id == CredentialDefinition.course_id)
         .outerjoin(Job, Job.id == PendingIssuance.job_id)
         .where(PendingIssuance.state.in_(OPEN_ISSUANCE_STATES)))
    if definition_id is not None:
        q = q.where(PendingIssuance.definition_id == definition_id)
    if course_id is not None:
        q = q.where(Course.id == course_id)
    if course_ids is not None:
        q = q.where(Course.id.in_(course_ids))
    q = q.order_by((PendingIssuance.state == "failed").desc(), PendingIssuance.last_failed_at.desc(),
                   PendingIssuance.id.desc()).limit(limit)
    return [OpenIssuance(row=row, learner=learner, reason=reason_from_json(row.reason),
                         next_attempt_at=_next_attempt(row, job), course=course)
            for row, learner, job, course in session.execute(q)]


def open_counts(session: Session, *, definition_id: int | None = None,
                course_ids: list[int] | None = None) -> dict[str, int]:
    """``{"pending": n, "failed": n}``."""
    q = select(PendingIssuance.state, func.count()).where(PendingIssuance.state.in_(OPEN_ISSUANCE_STATES))
    if definition_id is not None:
        q = q.where(PendingIssuance.definition_id == definition_id)
    if course_ids is not None:
        q = q.join(CredentialDefinition, CredentialDefinition.id == PendingIssuance.definition_id).where(
            CredentialDefinition.course_id.in_(course_ids))
    counts = {"pending": 0, "failed": 0}
    counts.update({state: n for state, n in session.execute(q.group_by(PendingIssuance.state))})
    return counts


STUCK_AFTER = timedelta(minutes=10)
LEASE_TAKEOVER_GRACE = timedelta(minutes=1)
LEGACY_STALE = timedelta(minutes=30)  # a row running from before job leases existed


def health_report(session: Session) -> dict[str, Any]:
    """Counts for ``/healthz``: no learner, course or credential is named."""
    now = _now()
    issuance = open_counts(session)
    oldest = session.scalar(select(func.min(PendingIssuance.first_failed_at)).where(
        PendingIssuance.state.in_(OPEN_ISSUANCE_STATES)))
    issuance["oldest_open_seconds"] = int((now - oldest).total_seconds()) if oldest else None
    issuance["reasons"] = {code: n for code, n in session.execute(
        select(PendingIssuance.reason_code, func.count()).where(PendingIssuance.state.in_(OPEN_ISSUANCE_STATES))
        .group_by(PendingIssuance.reason_code))}
    jobs = {status: 0 for status in ("queued", "running", "failed")}
    jobs.update({status: n for status, n in session.execute(
        select(Job.status, func.count()).where(Job.status.in_(tuple(jobs))).group_by(Job.status))})
    # Due for a while but not taken (no worker running), or running under a lease that expired
    # over a minute ago with no worker to take it over (a live worker does within a minute).
    jobs["stuck"] = session.scalar(select(func.count()).select_from(Job).where(
        ((Job.status == "queued") & (Job.run_after < now - STUCK_AFTER))
        | ((Job.status == "running") & (Job.lease_expires_at < now - LEASE_TAKEOVER_GRACE))
        | ((Job.status == "running") & Job.lease_expires_at.is_(None) & (Job.updated_at < now - LEGACY_STALE)))) or 0
    return {"issuance": issuance, "jobs": jobs}
