"""How a course's credential is doing: the platform's roster joined with what the tool knows (no Flask).

The roster comes from the platform (LTI Names and Role Provisioning Services, read by the
web layer with :class:`lti.nrps.NrpsClient`); each member is matched to the tool's learner
(platform issuer, ``sub``). For each learner: passed (a passing evidence, or a credential),
their newest credential and its state (issued, claimed), the public page views and the
verifications it received, and whether an issuance is pending or failed. Learners the tool
knows who are no longer in the roster (they left the course) are kept and flagged, so the
counts agree with the issued list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from plugin.storage.models import (CURRENT_STATUSES, OPEN_ISSUANCE_STATES, Course, CredentialDefinition,
                                   IssuedCredential, Learner, PassEvidence, PendingIssuance)

LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def roster_learners(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The active members with the Learner role (short role names accepted)."""
    out = []
    for m in members:
        roles = [str(r) for r in (m.get("roles") or [])]
        if str(m.get("status") or "Active").lower() != "active":
            continue
        if any(r == LEARNER_ROLE or r.rsplit("#", 1)[-1] == "Learner" for r in roles):
            out.append(m)
    return out


@dataclass
class LearnerRow:
    sub: str
    name: str = ""
    email: str = ""
    learner: Learner | None = None
    in_roster: bool = True
    passed: bool = False
    credential: IssuedCredential | None = None
    pending: str | None = None  # "pending" or "failed"

    @property
    def issued(self) -> bool:
        return self.credential is not None and self.credential.status in CURRENT_STATUSES

    @property
    def claimed(self) -> bool:
        return self.issued and self.credential.claimed_at is not None

    @property
    def waiting(self) -> bool:
        """Passed, and has not claimed a current credential (the reminder's audience)."""
        return self.passed and not self.claimed and not (self.credential is not None and not self.issued)

    @property
    def page_views(self) -> int:
        return (self.credential.page_views or 0) if self.credential is not None else 0

    @property
    def verifications(self) -> int:
        return (self.credential.verifications or 0) if self.credential is not None else 0


@dataclass
class CourseStats:
    rows: list[LearnerRow] = field(default_factory=list)
    roster_size: int | None = None  # None: the platform's roster could not be read

    def count(self, what: str) -> int:
        return sum(1 for r in self.rows if getattr(r, what))

    @property
    def counts(self) -> dict[str, int]:
        return {"enrolled": self.roster_size if self.roster_size is not None else len(self.rows),
                "passed": self.count("passed"), "issued": self.count("issued"), "claimed": self.count("claimed"),
                "shared": sum(r.page_views for r in self.rows),
                "shared_learners": sum(1 for r in self.rows if r.page_views),
                "verifications": sum(r.verifications for r in self.rows),
                "pending": sum(1 for r in self.rows if r.pending == "pending"),
                "failed": sum(1 for r in self.rows if r.pending == "failed"),
                "waiting": self.count("waiting")}

    @property
    def waiting(self) -> list[LearnerRow]:
        return [r for r in self.rows if r.waiting]


def course_stats(session: Session, definition: CredentialDefinition,
                 members: list[dict[str, Any]] | None) -> CourseStats:
    """The dashboard's rows: ``members`` is the roster (None when the platform's could not be read)."""
    course = session.get(Course, definition.course_id)
    iss = course.platform_issuer
    roster = roster_learners(members) if members is not None else []
    subs = [str(m["user_id"]) for m in roster]
    # the tool's learners in the roster, and everyone it recorded something about for this credential
    known_ids = set(session.scalars(select(PassEvidence.learner_id).where(PassEvidence.definition_id == definition.id)))
    known_ids |= set(session.scalars(select(IssuedCredential.learner_id)
                                     .where(IssuedCredential.definition_id == definition.id)))
    learners: dict[str, Learner] = {}
    for chunk in (subs[i:i + 500] for i in range(0, len(subs), 500)):
        for row in session.scalars(select(Learner).where(Learner.platform_issuer == iss, Learner.sub.in_(chunk))):
            learners[row.sub] = row
    for chunk in (sorted(known_ids)[i:i + 500] for i in range(0, len(known_ids), 500)):
        for row in session.scalars(select(Learner).where(Learner.id.in_(chunk))):
            learners.setdefault(row.sub if row.platform_issuer == iss else f"{row.platform_issuer}|{row.sub}", row)
    passed = set(session.scalars(select(PassEvidence.learner_id).where(
        PassEvidence.definition_id == definition.id, PassEvidence.passed.is_(True)).distinct()))
    newest = select(func.max(IssuedCredential.id)).where(IssuedCredential.definition_id == definition.id) \
        .group_by(IssuedCredential.learner_id)
    credentials = {c.learner_id: c for c in session.scalars(
        select(IssuedCredential).where(IssuedCredential.id.in_(newest))
        .options(defer(IssuedCredential.document), defer(IssuedCredential.jwt)))}
    pending = {p.learner_id: p.state for p in session.scalars(select(PendingIssuance).where(
        PendingIssuance.definition_id == definition.id, PendingIssuance.state.in_(OPEN_ISSUANCE_STATES)))}

    def row_for(sub: str, member: dict | None, learner: Learner | None) -> LearnerRow:
        member = member or {}
        name = (member.get("name") or " ".join(x for x in (member.get("given_name"), member.get("family_name")) if x)
                or (learner.name if learner else "") or "")
        row = LearnerRow(sub=sub, name=name, email=member.get("email") or (learner.email if learner else "") or "",
                         learner=learner, in_roster=bool(member) or members is None)  # no roster: unknown
        if learner is not None:
            row.credential = credentials.get(learner.id)
            row.passed = learner.id in passed or row.credential is not None
            row.pending = pending.get(learner.id)
        return row

    rows = [row_for(str(m["user_id"]), m, learners.get(str(m["user_id"]))) for m in roster]
    in_roster = set(subs)
    for key, learner in learners.items():
        if key not in in_roster and learner.id in known_ids:
            rows.append(row_for(learner.sub, None, learner))
    rows.sort(key=lambda r: ((r.name or r.email or r.sub).lower()))
    return CourseStats(rows=rows, roster_size=len(roster) if members is not None else None)
