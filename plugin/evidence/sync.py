"""Catch-up sync: pull every learner's status from the course's source and issue what is due.

Learners go in batches of :data:`SYNC_BATCH`: one transaction records their results
(evidence, decision), then the credentials the automatic policy owes them go through the
batched issuance pipeline (:func:`plugin.issuance.batch.issue_known`: signed outside any
transaction, stored in one short transaction per batch), as a bulk upload does. Every step
is idempotent (evidence dedup keys, the partial unique index on current credentials), so a
sync can be interrupted at any point and run again: a re-run records nothing new for
unchanged results and issues nothing twice.

Used by ``microcred sync`` (progress bar), by the instructor page through the
``sync_course`` job (progress stored in the job row, polled at
``GET /api/courses/<id>/sync/<job id>``), and, for one learner, at claim time
(:func:`refresh_learner`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session

from plugin.domain.policy import CoursePolicy
from plugin.evidence.base import (BridgeError, LearnerResult, PullSource, definitions_for_course, ensure_learner,
                                  learner_by_username, platform_with_bridge)
from plugin.issuance.auto import Outcome, process_observation
from plugin.jobs.queue import PermanentJobError
from plugin.logging import log_event
from plugin.storage.models import Course, CredentialDefinition, Learner, Platform

log = logging.getLogger("microcred.sync")

BRIDGE_OF_SOURCE = {"openedx_webhook": "openedx", "openedx_grades": "openedx", "moodle": "moodle", "ags": None}


SYNC_BATCH = 200  # learners per transaction pair (record, then issue through the batched pipeline)


class NothingToPull(BridgeError):
    def __init__(self, message: str):
        super().__init__(message, code="nothing_to_pull")


def _platform_for(session: Session, course: Course, bridge: str, key: str) -> Platform:
    if course.platform_id:
        platform = session.get(Platform, course.platform_id)
        if platform is not None and (platform.bridge_settings or {}).get(bridge, {}).get(key):
            return platform
    platform = platform_with_bridge(session, course.platform_issuer, bridge, key)
    if platform is None:
        raise BridgeError(f"no registration of {course.platform_issuer} has the {bridge} bridge configured "
                          "(microcred bridge set ...)", code="not_configured")
    return platform


def pull_source_for(session: Session, services, course: Course, policy: CoursePolicy) -> PullSource:
    """The pull source answering for ``policy`` in ``course`` (an Open edX webhook policy catches up via the grades API)."""
    if policy.source in ("openedx_webhook", "openedx_grades"):
        from plugin.evidence.openedx import OpenEdxGradesSource
        return OpenEdxGradesSource.for_platform(services, _platform_for(session, course, "openedx", "api_url"))
    if policy.source == "moodle":
        from plugin.evidence.moodle import MoodleSource
        return MoodleSource.for_platform(services, _platform_for(session, course, "moodle", "url"))
    if policy.source == "ags":
        from plugin.evidence.lti_ags import AgsSource, results_reader
        platform = session.get(Platform, course.platform_id) if course.platform_id else None
        if platform is None:
            raise BridgeError("the course has no platform registration to read AGS results with", code="not_configured")
        return AgsSource(results_reader(services, platform))
    raise NothingToPull("gated launch has nothing to pull: the launch itself is the evidence")


def _resolve_learner(session: Session, course: Course, result: LearnerResult) -> Learner | None:
    if result.sub:
        return ensure_learner(session, course.platform_issuer, result.sub, name=result.name, email=result.email)
    if result.username:
        return learner_by_username(session, course.platform_issuer, result.username)
    return None


@dataclass
class SyncReport:
    course_id: int
    definitions: list[int] = field(default_factory=list)
    total: int = 0
    done: int = 0
    issued: int = 0
    already_issued: int = 0
    ready_to_claim: int = 0
    not_passed: int = 0
    disabled: int = 0
    # passes recorded whose issuance failed: retried automatically (pending) or given up (failed)
    pending: int = 0
    failed: int = 0
    unknown_learners: int = 0
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False

    def count(self, outcome: Outcome) -> None:
        name = outcome.action
        if hasattr(self, name):
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"{self.done}/{self.total} results", f"{self.issued} issued", f"{self.already_issued} already issued",
                 f"{self.ready_to_claim} ready to claim", f"{self.not_passed} not passed"]
        if self.pending or self.failed:
            parts.append(f"{self.pending + self.failed} not issued yet (signing or storing failed; "
                         "see the issued list)")
        if self.unknown_learners:
            parts.append(f"{self.unknown_learners} not matched to a learner of the tool")
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)


Progress = Callable[[SyncReport], None]


def resolve_course(session: Session, ref: str, context_id: str | None = None) -> Course:
    """``ref`` is our course id (``12``), or the platform issuer with ``context_id``."""
    from sqlalchemy import select
    if context_id is None:
        if not ref.isdigit():
            raise BridgeError(f"{ref!r} is not a course id; give the course id, or the platform issuer and "
                              "the LTI context id", code="unknown_course")
        course = session.get(Course, int(ref))
    else:
        course = session.scalar(select(Course).where(Course.platform_issuer == ref, Course.context_id == context_id))
    if course is None:
        raise BridgeError("no such course: the tool knows a course after its first launch", code="unknown_course")
    return course


def sync_course(services, course_id: int, *, definition_id: int | None = None, progress: Progress | None = None,
                on_start: Callable[[int], None] | None = None) -> SyncReport:
    """Pull and process every learner of the course for each enabled definition with a pull source."""
    report = SyncReport(course_id=course_id)
    work: list[tuple[int, list[LearnerResult]]] = []
    with services.session() as s:
        course = s.get(Course, course_id)
        if course is None:
            raise BridgeError(f"no course {course_id}", code="unknown_course")
        targets = [(d, p) for d, p in definitions_for_course(s, course_id) if definition_id in (None, d.id)]
        if not targets:
            raise BridgeError("this course has no enabled credential with a pass policy", code="nothing_to_sync")
        plans = []
        for definition, policy in targets:
            try:
                plans.append((definition.id, policy, pull_source_for(s, services, course, policy)))
            except NothingToPull:
                continue
    # Pages are fetched before any write, outside any transaction: a source may use the
    # database itself (the AGS client's token cache), which SQLite cannot nest.
    for definition_id_, policy, source in plans:
        results = list(source.observe_course(course, policy))
        work.append((definition_id_, results))
        report.definitions.append(definition_id_)
    if not work:
        raise BridgeError("nothing to pull: this course's credentials use gated launch", code="nothing_to_sync")
    report.total = sum(len(results) for _, results in work)
    if on_start:
        on_start(report.total)
    for definition_id_, results in work:
        for start in range(0, len(results), SYNC_BATCH):
            _sync_batch(services, course_id, definition_id_, results[start:start + SYNC_BATCH], report)
            if progress:
                progress(report)
    log_event(log, "course sync finished", **{k: v for k, v in report.as_dict().items() if k != "errors"},
              errors=len(report.errors))
    return report


def _sync_batch(services, course_id: int, definition_id: int, results: list[LearnerResult],
                report: SyncReport) -> None:
    """Record a batch of learners' results in one transaction, then issue the credentials the
    automatic policy owes them through the batched pipeline (:func:`plugin.issuance.batch.issue_known`:
    signing outside any transaction, one short write per batch). Learners the batch could not
    sign for go the single path (:func:`process_observation`), which records a pending
    issuance when it fails. Every step is idempotent, so a re-run after an interruption
    records nothing twice and issues only what is still owed."""
    from plugin.domain.policy import parse_policy
    from plugin.issuance.batch import issue_known
    from plugin.issuance.pending import platform_name
    from plugin.metrics import count_issuance
    due: list[dict[str, Any]] = []
    try:
        with services.session() as s:
            definition = s.get(CredentialDefinition, definition_id)
            course = s.get(Course, course_id)
            policy = parse_policy(definition.policy)
            automatic = bool(definition.enabled and policy is not None and policy.issuance == "automatic")
            for i, result in enumerate(results):
                try:
                    with s.begin_nested():
                        learner = _resolve_learner(s, course, result)
                        if learner is None:
                            report.unknown_learners += 1
                            continue
                        outcome = process_observation(s, services, definition=definition, learner=learner,
                                                      observation=result.observation, issue=False)
                    if automatic and outcome.action == "ready_to_claim":
                        due.append({"tag": i, "learner_id": learner.id, "evidence_id": outcome.evidence_id,
                                    "display_name": platform_name(learner)})
                    else:
                        report.count(outcome)
                except KeyboardInterrupt:
                    report.interrupted = True
                    raise
                except Exception as exc:  # one learner's problem does not stop the others
                    report.errors.append(f"{_who(result)}: {type(exc).__name__}: {exc}"[:300])
                    log.exception("sync: learner failed")
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    except Exception as exc:  # the batch's transaction could not commit: nothing of it was kept
        report.errors.append(f"{len(results)} results: {type(exc).__name__}: {exc}"[:300])
        log.exception("sync: batch failed")
        report.done += len(results)
        return
    outcomes = issue_known(services, definition_id, due, actor="system") if due else {}
    for entry in due:
        got = outcomes[entry["tag"]]
        result = results[entry["tag"]]
        if got.result in ("issued", "already_issued"):
            setattr(report, got.result, getattr(report, got.result) + 1)
            count_issuance(got.result, result.observation.source)
            continue
        try:  # disabled meanwhile, or the batch's signing failed: the single path says what happened
            with services.session() as s:
                report.count(process_observation(s, services, definition=s.get(CredentialDefinition, definition_id),
                                                 learner=s.get(Learner, entry["learner_id"]),
                                                 observation=result.observation))
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        except Exception as exc:
            report.errors.append(f"{_who(result)}: {type(exc).__name__}: {exc}"[:300])
            log.exception("sync: learner failed")
    report.done += len(results)


def _who(result: LearnerResult) -> str:
    return str(result.sub or result.username)


def _id(value) -> int:
    return int(getattr(value, "id", value))


def observe_learner_now(services, definition, learner):
    """Ask the definition's source about one learner, outside any write transaction.

    The configuration is read in a short session of its own that is closed before the
    request goes out: a source may open sessions itself (the AGS client's token cache),
    which on SQLite would wait for a caller that holds the write lock.
    Returns ``(policy, observation)``.
    """
    from plugin.domain.policy import parse_policy
    with services.session() as s:
        definition_row = s.get(CredentialDefinition, _id(definition))
        learner_row = s.get(Learner, _id(learner))
        if definition_row is None or learner_row is None:
            raise BridgeError("no such credential or learner", code="unknown")
        policy = parse_policy(definition_row.policy)
        if policy is None:
            raise BridgeError("this credential has no pass policy", code="no_policy")
        course = s.get(Course, definition_row.course_id)
        source = pull_source_for(s, services, course, policy)
        s.expunge_all()  # plain column values only from here on (expire_on_commit is off)
    return policy, source.observe_learner(course, learner_row, policy)


def refresh_learner(services, definition, learner, *, issue: bool = True) -> Outcome:
    """Claim-time check: ask the source about one learner now, then record and decide (and
    issue if automatic) in one short transaction, like :func:`sync_course`.

    ``definition`` and ``learner`` are rows or ids. The caller must not hold an open write
    transaction (on SQLite it would block the source's own sessions and this one).
    """
    policy, obs = observe_learner_now(services, definition, learner)
    with services.session() as s:
        return process_observation(s, services, definition=s.get(CredentialDefinition, _id(definition)),
                                   learner=s.get(Learner, _id(learner)), observation=obs, policy=policy, issue=issue)


def pull_configured(platforms: list[Platform], policy) -> bool:
    """Whether a registration of the course's platform (``platforms``: all of its issuer's)
    can answer for ``policy`` (:func:`pull_source_for` would not say ``not_configured``
    for want of bridge settings); AGS is asked through the launch's own registration."""
    needs = {"openedx_webhook": ("openedx", "api_url"), "openedx_grades": ("openedx", "api_url"),
             "moodle": ("moodle", "url")}.get(policy.source)
    if needs is None:
        return policy.source == "ags"
    bridge, key = needs
    return any((p.bridge_settings or {}).get(bridge, {}).get(key) for p in platforms)


def refresh_is_possible(definition: CredentialDefinition) -> bool:
    """Whether the definition's policy has a source that can be asked about one learner."""
    from plugin.domain.policy import parse_policy
    try:
        policy = parse_policy(definition.policy)
    except ValueError:
        return False
    return policy is not None and policy.source in BRIDGE_OF_SOURCE


# --------------------------------------------------------------------------- jobs
def run_sync_job(services, payload: dict[str, Any], ctx) -> dict[str, Any]:
    """Job ``sync_course``: ``{"course_id": int, "definition_id": int | None, "trigger": "scheduled" |
    "instructor"}``; progress in the row, the outcome in the course's catch-up record.

    One run per course at a time (:func:`plugin.evidence.sync_schedule.begin_run`): a job that
    finds the course held by another run ends at once, saying so.
    """
    from plugin.evidence import sync_schedule
    course_id = int(payload["course_id"])
    if not sync_schedule.begin_run(services, course_id, ctx.job_id, payload.get("trigger") or "instructor"):
        return {"skipped": "another catch-up of this course is running"}
    last = [0.0]

    def progress(report: SyncReport) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or report.done == report.total:
            last[0] = now
            ctx.progress(report.done, report.total, report=report.as_dict())
    try:
        report = sync_course(services, course_id, definition_id=payload.get("definition_id"),
                             progress=progress, on_start=lambda total: ctx.progress(0, total))
    except Exception as exc:
        from plugin.jobs.lease import LeaseLost
        if isinstance(exc, LeaseLost):
            raise  # the run that took the job over records the result
        final = not getattr(exc, "retryable", False) or ctx.attempt >= ctx.max_attempts
        if final:
            sync_schedule.finish_run(services, course_id, ctx.job_id, error=exc)
        else:
            sync_schedule.release(services, course_id, ctx.job_id)
        if isinstance(exc, BridgeError) and not exc.retryable:
            raise PermanentJobError(exc.message) from None
        raise
    sync_schedule.finish_run(services, course_id, ctx.job_id, report=report)
    return {"report": report.as_dict(), "summary": report.summary(),
            "progress": {"done": report.done, "total": report.total}}


def run_pull_learner_job(services, payload: dict[str, Any], ctx) -> dict[str, Any]:
    """Job ``pull_learner``: ``{"definition_id", "learner_id"}`` (a platform API may be down: retried)."""
    try:
        outcome = refresh_learner(services, int(payload["definition_id"]), int(payload["learner_id"]))
    except BridgeError as exc:
        if exc.retryable:
            raise
        raise PermanentJobError(exc.message) from None
    return {"outcome": outcome.as_dict()}
