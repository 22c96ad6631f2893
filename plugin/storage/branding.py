"""Each awarding body's badge design and certificate signatory (:class:`IssuerBranding`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.domain.branding import Branding
from plugin.storage.models import IssuerBranding


@dataclass
class IssuerLook:
    """What pages, pictures and the PDF need: the validated branding and the signature PNG."""
    branding: Branding
    signature: bytes | None = None


def load_branding(session: Session, issuer_id: int | None) -> IssuerLook:
    """The awarding body's branding; the default design when it has none (or it no longer
    validates, e.g. after a rule changed: the picture must still be drawn)."""
    row = session.scalars(select(IssuerBranding).where(IssuerBranding.issuer_id == issuer_id)).first() \
        if issuer_id else None
    if row is None:
        return IssuerLook(Branding())
    try:
        branding = Branding.from_json(row.settings)
    except ValueError:
        branding = Branding()
    return IssuerLook(branding, row.signature)


def save_branding(session: Session, issuer_id: int, branding: Branding, *, actor: str,
                  signature: bytes | None = None, remove_signature: bool = False) -> IssuerBranding:
    row = session.scalars(select(IssuerBranding).where(IssuerBranding.issuer_id == issuer_id)).first()
    if row is None:
        row = IssuerBranding(issuer_id=issuer_id)
        session.add(row)
    row.settings = branding.to_json()
    row.updated_by = actor
    if signature is not None:
        row.signature = signature
    elif remove_signature:
        row.signature = None
    session.flush()
    return row
