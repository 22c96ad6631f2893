"""Issuer signing keys at rest and the two signing operations the engine performs.

Private keys are stored as PKCS#8 DER sealed with the key-encryption key, bound to
their row (``issuer_key_context``). An issuer always has one *active* Ed25519 key
(Data Integrity) and one active RSA key (VC-JWT RS256); rotating retires them
(``retired_at``) but keeps them in the DID document so old credentials verify.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.signing import keys as keylib
from plugin.storage.models import Issuer, IssuerKey
from plugin.storage.secrets import issuer_key_context


class IssuerKeyError(RuntimeError):
    """The issuer has no usable key."""


def issuer_identifier(services, issuer: Issuer) -> str:
    """The issuer's id in credentials: its ``did:web`` under the tool's base URL."""
    from plugin.signing.did import issuer_did
    return issuer_did(services.settings.base_url, issuer.slug)


def add_key(session: Session, services, issuer: Issuer, signing_key: keylib.SigningKey) -> IssuerKey:
    row = IssuerKey(issuer_id=issuer.id, key_id=signing_key.key_id, algorithm=signing_key.algorithm,
                    public_multibase=signing_key.public_multibase, public_jwk=signing_key.public_jwk,
                    private_sealed="")
    row.private_sealed = services.secrets.seal(signing_key.private_bytes(),
                                               issuer_key_context(issuer.id, signing_key.key_id))
    session.add(row)
    session.flush()
    _cache(services).pop(issuer.id, None)
    return row


def new_key_pair(session: Session, services, issuer: Issuer) -> list[IssuerKey]:
    """A fresh Ed25519 key and a fresh RSA key for ``issuer``."""
    return [add_key(session, services, issuer, keylib.generate_ed25519()),
            add_key(session, services, issuer, keylib.generate_rsa())]


def active_key(session: Session, issuer: Issuer, algorithm: str) -> IssuerKey:
    row = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id,
                                                  IssuerKey.algorithm == algorithm,
                                                  IssuerKey.retired_at.is_(None))
                          .order_by(IssuerKey.id.desc()).limit(1)).first()
    if row is None:
        raise IssuerKeyError(f"issuer {issuer.slug} has no active {algorithm} key (run `microcred keys rotate`)")
    return row


def _cache(services) -> dict:
    return services.extras.setdefault("issuer_signing_keys", {})


def load_signing_key(services, issuer: Issuer, row: IssuerKey) -> keylib.SigningKey:
    """Unseal a key once per process (unsealing + DER parsing costs more than signing)."""
    cache = _cache(services).setdefault(issuer.id, {})
    key = cache.get(row.id)
    if key is None:
        raw = services.secrets.open(row.private_sealed, issuer_key_context(issuer.id, row.key_id))
        key = keylib.SigningKey.from_private_bytes(raw, key_id=row.key_id)
        cache[row.id] = key
    return key


def all_keys(session: Session, issuer: Issuer) -> list[IssuerKey]:
    return list(session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id).order_by(IssuerKey.id)))


def sign_data_integrity(session: Session, services, issuer: Issuer, document: dict[str, Any],
                        *, row: IssuerKey | None = None) -> dict[str, Any]:
    """``document`` with an ``eddsa-rdfc-2022`` proof by the issuer's active Ed25519 key."""
    from plugin.signing import data_integrity
    from plugin.signing.contexts import get_store
    row = row or active_key(session, issuer, keylib.ED25519)
    key = load_signing_key(services, issuer, row)
    vm = key.verification_method(issuer_identifier(services, issuer))
    return data_integrity.sign(document, key, vm, store=get_store(services))


def sign_jwt(session: Session, services, issuer: Issuer, document: dict[str, Any],
             *, row: IssuerKey | None = None) -> str:
    """The VC-JWT (RS256) of ``document`` (without its Data Integrity proof)."""
    from plugin.signing import jwt as vcjwt
    row = row or active_key(session, issuer, keylib.RS256)
    key = load_signing_key(services, issuer, row)
    vm = key.verification_method(issuer_identifier(services, issuer))
    return vcjwt.sign_vc_jwt(document, key, vm)
