"""The issued list's rows: one per learner, their earlier credentials folded under it.

A learner's *head* credential is the newest one issued to them for the definition: the
current one (active or suspended) when there is one, otherwise the last revoked one. A
re-issue (corrected name, new version) supersedes the old credential and adds a newer
one, so the head is always the newest row; everything older is the learner's history.
The overview counts heads too, so "1 active" and the list's rows agree.
"""
from __future__ import annotations

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased, defer

from plugin.storage.models import DefinitionVersion, IssuedCredential, Learner, PassEvidence

STATUSES = ("active", "suspended", "revoked")
# What each bridge is called in a sentence ("…, Open edX").
PLATFORM_NAMES = {"openedx_webhook": "Open edX", "openedx_grades": "Open edX", "moodle": "Moodle",
                  "moodle_plugin": "Moodle"}


def head_ids(definition_id: int):
    """The newest credential id of each learner of the definition (a subquery)."""
    return (select(func.max(IssuedCredential.id)).where(IssuedCredential.definition_id == definition_id)
            .group_by(IssuedCredential.learner_id))


def credential_rows(definition_id: int, *, status: str = "", q: str = "", heads_only: bool = True,
                    statuses: tuple[str, ...] = STATUSES):
    """``(credential, learner, evidence, version number)``: each learner's head credential
    (``heads_only``, the list) or every credential (the CSV export), filtered."""
    query = (select(IssuedCredential, Learner, PassEvidence, DefinitionVersion.version)
             .join(Learner, Learner.id == IssuedCredential.learner_id)
             .join(DefinitionVersion, DefinitionVersion.id == IssuedCredential.definition_version_id)
             .outerjoin(PassEvidence, PassEvidence.id == IssuedCredential.evidence_id)
             .where(IssuedCredential.definition_id == definition_id)
             # the signed document and JWT are kilobytes each: never loaded by the list
             .options(defer(IssuedCredential.document), defer(IssuedCredential.jwt)))
    if heads_only:  # no newer credential of the same learner: walks the (definition, issued_at) index
        newer = aliased(IssuedCredential)
        query = query.where(~exists().where(newer.learner_id == IssuedCredential.learner_id,
                                            newer.definition_id == definition_id, newer.id > IssuedCredential.id))
    if status in statuses:
        query = query.where(IssuedCredential.status == status)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Learner.name).like(like), func.lower(Learner.email).like(like),
                                func.lower(Learner.sub).like(like),
                                func.lower(IssuedCredential.display_name).like(like)))
    return query


def head_counts(session, definition_id: int) -> dict[str, int]:
    """How many learners' head credential is in each status (what the list's filter finds)."""
    rows = session.execute(select(IssuedCredential.status, func.count()).where(
        IssuedCredential.id.in_(head_ids(definition_id))).group_by(IssuedCredential.status)).all()
    return {status: n for status, n in rows}


def histories(session, definition_id: int, heads: list[IssuedCredential]) -> dict[int, list[IssuedCredential]]:
    """Each head's learner's earlier credentials, newest first."""
    learner_ids = {h.learner_id for h in heads}
    if not learner_ids:
        return {}
    head_set = {h.id for h in heads}
    older = session.scalars(select(IssuedCredential).where(
        IssuedCredential.definition_id == definition_id, IssuedCredential.learner_id.in_(learner_ids))
        .options(defer(IssuedCredential.document), defer(IssuedCredential.jwt))
        .order_by(IssuedCredential.id.desc())).all()
    out: dict[int, list[IssuedCredential]] = {}
    for row in older:
        if row.id not in head_set:
            out.setdefault(row.learner_id, []).append(row)
    return out


def source_name(evidence: PassEvidence) -> str:
    details = evidence.details or {}
    if evidence.source in PLATFORM_NAMES:
        return PLATFORM_NAMES[evidence.source]
    if evidence.source == "ags":
        return _("the platform's gradebook")
    if evidence.source == "gated_launch":
        return _("the platform's completion rule")
    if evidence.source == "bulk_upload":
        return _("bulk upload")
    return str(details.get("source_label") or evidence.source)


def evidence_text(evidence: PassEvidence | None) -> str:
    """"Passed with 82/100 on 3 Dec 2026, Open edX", in the reader's language."""
    if evidence is None:
        return "—"
    score_max = (evidence.details or {}).get("score_max")
    when = format_date(evidence.observed_at, "medium") if evidence.observed_at else ""
    where = source_name(evidence)
    if evidence.score is not None and score_max:
        return _("Passed with %(score)s/%(max)s on %(date)s, %(source)s", score=format_decimal(evidence.score),
                 max=format_decimal(score_max), date=when, source=where)
    if evidence.score is not None:
        return _("Passed with %(score)s%% on %(date)s, %(source)s", score=format_decimal(evidence.score),
                 date=when, source=where)
    return _("Passed on %(date)s, %(source)s", date=when, source=where)


def status_label(status: str) -> str:
    return {"active": _("active"), "suspended": _("suspended"), "revoked": _("revoked"),
            "superseded": _("superseded")}.get(status, status)
