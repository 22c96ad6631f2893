"""``microcred status migrate``: re-issue credentials that carry the legacy 2-bit status entry.

Credentials issued before revocation lists (migration 0002) carry ``statusPurpose:
"message"``, ``statusSize: 2``. Our verifier reads them correctly and their lists stay
served, but wallets and third-party verifiers read one bit at ``statusListIndex`` and get
the state of a neighbour (see ``docs/engine.md``). Migrating a credential:

1. marks the old one ``superseded`` (its legacy list says so; our verifier shows
   "replaced by a newer version"; it leaves the "one current credential" index);
2. issues a new one with **the same content**: the signed document is copied (every claim,
   the subject and its identifiers, ``validFrom``/``validUntil``, evidence), and only
   ``id``, ``credentialStatus`` (a one-bit ``revocation`` entry) and the proofs are new,
   signed with the issuer's current keys; the row keeps the definition version, learner,
   evidence, displayed name, consent and claim dates, so the learner finds it where the
   old one was, already claimed;
3. carries a suspension over (the new credential is suspended with the same reason).

Revoked and already superseded credentials are left alone: nothing current to replace.
Each batch is one transaction, so an interruption leaves every credential either
migrated or untouched, and running the command again finishes the job.
"""
from __future__ import annotations

import copy
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.issuance import keys as issuer_keys
from plugin.issuance.service import IssuanceError, audit, credential_url
from plugin.status import service as status
from plugin.status.states import LEGACY_MESSAGE
from plugin.storage.models import CURRENT_STATUSES, IssuedCredential, Issuer, StatusList, StatusListSlot

BATCH = 100
REASON = "re-issued with a revocation status entry (microcred status migrate)"


@dataclass
class MigrationReport:
    """Per issuer slug: how many credentials were (or, in a dry run, would be) re-issued."""
    dry_run: bool
    by_issuer: dict[str, Counter] = field(default_factory=dict)
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (old public id, new public id)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.by_issuer.values())


def _legacy_query(issuer_id: int | None):
    query = (select(IssuedCredential.id)
             .join(StatusListSlot, StatusListSlot.credential_id == IssuedCredential.id)
             .join(StatusList, StatusList.id == StatusListSlot.status_list_id)
             .where(StatusList.purpose == LEGACY_MESSAGE, IssuedCredential.status.in_(CURRENT_STATUSES))
             .order_by(IssuedCredential.id))
    return query.where(IssuedCredential.issuer_id == issuer_id) if issuer_id is not None else query


def legacy_credential_ids(session: Session, issuer_id: int | None = None) -> list[int]:
    """Current credentials whose status entry is the legacy 2-bit one."""
    return list(session.scalars(_legacy_query(issuer_id)))


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def migrate(services, *, issuer_slug: str | None = None, dry_run: bool = False,
            actor: str = "cli:status-migrate") -> MigrationReport:
    """Re-issue every current legacy-entry credential (of one issuer, or all); see the module doc."""
    report = MigrationReport(dry_run=dry_run)
    with services.session() as s:
        issuer_id = None
        if issuer_slug is not None:
            issuer = s.scalars(select(Issuer).where(Issuer.slug == issuer_slug)).first()
            if issuer is None:
                raise IssuanceError(f"no issuer {issuer_slug!r} (see `microcred issuer list`)")
            issuer_id = issuer.id
        ids = legacy_credential_ids(s, issuer_id)
        if dry_run:
            for row in s.scalars(select(IssuedCredential).where(IssuedCredential.id.in_(ids))):
                report.by_issuer.setdefault(row.issuer.slug, Counter())[row.status] += 1
            return report
    for batch in _batches(ids):
        with services.session() as s:
            rows = s.scalars(select(IssuedCredential).where(IssuedCredential.id.in_(batch))
                             .order_by(IssuedCredential.id).with_for_update()).all()
            rows = [r for r in rows if r.status in CURRENT_STATUSES]  # changed since the plan was made
            by_issuer: dict[int, list[IssuedCredential]] = {}
            for row in rows:
                by_issuer.setdefault(row.issuer_id, []).append(row)
            for iid, olds in by_issuer.items():
                reservations = status.allocate_many(s, iid, len(olds))
                for old, reservation in zip(olds, reservations):
                    was = old.status
                    new = reissue_same_content(s, services, old, reservation, actor=actor)
                    report.by_issuer.setdefault(old.issuer.slug, Counter())[was] += 1
                    report.replaced.append((old.public_id, new.public_id))
    if report.total:
        with services.session() as s:
            audit(s, actor, "status.migrate", "issuer", issuer_slug or "*", credentials=report.total)
    return report


def reissue_same_content(session: Session, services, old: IssuedCredential, reservation: status.Reservation,
                         *, actor: str) -> IssuedCredential:
    """Supersede ``old`` and issue its copy with the status entry of ``reservation``."""
    was, reason = old.status, old.status_reason
    status.set_status(session, old, "superseded", REASON)
    audit(session, actor, "credential.supersede", "credential", old.public_id, previous=was, reason=REASON)
    issuer = old.issuer
    ed_row = issuer_keys.active_key(session, issuer, "Ed25519")
    rsa_row = issuer_keys.active_key(session, issuer, "RS256")
    public_id = str(uuid.uuid4())
    new = IssuedCredential(public_id=public_id, credential_id=credential_url(services, public_id),
                           definition_id=old.definition_id, definition_version_id=old.definition_version_id,
                           learner_id=old.learner_id, issuer_id=old.issuer_id, issuer_key_id=ed_row.id,
                           evidence_id=old.evidence_id, status="active", display_name=old.display_name,
                           consent_at=old.consent_at, claimed_at=old.claimed_at, issued_at=old.issued_at,
                           valid_until=old.valid_until, replaces_id=old.id, document={}, jwt="")
    session.add(new)
    session.flush()
    status.bind(session, new, reservation)
    unsigned = copy.deepcopy(old.document)
    unsigned.pop("proof", None)
    unsigned["id"] = new.credential_id
    unsigned["credentialStatus"] = status.entry(services.settings.base_url, reservation)
    new.document = issuer_keys.sign_data_integrity(session, services, issuer, unsigned, row=ed_row)
    new.jwt = issuer_keys.sign_jwt(session, services, issuer, unsigned, row=rsa_row)
    session.flush()
    audit(session, actor, "credential.issue", "credential", new.public_id, replaces=old.public_id,
          reason="status migration")
    if was == "suspended":
        status.set_status(session, new, "suspended", reason)
        audit(session, actor, "credential.suspend", "credential", new.public_id, previous="active",
              reason=reason)
    return new
