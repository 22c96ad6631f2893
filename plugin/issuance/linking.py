"""Linking a learner's identities by a one-time code sent to a verified e-mail address (no Flask).

The learner, in a session of one identity, names the e-mail address of their other account
(as their platform gave it to the tool, so verified by that platform). If another identity
uses that address, a 6-digit code goes to it; typing the code within 15 minutes (5 tries)
links every identity with that address to the learner. The answer does not say whether an
account uses the address, and only a hash of the code is stored.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.storage.models import KeyValue, Learner

CODE_MINUTES = 15
MAX_TRIES = 5


def _key(learner: Learner) -> str:
    return f"pathways-link-code:{learner.public_id}"


def _digest(code: str, learner: Learner) -> str:
    return hashlib.sha256(f"{learner.public_id}|{code}".encode()).hexdigest()


def others_with_email(session: Session, learner: Learner, email: str) -> list[Learner]:
    from plugin.issuance.pathways import identities
    mine = set(identities(session, learner.id))
    email = (email or "").strip().lower()
    if not email:
        return []
    rows = session.scalars(select(Learner).where(func.lower(Learner.email) == email)).all()
    return [r for r in rows if r.id not in mine]


def start(session: Session, learner: Learner, email: str, *, now: datetime | None = None) -> str | None:
    """The code to send to ``email``, or ``None`` when no other identity uses it (send nothing)."""
    if not others_with_email(session, learner, email):
        return None
    now = now or datetime.now(timezone.utc)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    row = session.get(KeyValue, _key(learner))
    value = {"digest": _digest(code, learner), "email": email.strip().lower(), "tries": 0}
    if row is None:
        session.add(KeyValue(key=_key(learner), value=value, expires_at=now + timedelta(minutes=CODE_MINUTES)))
    else:
        row.value, row.expires_at = value, now + timedelta(minutes=CODE_MINUTES)
    session.flush()
    return code


def confirm(session: Session, services, learner: Learner, code: str, *, actor: str,
            now: datetime | None = None) -> tuple[bool, list]:
    """Check the code; when right, link every identity using the address. ``(ok, pathway credentials awarded)``."""
    from plugin.issuance.pathways import link_identities
    now = now or datetime.now(timezone.utc)
    row = session.get(KeyValue, _key(learner))
    if row is None or row.expires_at < now or row.value.get("tries", 0) >= MAX_TRIES:
        return False, []
    value = dict(row.value)
    if not hmac.compare_digest(value["digest"], _digest((code or "").strip(), learner)):
        value["tries"] = value.get("tries", 0) + 1
        row.value = value
        return False, []
    session.delete(row)
    awarded = []
    for other in others_with_email(session, learner, value["email"]):
        awarded += link_identities(session, services, learner, other, method="email", actor=actor)
    return True, awarded
