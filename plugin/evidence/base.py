"""The bridge interface: every source of pass evidence looks the same to the rest of the tool.

A source turns what its platform says into a :class:`plugin.domain.policy.Observation`.
Push sources (the Open edX webhook, a gated launch, an AGS score) hand one observation
to :func:`plugin.issuance.auto.process_observation`; pull sources (Open edX grades API,
Moodle web services, AGS results) implement :class:`PullSource` so the catch-up sync and
the claim-time check can ask about one learner or a whole course.

What the source saw is recorded as :class:`PassEvidence` (source, score, pass mark,
observed time, details), once per (source, dedup key), so it can be cited in the
credential and shown to the learner. No Flask here.
"""
from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.domain.policy import CoursePolicy, Decision, Observation, parse_policy
from plugin.storage.models import Course, CredentialDefinition, Learner, PassEvidence, Platform


class BridgeError(Exception):
    """A platform refused or could not be reached; the message says what failed, for people."""

    def __init__(self, message: str, *, code: str = "bridge_error", retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class BridgeNotConfigured(BridgeError):
    def __init__(self, message: str):
        super().__init__(message, code="not_configured")


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes from the database are UTC; SQLite hands them back naive."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# --------------------------------------------------------------------------- pull sources
@dataclass
class LearnerResult:
    """One learner's observation from a course-wide pull.

    ``sub`` is the LTI subject when the platform knows it (Moodle: its user id is the
    ``sub`` of its launches); otherwise ``username`` (Open edX) is matched against
    ``Learner.external_ids["openedx_username"]``.
    """
    observation: Observation
    sub: str | None = None
    username: str | None = None
    name: str | None = None
    email: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PullSource(ABC):
    """A platform API the tool asks about learners' results."""

    source: str = ""

    @abstractmethod
    def observe_learner(self, course: Course, learner: Learner, policy: CoursePolicy) -> Observation:
        """What the platform says now about one learner in one course."""

    @abstractmethod
    def observe_course(self, course: Course, policy: CoursePolicy) -> Iterator[LearnerResult]:
        """Every learner the platform reports for the course (may page through the API)."""

    def count_course(self, course: Course, policy: CoursePolicy) -> int | None:
        """How many results :meth:`observe_course` will yield, when cheap to know (progress bars)."""
        return None

    @abstractmethod
    def check(self, course_id: str | None = None) -> str:
        """Test the connection (and the course when given); one line saying what works."""


# --------------------------------------------------------------------------- platform settings
def bridge_settings(platform: Platform, name: str) -> dict[str, Any]:
    return dict((platform.bridge_settings or {}).get(name) or {})


def platforms_for_issuer(session: Session, issuer: str) -> list[Platform]:
    return list(session.scalars(select(Platform).where(Platform.issuer == issuer).order_by(Platform.id)))


def platform_with_bridge(session: Session, issuer: str, name: str, key: str | None = None) -> Platform | None:
    """The first registration of ``issuer`` that has bridge ``name`` configured (with ``key``)."""
    for platform in platforms_for_issuer(session, issuer):
        conf = bridge_settings(platform, name)
        if conf and (key is None or conf.get(key)):
            return platform
    return None


# --------------------------------------------------------------------------- courses, learners, definitions
def find_course(session: Session, platform_issuer: str, context_id: str) -> Course | None:
    return session.scalar(select(Course).where(Course.platform_issuer == platform_issuer,
                                               Course.context_id == context_id))


def ensure_learner(session: Session, platform_issuer: str, sub: str, **fields: Any) -> Learner:
    """The learner (platform issuer, sub), created if this is the first we hear of them.

    Race-safe: two concurrent deliveries about a new learner end with one row.
    Only empty fields are filled; ``external_ids`` are merged.
    """
    learner = session.scalar(select(Learner).where(Learner.platform_issuer == platform_issuer, Learner.sub == sub))
    if learner is None:
        try:
            with session.begin_nested():
                learner = Learner(platform_issuer=platform_issuer, sub=sub, external_ids={})
                session.add(learner)
                session.flush()
        except IntegrityError:
            learner = session.scalar(select(Learner).where(Learner.platform_issuer == platform_issuer,
                                                           Learner.sub == sub))
    external = fields.pop("external_ids", None) or {}
    for key, value in fields.items():
        if value and not getattr(learner, key, None):
            setattr(learner, key, value)
    if external and any((learner.external_ids or {}).get(k) != v for k, v in external.items()):
        learner.external_ids = {**(learner.external_ids or {}), **external}
    return learner


def learner_by_username(session: Session, platform_issuer: str, username: str) -> Learner | None:
    """Open edX grades come with usernames; the webhook and launches record them per learner."""
    for learner in session.scalars(select(Learner).where(Learner.platform_issuer == platform_issuer)):
        if (learner.external_ids or {}).get("openedx_username") == username:
            return learner
    return None


def definitions_for_course(session: Session, course_id: int, source: str | None = None,
                           *, enabled_only: bool = True) -> list[tuple[CredentialDefinition, CoursePolicy]]:
    """The course's definitions (enabled ones by default) whose policy listens to ``source``."""
    q = select(CredentialDefinition).where(CredentialDefinition.course_id == course_id).order_by(CredentialDefinition.id)
    if enabled_only:
        q = q.where(CredentialDefinition.enabled.is_(True))
    found = []
    for definition in session.scalars(q):
        policy = parse_policy(definition.policy)
        if policy is not None and (source is None or policy.source == source):
            found.append((definition, policy))
    return found


# --------------------------------------------------------------------------- evidence records
def observation_dedup_key(definition_id: int, learner_id: int, obs: Observation) -> str:
    """Same learner, same definition, same facts -> same key (a re-run sync records nothing new)."""
    facts = {"d": definition_id, "l": learner_id, "s": obs.source, "p": obs.passed, "sc": obs.score,
             "pm": obs.pass_mark, "c": obs.completed, "a": obs.assessments}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return f"obs:{digest}"


def record_evidence(session: Session, *, definition_id: int, learner_id: int, observation: Observation,
                    decision: Decision, dedup_key: str | None = None) -> tuple[PassEvidence, bool]:
    """Record what a source saw, once per (source, dedup key). Returns (evidence, created).

    ``passed`` is the policy's decision; the platform's own verdict, the rule's reason and
    the whole observation stay in ``details`` (they end up in the credential's evidence).
    """
    key = dedup_key or observation_dedup_key(definition_id, learner_id, observation)
    existing = session.scalar(select(PassEvidence).where(PassEvidence.source == observation.source,
                                                         PassEvidence.dedup_key == key))
    if existing is not None:
        return existing, False
    details = dict(observation.details)
    details["observation"] = observation.model_dump(mode="json", exclude={"details"})
    details["reason"] = decision.reason
    evidence = PassEvidence(
        definition_id=definition_id, learner_id=learner_id, source=observation.source, dedup_key=key,
        passed=decision.passed,
        score=decision.score if decision.score is not None else observation.score,
        pass_mark=decision.pass_mark if decision.pass_mark is not None else observation.pass_mark,
        details=details, observed_at=observation.observed_at)
    # What the credential engine cites in the credential's evidence (assessmentSource,
    # assessmentScore out of 100: scores here are percent, and a narrative with the pass mark).
    from plugin.domain.policy import SOURCE_LABELS
    cited = {"source_label": SOURCE_LABELS.get(observation.source, observation.source),
             "narrative": ob3_evidence(evidence)["narrative"]}
    if evidence.score is not None:
        cited["score_max"] = 100
    evidence.details = {**details, **cited}
    try:
        with session.begin_nested():
            session.add(evidence)
            session.flush()
    except IntegrityError:  # the same delivery, recorded concurrently by another worker
        existing = session.scalar(select(PassEvidence).where(PassEvidence.source == observation.source,
                                                             PassEvidence.dedup_key == key))
        if existing is None:
            raise
        return existing, False
    return evidence, True


def evidence_observation(evidence: PassEvidence) -> Observation:
    """The observation an evidence row was recorded from."""
    data = dict((evidence.details or {}).get("observation") or {})
    data.setdefault("source", evidence.source)
    data.setdefault("score", evidence.score)
    data.setdefault("pass_mark", evidence.pass_mark)
    data["observed_at"] = as_utc(evidence.observed_at)
    details = {k: v for k, v in (evidence.details or {}).items() if k not in ("observation", "reason", "source_label", "narrative", "score_max")}
    return Observation.model_validate({**data, "details": details})


def latest_evidence(session: Session, definition_id: int, learner_id: int,
                    *, passed: bool | None = None) -> PassEvidence | None:
    q = select(PassEvidence).where(PassEvidence.definition_id == definition_id,
                                   PassEvidence.learner_id == learner_id)
    if passed is not None:
        q = q.where(PassEvidence.passed.is_(passed))
    return session.scalar(q.order_by(PassEvidence.observed_at.desc(), PassEvidence.id.desc()).limit(1))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def ob3_evidence(evidence: PassEvidence) -> dict[str, Any]:
    """The evidence as an Open Badges 3.0 ``Evidence`` object, for the credential's ``evidence[]``.

    Says which source reported what, when: score and pass mark in percent when known,
    the platform's own verdict, and (gated launch) what was trusted instead of a score.
    """
    from plugin.domain.policy import SOURCE_LABELS
    observed = as_utc(evidence.observed_at)
    lines = [f"Source: {SOURCE_LABELS.get(evidence.source, evidence.source)}."]
    if evidence.score is not None:
        lines.append(f"Score: {evidence.score:g} %" + (f" (pass mark {evidence.pass_mark:g} %)." if evidence.pass_mark is not None else "."))
    details = evidence.details or {}
    if details.get("letter_grade"):
        lines.append(f"Grade: {details['letter_grade']}.")
    if details.get("trusts"):
        lines.append(f"Trusted: {details['trusts']}.")
    if observed is not None:
        lines.append(f"Observed: {observed.strftime('%Y-%m-%dT%H:%M:%SZ')}.")
    return {"type": ["Evidence"], "name": "Assessment result", "genre": "Assessment result",
            "description": details.get("reason") or ("Passed." if evidence.passed else "Not passed."),
            "narrative": "\n".join(lines)}
