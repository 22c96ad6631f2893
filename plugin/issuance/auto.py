"""Automatic issuance: evidence in, at most one credential out.

Every source ends here with one observation about one learner for one definition.
:func:`process_observation` records the evidence, applies the definition's policy and,
when the learner passed, the definition is enabled and its policy says
``issuance: automatic``, awards the credential through the credential engine
(:func:`plugin.issuance.service.award`, idempotent and race-safe: the database keeps at
most one current credential per definition and learner). Issuance runs in the caller's
transaction, so a push source (webhook, launch) has its credential within the request;
the e-mail to the learner is a background job. When issuing fails (signing, keys, the
database), the evidence is kept all the same and the issuance becomes a pending one,
retried by a job (:mod:`plugin.issuance.pending`): the outcome's action is then
``pending`` (or ``failed`` once automatic retries are exhausted) with the reason.

The engine is reached only through :func:`engine_award`, so this module has one place
where it depends on the engine's signature.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from plugin.domain.policy import CoursePolicy, Observation, evaluate, parse_policy
from plugin.evidence.base import record_evidence
from plugin.logging import log_event
from plugin.storage.models import CredentialDefinition, Job, Learner

log = logging.getLogger("microcred.issuance")


def engine_award() -> Callable[..., Any]:
    """The credential engine's ``award(session, services, *, definition_id, learner_id,
    evidence_id=None, display_name=None) -> (IssuedCredential, created)``."""
    from plugin.issuance.service import award
    return award


@dataclass
class Outcome:
    definition_id: int
    learner_id: int
    evidence_id: int | None
    evidence_created: bool
    passed: bool
    reason: str
    # issued | already_issued | ready_to_claim | not_passed | disabled | pending | failed
    action: str
    credential_id: int | None = None
    # pending / failed: why issuing failed (plain words), and the job that retries it
    issue_error: str | None = None
    issue_error_code: str | None = None
    job_id: int | None = None
    next_attempt_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def award_credential(session: Session, services, *, definition_id: int, learner_id: int,
                     evidence_id: int | None = None, display_name: str | None = None, actor: str = "system"):
    """Award through the engine; enqueue the learner's e-mail when a credential was created.
    Raises what the engine raises: callers go through :func:`plugin.issuance.pending.award_or_defer`."""
    credential, created = engine_award()(session, services, definition_id=definition_id, learner_id=learner_id,
                                         evidence_id=evidence_id, display_name=display_name, actor=actor)
    if created:
        log_event(log, "credential issued", definition_id=definition_id, learner_id=learner_id,
                  credential_id=getattr(credential, "id", None), evidence_id=evidence_id)
        learner = session.get(Learner, learner_id)
        credential_id = getattr(credential, "id", None)
        if learner is not None and learner.email and credential_id is not None:
            from plugin.jobs.queue import enqueue
            enqueue(services, "notify_credential_ready", {"credential_id": credential_id}, session=session)
    return credential, created


def process_observation(session: Session, services, *, definition: CredentialDefinition, learner: Learner,
                        observation: Observation, policy: CoursePolicy | None = None,
                        dedup_key: str | None = None, display_name: str | None = None,
                        issue: bool = True) -> Outcome:
    """Record the evidence, decide, and issue when the policy says so (once)."""
    policy = policy or parse_policy(definition.policy)
    if policy is None:
        raise ValueError(f"definition {definition.id} has no pass policy")
    decision = evaluate(policy, observation)
    evidence, created = record_evidence(session, definition_id=definition.id, learner_id=learner.id,
                                        observation=observation, decision=decision, dedup_key=dedup_key)
    outcome = Outcome(definition_id=definition.id, learner_id=learner.id, evidence_id=evidence.id,
                      evidence_created=created, passed=decision.passed, reason=decision.reason,
                      action="not_passed")
    if not decision.passed:
        return outcome
    if not definition.enabled:
        outcome.action = "disabled"
        return outcome
    if policy.issuance != "automatic" or not issue:
        held = current_credential(session, definition.id, learner.id)
        if held is not None:  # claimed (or issued) already: nothing left to claim
            outcome.action, outcome.credential_id = "already_issued", held.id
        else:
            outcome.action = "ready_to_claim"
        return outcome
    from plugin.issuance.pending import award_or_defer
    attempt = award_or_defer(session, services, definition_id=definition.id, learner_id=learner.id,
                             evidence_id=evidence.id, display_name=display_name, origin=observation.source)
    if attempt.pending is not None:
        pending = attempt.pending
        outcome.action = pending.state  # pending (retried automatically) or failed (staff must retry)
        outcome.issue_error, outcome.issue_error_code = str(attempt.failure.reason), attempt.failure.code
        outcome.job_id = pending.job_id
        job = session.get(Job, pending.job_id) if pending.job_id and pending.state == "pending" else None
        outcome.next_attempt_at = job.run_after.isoformat() if job is not None else None
        return outcome
    outcome.credential_id = getattr(attempt.credential, "id", None)
    outcome.action = "issued" if attempt.result == "issued" else "already_issued"
    return outcome


def current_credential(session: Session, definition_id: int, learner_id: int):
    """The learner's current (active or suspended) credential of the definition, if any."""
    from sqlalchemy import select

    from plugin.storage.models import CURRENT_STATUSES, IssuedCredential
    return session.scalar(select(IssuedCredential).where(
        IssuedCredential.definition_id == definition_id, IssuedCredential.learner_id == learner_id,
        IssuedCredential.status.in_(CURRENT_STATUSES)).limit(1))


# --------------------------------------------------------------------------- passes recorded before enabling
def passing_backlog(session: Session, definition: CredentialDefinition) -> list[tuple[int, int]]:
    """``(learner_id, evidence_id)`` of every learner whose latest recorded evidence passes
    under the definition's *current* policy and who holds no current credential for it.

    A platform may report a pass before the instructor enables the credential (the webhook
    records it anyway); this is what enabling it owes those learners.
    """
    from sqlalchemy import select

    from plugin.domain.policy import PolicyError
    from plugin.evidence.base import evidence_observation, latest_evidence
    from plugin.storage.models import CURRENT_STATUSES, IssuedCredential, PassEvidence
    policy = parse_policy(definition.policy)
    if policy is None:
        return []
    holders = set(session.scalars(select(IssuedCredential.learner_id).where(
        IssuedCredential.definition_id == definition.id, IssuedCredential.status.in_(CURRENT_STATUSES))))
    learner_ids = session.scalars(select(PassEvidence.learner_id).where(PassEvidence.definition_id == definition.id)
                                  .distinct().order_by(PassEvidence.learner_id))
    due = []
    for learner_id in learner_ids:
        if learner_id in holders:
            continue
        evidence = latest_evidence(session, definition.id, learner_id)
        try:
            passed = evaluate(policy, evidence_observation(evidence)).passed
        except (PolicyError, ValueError):  # evidence this policy cannot read: not a pass
            log.warning("evidence %s cannot be evaluated under definition %s's policy", evidence.id, definition.id)
            continue
        if passed:
            due.append((learner_id, evidence.id))
    return due


def queue_backlog(session: Session, services, definition: CredentialDefinition) -> int:
    """On enabling: queue one ``issue_from_evidence`` job per learner the backlog owes a
    credential, when the policy issues automatically (``on_claim`` learners simply see
    "ready to claim"). Jobs join ``session``'s transaction: they exist only if the enable
    commits. Returns how many were queued."""
    policy = parse_policy(definition.policy)
    if policy is None or policy.issuance != "automatic" or not definition.enabled:
        return 0
    from plugin.issuance.pending import JOB_KIND, RETRY_ATTEMPTS
    from plugin.jobs.queue import enqueue
    due = passing_backlog(session, definition)
    for learner_id, evidence_id in due:
        enqueue(services, JOB_KIND, {"definition_id": definition.id, "learner_id": learner_id,
                                     "evidence_id": evidence_id, "origin": "backlog"},
                session=session, max_attempts=RETRY_ATTEMPTS)
    if due:
        log_event(log, "backlog queued", definition_id=definition.id, learners=len(due))
    return len(due)
