"""Offers, pre-authorized codes, access tokens, nonces and issuance to wallets (database, no Flask).

* :func:`create_offer`: a single-use pre-authorized code (≤ 10 minutes, bound to one
  credential and one configuration), optionally with a numeric transaction code;
* :func:`exchange_code` (``POST /token``): the code (and ``tx_code``) for an access token;
  spent by a conditional UPDATE, so a replayed code fails even under a race;
* :func:`new_nonce` (``POST /nonce``): an HMAC-signed ``c_nonce`` (nothing stored: the
  endpoint is unauthenticated), spent once by an insert into ``one_time_token``;
* :func:`issue` (``POST /credential``): checks the token and the key proof, and returns the
  holder-bound copy, recorded in ``wallet_credential``.

Errors are :class:`Oid4vciError` with the codes of OpenID4VCI 1.0 §6.3 / §8.3.1.2 and RFC
6750; ``keep`` marks those whose database changes (a wrong transaction code counted) must
be committed.
"""
from __future__ import annotations

import hashlib
import json
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.delivery.oid4vci import Oid4vciError
from plugin.delivery.oid4vci import metadata as md
from plugin.delivery.oid4vci.formats import holder_bound_copy
from plugin.delivery.oid4vci.proof import unverified_nonce, verify_proof
from plugin.storage.models import (CredentialDefinition, DefinitionVersion, IssuedCredential, Issuer,
                                   OneTimeToken, WalletCredential, WalletOffer)

TX_CODE_LENGTH = 6
TX_CODE_TRIES = 5
NONCE_KIND = "oid4vci-nonce"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _err(error: str, description: str, status: int = 400, keep: bool = False) -> Oid4vciError:
    return Oid4vciError(error, description, status, keep=keep)


# --------------------------------------------------------------------------- metadata
def issuer_url(services, issuer: Issuer) -> str:
    return md.credential_issuer(services.settings.base_url, issuer.slug)


def logo_url(services, issuer: Issuer) -> str | None:
    return f"{issuer_url(services, issuer)}/logo" if (issuer.profile or {}).get("logo") else None


def configurations(session: Session, services, issuer: Issuer) -> dict[str, dict[str, Any]]:
    """The three formats of every enabled definition of ``issuer``."""
    from plugin.storage.branding import load_branding
    design = load_branding(session, issuer.id).branding.design
    rows = session.execute(
        select(CredentialDefinition.public_id, DefinitionVersion.data)
        .join(DefinitionVersion, (DefinitionVersion.definition_id == CredentialDefinition.id)
              & (DefinitionVersion.version == CredentialDefinition.current_version))
        .where(CredentialDefinition.issuer_id == issuer.id, CredentialDefinition.enabled.is_(True))
        .order_by(CredentialDefinition.id)).all()
    out: dict[str, dict[str, Any]] = {}
    for public_id, data in rows:
        title = str((data or {}).get("title") or "Micro-credential")
        for fmt in md.FORMATS:
            out[md.configuration_id(public_id, fmt)] = md.credential_configuration(
                fmt, title=title, issuer_name=issuer.name, base_url=services.settings.base_url,
                background=design.background, text=design.text, logo_url=logo_url(services, issuer))
    return out


def issuer_metadata(session: Session, services, issuer: Issuer) -> dict[str, Any]:
    return md.issuer_metadata(issuer_url(services, issuer),
                              display=md.issuer_display(issuer.name, logo_url(services, issuer)),
                              configurations=configurations(session, services, issuer))


# --------------------------------------------------------------------------- offers
@dataclass
class CreatedOffer:
    offer: WalletOffer
    uri: str                 # openid-credential-offer://?credential_offer=...
    document: dict[str, Any]
    tx_code: str | None      # to send to the learner another way (e-mail)


def create_offer(session: Session, services, credential: IssuedCredential, fmt: str, *, tx_code: bool = False,
                 actor: str = "system", tx_code_description: str = "") -> CreatedOffer:
    """A new offer of ``credential`` in ``fmt`` (the caller commits)."""
    if fmt not in md.FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(md.FORMATS)}")
    if credential.status != "active":
        raise ValueError(f"only an active credential can be offered to a wallet (this one is {credential.status})")
    code = secrets.token_urlsafe(32)
    tx = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH)) if tx_code else None
    config_id = md.configuration_id(credential.definition.public_id, fmt)
    offer = WalletOffer(credential_id=credential.id, configuration_id=config_id, code_hash=_hash(code),
                        tx_code_hash=_hash(tx) if tx else None, created_by=actor,
                        expires_at=_now() + timedelta(seconds=services.settings.oid4vci_offer_ttl))
    session.add(offer)
    session.flush()
    document = md.credential_offer(issuer_url(services, credential.issuer), config_id, code,
                                   tx_code_length=TX_CODE_LENGTH if tx else None,
                                   tx_code_description=tx_code_description)
    from plugin.issuance.service import audit
    audit(session, actor, "credential.wallet_offer", "credential", credential.public_id, format=fmt,
          offer=offer.public_id, tx_code=bool(tx))
    return CreatedOffer(offer, md.offer_uri(document), document, tx)


def offer_state(offer: WalletOffer, now: datetime | None = None) -> str:
    """``received`` (a wallet got it), ``expired`` (or used up without delivery) or ``waiting``."""
    if offer.received_at is not None:
        return "received"
    now = now or _now()
    if offer.redeemed_at is not None:
        return "waiting" if offer.token_expires_at and offer.token_expires_at > now else "expired"
    return "waiting" if offer.expires_at > now else "expired"


# --------------------------------------------------------------------------- token endpoint
def _issuer_of(session: Session, slug: str) -> Issuer:
    issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        raise _err("invalid_request", "there is no credential issuer at this address", 404)
    return issuer


def exchange_code(session: Session, services, slug: str, form: Mapping[str, str]) -> dict[str, Any]:
    """``POST /token`` with the pre-authorized code grant (OpenID4VCI 1.0 §6)."""
    issuer = _issuer_of(session, slug)
    grant = form.get("grant_type")
    if not grant:
        raise _err("invalid_request", "grant_type is missing")
    if grant != md.PRE_AUTH_GRANT:
        raise _err("unsupported_grant_type", f"only the pre-authorized code grant ({md.PRE_AUTH_GRANT}) is supported")
    code = form.get("pre-authorized_code")
    if not code:
        raise _err("invalid_request", "pre-authorized_code is missing")
    offer = session.scalars(select(WalletOffer).where(WalletOffer.code_hash == _hash(code))).first()
    if offer is None or offer.credential.issuer_id != issuer.id:
        raise _err("invalid_grant", "this pre-authorized code is not known here")
    now = _now()
    if offer.redeemed_at is not None:
        raise _err("invalid_grant", "this pre-authorized code was already used")
    if offer.expires_at <= now:
        raise _err("invalid_grant", "this pre-authorized code has expired: ask for a new QR code")
    tx = form.get("tx_code")
    if offer.tx_code_hash and not tx:
        raise _err("invalid_request", "this offer needs the transaction code (tx_code) sent by e-mail")
    if tx and not offer.tx_code_hash:
        raise _err("invalid_request", "this offer has no transaction code: do not send tx_code")
    if offer.tx_code_hash and not hmac.compare_digest(_hash(tx), offer.tx_code_hash):
        offer.tx_code_tries += 1
        if offer.tx_code_tries >= TX_CODE_TRIES:
            offer.expires_at = now  # too many guesses: the offer is withdrawn
        raise _err("invalid_grant", "the transaction code is wrong", keep=True)
    if offer.credential.status != "active":
        raise _err("invalid_grant", f"the credential is {offer.credential.status}: it can no longer be issued")
    token = secrets.token_urlsafe(32)
    done = session.execute(
        update(WalletOffer).where(WalletOffer.id == offer.id, WalletOffer.redeemed_at.is_(None))
        .values(redeemed_at=now, token_hash=_hash(token), token_expires_at=now + timedelta(seconds=md.TOKEN_TTL))
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise _err("invalid_grant", "this pre-authorized code was already used")
    return {"access_token": token, "token_type": "Bearer", "expires_in": md.TOKEN_TTL}


# --------------------------------------------------------------------------- nonces
def _nonce_mac(services, slug: str, body: str) -> str:
    from plugin.signing.keys import b64url
    key = hashlib.sha256(b"oid4vci-nonce|" + services.settings.secret_key.encode()).digest()
    return b64url(hmac.new(key, f"{slug}|{body}".encode(), hashlib.sha256).digest()[:18])


def new_nonce(services, slug: str, now: float | None = None) -> str:
    body = f"{int(time.time() if now is None else now):x}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_nonce_mac(services, slug, body)}"


def spend_nonce(session: Session, services, slug: str, nonce: str, now: float | None = None) -> None:
    """Accept ``nonce`` once: ours (MAC), for this issuer, fresh, and never used before."""
    body, _, mac = (nonce or "").rpartition(".")
    if not body or not hmac.compare_digest(mac, _nonce_mac(services, slug, body)):
        raise _err("invalid_nonce", "the nonce was not issued by this credential issuer: get a new c_nonce")
    try:
        issued = int(body.split(".")[0], 16)
    except ValueError:
        raise _err("invalid_nonce", "the nonce is malformed: get a new c_nonce") from None
    if (time.time() if now is None else now) - issued > md.NONCE_TTL:
        raise _err("invalid_nonce", "the nonce has expired: get a new c_nonce")
    try:
        with session.begin_nested():
            session.add(OneTimeToken(kind=NONCE_KIND, value=nonce[:255],
                                     expires_at=datetime.fromtimestamp(issued + md.NONCE_TTL, timezone.utc)))
            session.flush()
    except IntegrityError:
        raise _err("invalid_nonce", "this nonce was already used: get a new c_nonce") from None


# --------------------------------------------------------------------------- credential endpoint
def offer_for_token(session: Session, slug: str, authorization: str | None) -> WalletOffer:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _err("invalid_token", "send the access token from the token endpoint (Authorization: Bearer ...)", 401)
    offer = session.scalars(select(WalletOffer).where(WalletOffer.token_hash == _hash(token.strip()))).first()
    if offer is None or offer.credential.issuer.slug != slug:
        raise _err("invalid_token", "the access token is not known here", 401)
    if offer.token_expires_at is None or offer.token_expires_at <= _now():
        raise _err("invalid_token", "the access token has expired", 401)
    return offer


def issue(session: Session, services, slug: str, authorization: str | None, body: Any) -> dict[str, Any]:
    """``POST /credential`` (OpenID4VCI 1.0 §8): the holder-bound copy of the offered credential."""
    offer = offer_for_token(session, slug, authorization)
    if not isinstance(body, dict):
        raise _err("invalid_credential_request", "the body must be a JSON object")
    if "credential_identifier" in body:
        raise _err("unknown_credential_identifier", "this issuer does not hand out credential identifiers: "
                                                    "send credential_configuration_id")
    config_id = body.get("credential_configuration_id")
    if not config_id:
        raise _err("invalid_credential_request", "credential_configuration_id is missing")
    parsed = md.split_configuration_id(config_id)
    if parsed is None or config_id not in configurations(session, services, offer.credential.issuer):
        raise _err("unknown_credential_configuration", f"{config_id!r} is not a credential configuration of this issuer")
    if config_id != offer.configuration_id:
        raise _err("credential_request_denied", "the access token was granted for another credential configuration")
    if offer.received_at is not None:
        raise _err("credential_request_denied", "this offer's credential was already delivered")
    proofs = body.get("proofs")
    if "proof" in body and proofs is None:
        raise _err("invalid_credential_request", "send the key proof in proofs.jwt (OpenID4VCI 1.0), not proof")
    jwts = proofs.get("jwt") if isinstance(proofs, dict) else None
    if not isinstance(proofs, dict) or set(proofs) - {"jwt"}:
        raise _err("invalid_proof", "a key proof is required in proofs.jwt (the only proof type supported)")
    if not isinstance(jwts, list) or len(jwts) != 1:
        raise _err("invalid_proof", "send exactly one proof in proofs.jwt")
    audience = issuer_url(services, offer.credential.issuer)
    nonce = unverified_nonce(jwts[0])
    if nonce is None:
        raise _err("invalid_nonce", "the proof has no nonce: get a c_nonce from the nonce endpoint")
    holder = verify_proof(jwts[0], audience=audience)
    spend_nonce(session, services, slug, holder.nonce)
    row = offer.credential
    if row.status != "active":
        raise _err("credential_request_denied", f"the credential is {row.status}: it can no longer be issued")
    # Claim the delivery first: of two requests racing with the same token, one gets it.
    claimed = session.execute(update(WalletOffer).where(WalletOffer.id == offer.id, WalletOffer.received_at.is_(None))
                              .values(received_at=_now()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise _err("credential_request_denied", "this offer's credential was already delivered")
    fmt = parsed[1]
    copy_public_id = str(uuid.uuid4())
    credential = sign_copy(session, services, row, fmt, holder, f"urn:uuid:{copy_public_id}")
    text = credential if isinstance(credential, str) else json.dumps(credential, sort_keys=True)
    session.add(WalletCredential(public_id=copy_public_id, credential_id=row.id, offer_id=offer.id, format=fmt,
                                 holder=holder.did, issued_id=f"urn:uuid:{copy_public_id}", digest=_hash(text)))
    from plugin.issuance.service import audit
    audit(session, "wallet", "credential.wallet_issue", "credential", row.public_id, format=fmt,
          offer=offer.public_id, copy=copy_public_id)
    session.flush()
    return {"credentials": [{"credential": credential}]}


def sign_copy(session: Session, services, row: IssuedCredential, fmt: str, holder, copy_id: str):
    from plugin.issuance import keys as issuer_keys
    if fmt == "dc+sd-jwt":
        from plugin.delivery.oid4vci.sdjwt import sign_sd_jwt_vc
        return sign_sd_jwt_vc(session, services, row, holder, copy_id)
    unsigned = holder_bound_copy(row.document, holder.did, copy_id)
    if fmt == "ldp_vc":
        return issuer_keys.sign_data_integrity(session, services, row.issuer, unsigned)
    return issuer_keys.sign_jwt(session, services, row.issuer, unsigned)


def copies_of(session: Session, credential: IssuedCredential) -> list[WalletCredential]:
    return list(session.scalars(select(WalletCredential).where(WalletCredential.credential_id == credential.id)
                                .order_by(WalletCredential.id)))
