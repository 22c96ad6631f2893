"""Pathways in the database: define them, follow a learner's progress, award the pathway
credential automatically, and flag it for review when a part is revoked (no Flask).

**Automatic and exactly once.** :func:`after_issue` runs inside the engine's
:func:`plugin.issuance.service.award` whenever it creates a credential: every enabled pathway
naming that credential's definition is evaluated for the person (all the identities they
linked, :class:`plugin.storage.models.LearnerLink`), and a met pathway's credential is awarded
through the same engine, in the same transaction, to the person's primary identity. The
engine's partial unique index (one current credential per definition and learner) makes a
second pathway credential impossible whatever the concurrency; ``pathway_award.credential_id``
is unique too. Two *different* last parts committed at the same instant cannot see each
other inside their transactions, so when a pathway is not met inline a ``pathway_check`` job
evaluates it again after the commit.

**Revoking a part never silently changes the pathway credential**: :func:`after_revoke`
marks it ``review = needed`` (the admin keeps or revokes it, :func:`decide_review`), and
the audit log says which part was revoked.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import N_
from plugin.domain.pathways import EarnedPart, PathwayError, PathwayRules, Progress, check_acyclic, parse_rules, progress
from plugin.logging import log_event
from plugin.storage.models import (Course, CredentialDefinition, DefinitionVersion, IssuedCredential, Issuer,
                                   Learner, LearnerLink, Pathway, PathwayAward, PathwayPart, PathwayVersion, new_uuid)

log = logging.getLogger("microcred.pathways")

# The course row of a pathway's own credential: no LTI platform behind it.
PATHWAY_PLATFORM = "urn:microcred:pathway"
REVIEW_STATES = ("none", "needed", "kept", "revoked")


def document_digest(document: dict[str, Any]) -> str:
    """``sha256-<base64>`` (Subresource Integrity form) of a signed credential's JSON with its
    keys sorted and no spaces: what a pathway credential cites for each part."""
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return "sha256-" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii")


# --------------------------------------------------------------------------- defining pathways
def _audit(session, actor, action, pathway: Pathway, **details):
    from plugin.issuance.service import audit
    audit(session, actor, action, "pathway", pathway.public_id, **details)


def _definitions_by_public_id(session: Session, public_ids: list[str]) -> dict[str, CredentialDefinition]:
    rows = session.scalars(select(CredentialDefinition).where(CredentialDefinition.public_id.in_(public_ids))).all()
    return {r.public_id: r for r in rows}


def _check_parts(session: Session, issuer: Issuer, rules: PathwayRules, target_public_id: str | None) -> list[int]:
    """The definition ids of the parts, refused when one is unknown or from an awarding body
    the pathway does not accept, or when the pathway would require itself."""
    names = rules.parts()
    found = _definitions_by_public_id(session, names)
    unknown = [n for n in names if n not in found]
    if unknown:
        raise PathwayError(N_("no credential with the id %(ids)s", ids=", ".join(unknown)))
    accepted = {issuer.id}
    if rules.accepted_issuers:
        accepted |= set(session.scalars(select(Issuer.id).where(Issuer.slug.in_(rules.accepted_issuers))).all())
        known = set(session.scalars(select(Issuer.slug).where(Issuer.slug.in_(rules.accepted_issuers))).all())
        missing = [s for s in rules.accepted_issuers if s not in known]
        if missing:
            raise PathwayError(N_("no awarding body with the slug %(slugs)s", slugs=", ".join(missing)))
    foreign = [found[n] for n in names if found[n].issuer_id not in accepted]
    if foreign:
        titles = [_title(session, d) for d in foreign]
        raise PathwayError(N_("%(titles)s: awarded by a body this pathway does not accept (add it to the accepted "
                              "awarding bodies first)", titles=", ".join(titles)))
    if target_public_id:
        graph: dict[str, list[str]] = {}
        for pw in session.scalars(select(Pathway)).all():
            v = current_rules(session, pw)
            if v is not None:
                graph[pw.target.public_id] = v.parts()
        graph[target_public_id] = names
        check_acyclic(target_public_id, graph)
    return [found[n].id for n in names]


def _title(session: Session, definition: CredentialDefinition) -> str:
    from plugin.issuance.service import current_version
    v = current_version(session, definition)
    return (v.data or {}).get("title") if v else definition.public_id


def create_pathway(session: Session, services, issuer: Issuer, rules: PathwayRules | dict, target: DefinitionData, *,
                   actor: str) -> Pathway:
    """A new pathway (disabled) with its own credential definition and its first version."""
    from plugin.issuance.service import save_definition
    rules = rules if isinstance(rules, PathwayRules) else parse_rules(rules)
    part_ids = _check_parts(session, issuer, rules, None)
    public_id = new_uuid()
    course = Course(platform_issuer=PATHWAY_PLATFORM, context_id=public_id, title=rules.name)
    session.add(course)
    session.flush()
    version = save_definition(session, course, target, actor, issuer)
    pathway = Pathway(public_id=public_id, issuer_id=issuer.id, target_definition_id=version.definition_id,
                      created_by=actor)
    session.add(pathway)
    session.flush()
    _check_parts(session, issuer, rules, version.definition.public_id)
    _new_version(session, pathway, rules, part_ids, actor)
    _audit(session, actor, "pathway.create", pathway, name=rules.name, target=version.definition.public_id)
    return pathway


def update_pathway(session: Session, pathway: Pathway, rules: PathwayRules | dict, *, actor: str,
                   target: DefinitionData | None = None, services=None) -> PathwayVersion | None:
    """Save new rules (a new version when they changed) and, optionally, a new version of the
    pathway credential's definition. Credentials already awarded keep their version.

    With ``services``, a new version of an **enabled** pathway queues the ``pathway_backlog``
    job (in this transaction), as enabling does: learners who meet the new rules (e.g. "at
    least 2 of 3" instead of "all of 3") with the credentials they already hold are awarded
    without waiting for another part. Nothing is queued when the rules did not change."""
    from plugin.issuance.service import save_definition
    rules = rules if isinstance(rules, PathwayRules) else parse_rules(rules)
    part_ids = _check_parts(session, pathway.issuer, rules, pathway.target.public_id)
    if target is not None:
        save_definition(session, pathway.target.course, target, actor, pathway.issuer, definition=pathway.target)
    pathway.target.course.title = rules.name
    current = current_rules(session, pathway)
    if current is not None and current.to_json() == rules.to_json():
        return None
    version = _new_version(session, pathway, rules, part_ids, actor)
    if pathway.enabled and services is not None:
        queue_backlog(session, services, pathway)
    return version


def _new_version(session: Session, pathway: Pathway, rules: PathwayRules, part_ids: list[int],
                 actor: str) -> PathwayVersion:
    version = PathwayVersion(pathway_id=pathway.id, version=pathway.current_version + 1, data=rules.to_json(),
                             created_by=actor)
    session.add(version)
    pathway.current_version = version.version
    for row in session.scalars(select(PathwayPart).where(PathwayPart.pathway_id == pathway.id)).all():
        session.delete(row)
    session.flush()
    for did in dict.fromkeys(part_ids):
        session.add(PathwayPart(pathway_id=pathway.id, definition_id=did))
    session.flush()
    _audit(session, actor, "pathway.version", pathway, version=version.version)
    return version


def set_pathway_enabled(session: Session, pathway: Pathway, enabled: bool, *, actor: str,
                        services=None) -> int | None:
    """Enable (the pathway credential's definition must be complete, like any credential) or disable.

    With ``services``, enabling also queues the ``pathway_backlog`` job (in this transaction):
    the learners who already meet the pathway are awarded its credential in batches
    (:func:`run_backlog_job`). Returns that job's id, if one was queued."""
    from plugin.issuance.service import set_enabled
    set_enabled(session, pathway.target, enabled, actor=actor)
    if pathway.enabled == enabled:
        return None
    pathway.enabled = enabled
    _audit(session, actor, "pathway.enable" if enabled else "pathway.disable", pathway)
    if enabled and services is not None:
        return queue_backlog(session, services, pathway)
    return None


def queue_backlog(session: Session, services, pathway: Pathway) -> int:
    """Queue the ``pathway_backlog`` job for ``pathway`` in this transaction (it runs only if
    this transaction commits, so it reads the rules saved with it). Always a new job: one
    already waiting might be claimed before this transaction commits and read the old rules;
    two jobs award nobody twice (:func:`run_backlog_job`)."""
    from plugin.jobs.queue import enqueue
    session.flush()
    return enqueue(services, "pathway_backlog", {"pathway_id": pathway.id}, session=session, max_attempts=5)


def current_rules(session: Session, pathway: Pathway) -> PathwayRules | None:
    if not pathway.current_version:
        return None
    row = session.scalars(select(PathwayVersion).where(PathwayVersion.pathway_id == pathway.id,
                                                       PathwayVersion.version == pathway.current_version)).first()
    return PathwayRules.from_json(row.data) if row else None


def pathway_by_public_id(session: Session, public_id: str) -> Pathway | None:
    return session.scalars(select(Pathway).where(Pathway.public_id == public_id)).first()


def pathways_including(session: Session, definition_id: int, *, enabled_only: bool = True) -> list[Pathway]:
    q = select(Pathway).join(PathwayPart, PathwayPart.pathway_id == Pathway.id).where(
        PathwayPart.definition_id == definition_id)
    if enabled_only:
        q = q.where(Pathway.enabled.is_(True))
    return list(session.scalars(q.order_by(Pathway.id)).all())


def is_pathway_definition(session: Session, definition_id: int) -> Pathway | None:
    return session.scalars(select(Pathway).where(Pathway.target_definition_id == definition_id)).first()


# --------------------------------------------------------------------------- one person, several identities
def primary_of(session: Session, learner_id: int) -> int:
    link = session.scalars(select(LearnerLink).where(LearnerLink.learner_id == learner_id)).first()
    return link.primary_id if link else learner_id


def identities(session: Session, learner_id: int) -> list[int]:
    """Every learner id of the person ``learner_id`` is (the primary first)."""
    primary = primary_of(session, learner_id)
    linked = session.scalars(select(LearnerLink.learner_id).where(LearnerLink.primary_id == primary)
                             .order_by(LearnerLink.learner_id)).all()
    return [primary] + [i for i in linked if i != primary]


LINK_METHODS = ("launch", "email")


def link_identities(session: Session, services, keep: Learner, other: Learner, *, method: str,
                    actor: str) -> list[IssuedCredential]:
    """The learner says ``other`` is also them (their action only: a launch from another platform
    while their credential page was open, or a code sent to their verified e-mail). Every
    identity of ``other``'s person joins ``keep``'s person; the pathways they now meet are
    awarded at once (to the primary identity). Returns the pathway credentials awarded."""
    from plugin.issuance.service import IssuanceError, audit, current_credential
    if method not in LINK_METHODS:
        raise IssuanceError(f"unknown link method {method!r}")
    primary = primary_of(session, keep.id)
    moved = identities(session, other.id)
    if primary in moved:
        return []  # already the same person
    for learner_id in moved:
        row = session.scalars(select(LearnerLink).where(LearnerLink.learner_id == learner_id)).first()
        if row is None:
            session.add(LearnerLink(learner_id=learner_id, primary_id=primary, method=method))
        else:
            row.primary_id, row.method = primary, method
    session.flush()
    audit(session, actor, "learner.link", "learner", keep.public_id, linked=[other.public_id], method=method)
    awarded = []
    held = set(session.scalars(select(IssuedCredential.definition_id).where(
        IssuedCredential.learner_id.in_(identities(session, primary)), IssuedCredential.status == "active")).all())
    seen: set[int] = set()
    for definition_id in sorted(held):
        for pathway in pathways_including(session, definition_id):
            if pathway.id in seen:
                continue
            seen.add(pathway.id)
            had = current_credential(session, pathway.target_definition_id, primary)
            row = evaluate_and_award(session, services, pathway, primary)
            if row is not None and had is None:
                awarded.append(row)
    return awarded


# --------------------------------------------------------------------------- progress
def earned_parts(session: Session, learner_ids: list[int], definition_ids: list[int] | None = None
                 ) -> list[tuple[EarnedPart, IssuedCredential]]:
    """The active credentials of these identities (of these definitions), as pathway parts."""
    q = select(IssuedCredential, CredentialDefinition.public_id, DefinitionVersion.data).join(
        CredentialDefinition, CredentialDefinition.id == IssuedCredential.definition_id).join(
        DefinitionVersion, DefinitionVersion.id == IssuedCredential.definition_version_id).where(
        IssuedCredential.learner_id.in_(learner_ids), IssuedCredential.status == "active")
    if definition_ids is not None:
        q = q.where(IssuedCredential.definition_id.in_(definition_ids))
    out = []
    for row, public_id, data in session.execute(q.order_by(IssuedCredential.issued_at, IssuedCredential.id)).all():
        out.append((EarnedPart(public_id, row.issued_at, (data or {}).get("ects_credits"), row.public_id), row))
    return out


def learner_progress(session: Session, pathway: Pathway, learner_id: int) -> tuple[Progress, PathwayRules] | None:
    rules = current_rules(session, pathway)
    if rules is None:
        return None
    parts = earned_parts(session, identities(session, learner_id), _part_definition_ids(session, pathway))
    return progress(rules, [p for p, _row in parts]), rules


def _part_definition_ids(session: Session, pathway: Pathway) -> list[int]:
    return list(session.scalars(select(PathwayPart.definition_id).where(PathwayPart.pathway_id == pathway.id)).all())


# --------------------------------------------------------------------------- automatic award
def after_issue(session: Session, services, credential: IssuedCredential) -> list[IssuedCredential]:
    """Called by the engine after it created ``credential``: award every pathway it completes."""
    awarded, unmet = [], []
    for pathway in pathways_including(session, credential.definition_id):
        try:
            row = evaluate_and_award(session, services, pathway, credential.learner_id)
        except Exception as exc:  # the part stays issued; the job retries the pathway and says why
            log_event(log, logging.WARNING, "pathway.award_failed", pathway=pathway.public_id,
                      learner=credential.learner_id, error=str(exc))
            row = None
        if row is None:
            unmet.append(pathway.id)
        else:
            awarded.append(row)
    if unmet:
        from plugin.jobs.queue import enqueue
        enqueue(services, "pathway_check", {"learner_id": credential.learner_id, "pathways": unmet},
                session=session)
    return awarded


def _cited(parts: list[tuple[EarnedPart, IssuedCredential]], result) -> list[dict[str, Any]]:
    """The parts a pathway credential is awarded for, as it cites them (and ``pathway_award.parts``)."""
    counted = {p.credential for p in result.counted}
    return [{"credential": r.public_id, "id": r.credential_id, "definition": p.definition,
             "name": r.document.get("name") or "", "digest": document_digest(r.document),
             "achievement": ((r.document.get("credentialSubject") or {}).get("achievement") or {}).get("id"),
             "issued": r.issued_at.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")}
            for p, r in parts if p.credential in counted]


def evaluate_and_award(session: Session, services, pathway: Pathway, learner_id: int) -> IssuedCredential | None:
    """Award the pathway credential when the person meets the pathway; the current one when
    they already hold it; ``None`` when the pathway is not met."""
    from plugin.issuance.service import award, current_credential
    people = identities(session, learner_id)
    primary = people[0]
    existing = current_credential(session, pathway.target_definition_id, primary)
    if existing is not None:
        return existing
    rules = current_rules(session, pathway)
    if rules is None or not pathway.enabled:
        return None
    parts = earned_parts(session, people, _part_definition_ids(session, pathway))
    result = progress(rules, [p for p, _row in parts])
    if not result.satisfied:
        return None
    cited = _cited(parts, result)
    row, created = award(session, services, definition_id=pathway.target_definition_id, learner_id=primary,
                         actor=f"pathway:{pathway.public_id}", parts=cited)
    if created:
        session.add(PathwayAward(pathway_id=pathway.id, version=pathway.current_version, learner_id=primary,
                                 credential_id=row.id, parts=cited))
        session.flush()
        _audit(session, "system", "pathway.award", pathway, credential=row.public_id,
               parts=[c["credential"] for c in cited])
    return row


def run_check_job(services, payload: dict, ctx) -> dict:
    """The ``pathway_check`` job: evaluate again after the issuing transaction committed."""
    awarded = []
    with services.session() as session:
        ctx.hold(session)
        for pid in payload.get("pathways") or []:
            pathway = session.get(Pathway, pid)
            if pathway is None:
                continue
            row = evaluate_and_award(session, services, pathway, int(payload["learner_id"]))
            if row is not None:
                awarded.append(row.public_id)
    return {"awarded": awarded}


# --------------------------------------------------------------------------- backlog
def backlog(session: Session, pathway: Pathway) -> list[dict[str, Any]]:
    """The people who meet ``pathway`` with the credentials they already hold and have no
    pathway credential yet: one entry per person (the primary identity), with the parts to cite."""
    from plugin.issuance.service import current_credential
    rules = current_rules(session, pathway)
    if rules is None or not pathway.enabled:
        return []
    part_ids = _part_definition_ids(session, pathway)
    holders = session.scalars(select(IssuedCredential.learner_id).where(
        IssuedCredential.definition_id.in_(part_ids), IssuedCredential.status == "active").distinct()).all()
    primaries = sorted({primary_of(session, lid) for lid in holders})
    entries = []
    for primary in primaries:
        if current_credential(session, pathway.target_definition_id, primary) is not None:
            continue
        parts = earned_parts(session, identities(session, primary), part_ids)
        result = progress(rules, [p for p, _row in parts])
        if result.satisfied:
            entries.append({"tag": primary, "learner_id": primary, "parts": _cited(parts, result)})
    return entries


def run_backlog_job(services, payload: dict, ctx) -> dict:
    """The ``pathway_backlog`` job (queued when a pathway is enabled, or gets new rules while
    enabled): award the pathway
    credential to everyone who already meets it, through the batched pipeline
    (:func:`plugin.issuance.batch.issue_known`: signed outside any transaction, one short
    write per batch). Exactly once per person (the engine's partial unique index); a job
    interrupted and run again finds those already awarded holding the credential and awards
    the rest. Learners of a batch whose signing failed go one by one through
    :func:`evaluate_and_award`."""
    from plugin.issuance.batch import issue_known
    pathway_id = int(payload["pathway_id"])
    with services.session() as s:
        ctx.hold(s)
        pathway = s.get(Pathway, pathway_id)
        if pathway is None or not pathway.enabled:
            return {"awarded": 0, "total": 0, "skipped": "the pathway is not enabled"}
        entries = backlog(s, pathway)
        target, version, public_id = pathway.target_definition_id, pathway.current_version, pathway.public_id
    ctx.progress(0, len(entries))

    def on_write(session: Session, issued) -> None:
        ctx.hold(session)
        row = session.get(Pathway, pathway_id)
        for item in issued:
            session.add(PathwayAward(pathway_id=pathway_id, version=version, learner_id=item.learner_id,
                                     credential_id=item.row_id, parts=item.parts))
            _audit(session, "system", "pathway.award", row, credential=item.public_id,
                   parts=[c["credential"] for c in item.parts or []])
        session.flush()
    # notify=False: as evaluate_and_award, which calls award() directly (no e-mail of its own)
    outcomes = issue_known(services, target, entries, actor=f"pathway:{public_id}", on_write=on_write,
                           progress=lambda done, total: ctx.progress(done, total), notify=False)
    counts = {"awarded": 0, "already": 0, "failed": 0}
    for entry in entries:
        got = outcomes[entry["tag"]]
        if got.result == "issued":
            counts["awarded"] += 1
        elif got.result == "already_issued":
            counts["already"] += 1
        else:
            try:
                with services.session() as s:
                    ctx.hold(s)
                    row = evaluate_and_award(s, services, s.get(Pathway, pathway_id), entry["learner_id"])
                counts["awarded" if row is not None else "failed"] += 1
            except Exception:  # noqa: BLE001 - one person's problem does not stop the others
                log.exception("pathway backlog: learner %s failed", entry["learner_id"])
                counts["failed"] += 1
    log_event(log, "pathway.backlog", pathway=public_id, total=len(entries), **counts)
    return {"total": len(entries), **counts}


def award_for(session: Session, credential: IssuedCredential) -> PathwayAward | None:
    return session.scalars(select(PathwayAward).where(PathwayAward.credential_id == credential.id)).first()


def parts_of(session: Session, credential: IssuedCredential) -> list[dict[str, Any]]:
    """The parts a pathway credential cites (empty for any other credential)."""
    row = award_for(session, credential)
    return list(row.parts) if row else []


def pathway_url(services, pathway: Pathway) -> str:
    """The public page of a pathway (what a part's EDC names in ``isPartOf``)."""
    return f"{services.settings.base_url.rstrip('/')}/pathways/{pathway.public_id}"


def pathway_refs(session: Session, services, definition_id: int) -> list[dict[str, Any]]:
    """``id`` (the pathway's page) and ``name`` of the enabled pathways a definition counts towards."""
    out = []
    for pw in pathways_including(session, definition_id):
        rules = current_rules(session, pw)
        out.append({"id": pathway_url(services, pw), "name": rules.name if rules else pw.public_id})
    return out


# --------------------------------------------------------------------------- revoked parts
def after_revoke(session: Session, credential: IssuedCredential, *, actor: str, reason: str) -> list[PathwayAward]:
    """Flag every current pathway credential that cites ``credential`` for an admin's review."""
    flagged = []
    people = identities(session, credential.learner_id)
    awards = session.scalars(select(PathwayAward).where(PathwayAward.learner_id.in_(people))).all()
    for row in awards:
        if row.review == "needed" or row.credential.status not in ("active", "suspended"):
            continue
        if credential.public_id not in {p.get("credential") for p in row.parts or []}:
            continue
        row.review = "needed"
        row.review_reason, row.review_part = reason, credential.public_id
        row.reviewed_by = row.reviewed_at = None
        _audit(session, actor, "pathway.review_needed", row.pathway, credential=row.credential.public_id,
               part=credential.public_id, reason=reason)
        flagged.append(row)
    return flagged


def decide_review(session: Session, row: PathwayAward, decision: str, *, actor: str, reason: str = "") -> None:
    """The admin's decision on a flagged pathway credential: ``keep`` or ``revoke``."""
    from plugin.issuance.service import IssuanceError, revoke
    if row.review != "needed":
        raise IssuanceError(N_("this pathway credential is not waiting for a review"))
    if decision == "revoke":
        revoke(session, row.credential, reason.strip() or f"a part was revoked: {row.review_reason}", actor)
        row.review = "revoked"
    elif decision == "keep":
        row.review = "kept"
    else:
        raise IssuanceError(N_("choose keep or revoke"))
    row.reviewed_by, row.reviewed_at = actor, datetime.now(timezone.utc)
    _audit(session, actor, f"pathway.review_{row.review}", row.pathway, credential=row.credential.public_id,
           reason=reason.strip() or None)


def revoked_part_name(row: PathwayAward) -> str:
    """The name of the part whose revocation flagged ``row``."""
    return next((p.get("name") or p.get("credential") for p in row.parts or []
                 if p.get("credential") == row.review_part), row.review_part or "")


def awards_needing_review(session: Session, issuer_ids: list[int] | None = None) -> list[PathwayAward]:
    q = select(PathwayAward).where(PathwayAward.review == "needed")
    if issuer_ids is not None:
        q = q.join(Pathway, Pathway.id == PathwayAward.pathway_id).where(Pathway.issuer_id.in_(issuer_ids))
    return list(session.scalars(q.order_by(PathwayAward.id)).all())


def learner_of(session: Session, learner_id: int) -> Learner | None:
    return session.get(Learner, learner_id)
