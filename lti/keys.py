"""The tool's own RSA keys (JWKS, deep-linking responses, OAuth2 client assertions).

Generated on first use, the private half sealed with the key-encryption key and bound to
its row (``tool_key_context``). Retired keys (``active=False``) stay in the JWKS for a
while so tokens signed just before a rotation still verify.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.storage import config_cache
from plugin.storage.models import ToolKey
from plugin.storage.secrets import SecretBox, tool_key_context

_lock = threading.Lock()


@dataclass(frozen=True)
class ToolSigningKey:
    kid: str
    private_pem: str
    public_jwk: dict

    @property
    def public_pem(self) -> str:
        return JWK(**self.public_jwk).export_to_pem().decode()


def _public_jwk(key: JWK, kid: str) -> dict:
    public = key.export_public(as_dict=True)
    public.update(kid=kid, alg="RS256", use="sig")
    return public


def generate_tool_key(session: Session, box: SecretBox) -> ToolKey:
    key = JWK.generate(kty="RSA", size=2048)
    kid = key.thumbprint()
    pem = key.export_to_pem(private_key=True, password=None)
    row = ToolKey(kid=kid, public_jwk=_public_jwk(key, kid),
                  private_sealed=box.seal(pem, tool_key_context(kid)), active=True)
    session.add(row)
    session.flush()
    return row


def active_key(session: Session, box: SecretBox) -> ToolSigningKey:
    """The current signing key, created (and committed by the caller's transaction) on first use.

    Kept, opened, in this process's cache (:mod:`plugin.storage.config_cache`) until the keys change."""
    return config_cache.cached(session, "tool_key", lambda: _active_key(session, box))


def _active_key(session: Session, box: SecretBox) -> ToolSigningKey:
    row = session.scalars(select(ToolKey).where(ToolKey.active.is_(True)).order_by(ToolKey.id.desc())).first()
    if row is None:
        with _lock:
            row = session.scalars(select(ToolKey).where(ToolKey.active.is_(True))
                                  .order_by(ToolKey.id.desc())).first()
            if row is None:
                try:
                    with session.begin_nested():
                        row = generate_tool_key(session, box)
                except IntegrityError:  # another process made one at the same moment
                    row = session.scalars(select(ToolKey).where(ToolKey.active.is_(True))
                                          .order_by(ToolKey.id.desc())).first()
    pem = box.open(row.private_sealed, tool_key_context(row.kid)).decode()
    return ToolSigningKey(kid=row.kid, private_pem=pem, public_jwk=dict(row.public_jwk))


def ensure_key(services) -> ToolSigningKey:
    """Open a transaction of its own and return the active key (creating it if needed)."""
    with services.session() as s:
        return active_key(s, services.secrets)


def jwks(session: Session) -> dict:
    """The public JWKS: every stored key (active first)."""
    def compute() -> tuple[dict, ...]:
        rows = session.scalars(select(ToolKey).order_by(ToolKey.active.desc(), ToolKey.id.desc())).all()
        return tuple(dict(r.public_jwk) for r in rows)
    return {"keys": [dict(k) for k in config_cache.cached(session, "tool_jwks", compute)]}


def previous_keys(session: Session) -> list[ToolKey]:
    """Keys that no longer sign but are still published (newest first)."""
    return list(session.scalars(select(ToolKey).where(ToolKey.active.is_(False)).order_by(ToolKey.id.desc())))


def retire_previous(session: Session) -> list[str]:
    """Stop publishing the keys that no longer sign (their private halves are deleted too).

    Run once the platforms have fetched the new JWKS; a platform that still caches the old
    set fetches it again when it meets the new ``kid``. Returns the retired kids."""
    rows = previous_keys(session)
    for row in rows:
        session.delete(row)
    session.flush()
    return [row.kid for row in rows]


def rotate(session: Session, box: SecretBox, *, retire_old: bool = False) -> ToolSigningKey:
    """Make a new signing key; the key it replaces stops signing but stays in the JWKS.

    So that platforms that cached the JWKS keep verifying what was signed just before, the
    replaced key stays published until :func:`retire_previous` or the next rotation (which
    drops keys replaced by an earlier one). ``retire_old`` drops every previous key now
    (a leaked key must not verify anything any more)."""
    retire_previous(session)
    for row in session.scalars(select(ToolKey).where(ToolKey.active.is_(True))):
        row.active = False
    session.flush()
    if retire_old:
        retire_previous(session)
    row = generate_tool_key(session, box)
    return ToolSigningKey(kid=row.kid, private_pem=box.open(row.private_sealed, tool_key_context(row.kid)).decode(),
                          public_jwk=dict(row.public_jwk))
