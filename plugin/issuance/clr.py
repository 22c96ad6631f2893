"""A learner's record as one signed CLR 2.0 ``ClrCredential`` (no Flask).

Every active credential of the person (all the identities they linked) goes in as signed;
pathway credentials are related to their parts (:func:`plugin.composition.clr.associations`).
The record is signed by the awarding body that issued most of the credentials in it (the
latest one on a tie), or by the one the caller names.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.composition.clr import achievement_of, compose_clr
from plugin.composition.credential import LearnerIdentity
from plugin.issuance import keys as issuer_keys
from plugin.issuance import pathways
from plugin.storage.models import IssuedCredential, Issuer, Learner, PathwayAward


class RecordError(ValueError):
    """No record can be made (the message says why)."""


def learner_by_any_id(session: Session, ident: str) -> Learner | None:
    """A learner by public id, row number, or ``<platform issuer>|<sub>``."""
    ident = (ident or "").strip()
    row = session.scalars(select(Learner).where(Learner.public_id == ident)).first()
    if row is None and ident.isdigit():
        row = session.get(Learner, int(ident))
    if row is None and "|" in ident:
        iss, sub = ident.rsplit("|", 1)
        row = session.scalars(select(Learner).where(Learner.platform_issuer == iss, Learner.sub == sub)).first()
    return row


def learner_record(session: Session, services, learner: Learner, *, issuer_slug: str | None = None,
                   now: datetime | None = None) -> dict[str, Any]:
    """The signed ``ClrCredential`` of every active credential of ``learner`` (and linked identities)."""
    people = pathways.identities(session, learner.id)
    rows = session.scalars(select(IssuedCredential).where(
        IssuedCredential.learner_id.in_(people), IssuedCredential.status == "active")
        .order_by(IssuedCredential.issued_at, IssuedCredential.id)).all()
    if not rows:
        raise RecordError("this learner holds no active credential yet")
    if issuer_slug:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == issuer_slug)).first()
        if issuer is None:
            raise RecordError(f"no awarding body {issuer_slug!r}")
    else:
        counts = Counter(r.issuer_id for r in rows)
        latest = {r.issuer_id: i for i, r in enumerate(rows)}
        issuer = session.get(Issuer, max(counts, key=lambda i: (counts[i], latest[i])))
    primary = session.get(Learner, people[0])
    named = next((r.display_name for r in reversed(rows) if r.display_name), None)
    identity = LearnerIdentity(key=primary.public_id, email=primary.email, lti_issuer=primary.platform_issuer,
                               lti_sub=primary.sub, name=named)
    links = []
    awards = session.scalars(select(PathwayAward).where(PathwayAward.credential_id.in_([r.id for r in rows]))).all()
    for award in awards:
        target = achievement_of(award.credential.document)
        parts = [p["achievement"] for p in award.parts or [] if p.get("achievement")]
        if target is not None and parts:
            links.append((target["id"], parts))
    issued = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    publisher = {"id": issuer_keys.issuer_identifier(services, issuer), "type": ["Profile"], "name": issuer.name}
    unsigned = compose_clr(publisher, identity, [r.document for r in rows], record_id=f"urn:uuid:{uuid.uuid4()}",
                           issued=issued, name=f"Learner record of {named}" if named else "Learner record",
                           pathways=links, base_url=services.settings.base_url)
    signed = issuer_keys.sign_data_integrity(session, services, issuer, unsigned)
    from plugin.issuance.service import audit
    audit(session, "system", "learner.record", "learner", primary.public_id, credentials=len(rows),
          issuer=issuer.slug)
    return signed
