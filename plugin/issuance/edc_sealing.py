"""Sealing European Digital Credentials, per awarding body, the way its admin chose.

* ``own``: the admin uploaded the seal certificate and its private key (PKCS#12, or PEM
  certificate chain and PEM key); the key is sealed at rest with the KEK like issuer keys
  (:func:`seal_key_context`), and the tool makes a JAdES baseline-B seal itself
  (:mod:`plugin.signing.jades`). The EDC's issuer then carries the certificate's
  organisation identifier as its eIDAS identifier, as the EDC Issuer does.
* ``edc_issuer``: the institution's own EDC Issuer seals (:mod:`plugin.delivery.edc_issuer`);
  its address, password and token are sealed at rest too.
* ``unsealed`` (also: no configuration): the EDC is offered as an export only, labelled so.

Each issued credential of a sealing body gets an :class:`~plugin.storage.models.EdcSeal`
row and a job (``edc_seal``) when it is issued: failures are retried with backoff by the
job queue, recorded on the row (``attempts``, ``last_error``), shown to the admin, and
never lose the credential (its unsealed EDC stays available; an admin can retry).
"Send to my Europass" (``edc_europass``) asks the EDC Issuer to seal and deliver, after the
learner's consent.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from plugin.domain.i18n import N_
from plugin.signing import jades
from plugin.storage.models import EdcSeal, EdcTrustAnchor, IssuedCredential, Issuer, IssuerSeal, Job

MODES = ("unsealed", "own", "edc_issuer")


class SealConfigError(ValueError):
    """The seal configuration cannot be used (the message says what to fix)."""


def seal_key_context(issuer_id: int) -> str:
    return f"issuer-seal:{issuer_id}"


def edc_issuer_secret_context(issuer_id: int, name: str) -> str:
    return f"issuer-seal:{issuer_id}:{name}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- configuration
def config(session, issuer: Issuer) -> IssuerSeal | None:
    return session.scalars(select(IssuerSeal).where(IssuerSeal.issuer_id == issuer.id)).first()


def mode_of(session, issuer: Issuer) -> str:
    cfg = config(session, issuer)
    return cfg.mode if cfg is not None else "unsealed"


def _row(session, issuer: Issuer, actor: str) -> IssuerSeal:
    cfg = config(session, issuer)
    if cfg is None:
        cfg = IssuerSeal(issuer_id=issuer.id, mode="unsealed")
        session.add(cfg)
    cfg.updated_by = actor
    return cfg


def load_seal_material(data: bytes, password: str | None = None,
                       key_data: bytes | None = None) -> tuple[Any, list]:
    """``(private key, certificate chain)`` from a PKCS#12 file, or from PEM certificates
    (``data``) and a PEM key (``key_data``, or in ``data`` too); raises :class:`SealConfigError`."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
    from cryptography import x509
    pw = password.encode("utf-8") if password else None
    if not data:
        raise SealConfigError(N_("Choose the seal certificate file (PKCS#12 .p12/.pfx, or PEM)."))
    if b"-----BEGIN" not in data:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError:
            raise SealConfigError(N_("This PKCS#12 file cannot be opened: check the password.")) from None
        if key is None or cert is None:
            raise SealConfigError(N_("This PKCS#12 file holds no private key and certificate."))
        chain = [cert] + list(extra or [])
    else:
        try:
            chain = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise SealConfigError(N_("The certificate file holds no PEM certificate.")) from None
        source = key_data if key_data else data
        if b"PRIVATE KEY" not in source:
            raise SealConfigError(N_("Give the seal's private key too (a PEM file, or a PKCS#12 file)."))
        try:
            key = load_pem_private_key(source, pw)
        except (ValueError, TypeError):
            raise SealConfigError(N_("The private key cannot be opened: check the file and its password.")) from None
    try:
        jades.algorithm_for(key)
    except jades.JadesError as exc:
        raise SealConfigError(N_("The seal key cannot be used: %(why)s", why=str(exc))) from None
    leaf = next((c for c in chain if c.public_key().public_numbers() == key.public_key().public_numbers()), None)
    if leaf is None:
        raise SealConfigError(N_("The private key does not belong to any of the certificates given."))
    chain = [leaf] + [c for c in chain if c is not leaf]
    now = _now()
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise SealConfigError(N_("The seal certificate is not valid today (valid from %(start)s to %(end)s).",
                                 start=leaf.not_valid_before_utc.date().isoformat(),
                                 end=leaf.not_valid_after_utc.date().isoformat()))
    return key, chain


def set_own_seal(session, services, issuer: Issuer, key, chain, *, actor: str) -> IssuerSeal:
    from cryptography.hazmat.primitives import hashes, serialization
    cfg = _row(session, issuer, actor)
    cfg.mode = "own"
    cfg.certificate_chain = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain)
    cfg.certificate_sha256 = chain[0].fingerprint(hashes.SHA256()).hex()
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    cfg.private_sealed = services.secrets.seal(der, seal_key_context(issuer.id))
    from plugin.issuance.service import audit
    audit(session, actor, "edc.seal.own", "issuer", issuer.slug, certificate=cfg.certificate_sha256,
          subject=chain[0].subject.rfc4514_string())
    return cfg


def set_edc_issuer(session, services, issuer: Issuer, *, url: str, password: str | None, token: str | None,
                   actor: str) -> IssuerSeal:
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")):
        raise SealConfigError(N_("The EDC Issuer address must start with https://."))
    cfg = _row(session, issuer, actor)
    cfg.mode = "edc_issuer"
    cfg.edc_issuer_url = url.rstrip("/")
    if password:
        cfg.edc_issuer_password_sealed = services.secrets.seal(password.encode("utf-8"),
                                                               edc_issuer_secret_context(issuer.id, "password"))
    if token:
        cfg.edc_issuer_token_sealed = services.secrets.seal(token.encode("utf-8"),
                                                            edc_issuer_secret_context(issuer.id, "token"))
    from plugin.issuance.service import audit
    audit(session, actor, "edc.seal.edc_issuer", "issuer", issuer.slug, url=cfg.edc_issuer_url)
    return cfg


def set_unsealed(session, issuer: Issuer, *, actor: str) -> IssuerSeal:
    cfg = _row(session, issuer, actor)
    cfg.mode = "unsealed"
    from plugin.issuance.service import audit
    audit(session, actor, "edc.seal.unsealed", "issuer", issuer.slug)
    return cfg


def own_material(services, cfg: IssuerSeal):
    from cryptography.hazmat.primitives.serialization import load_der_private_key
    from cryptography import x509
    if not cfg.private_sealed or not cfg.certificate_chain:
        raise SealConfigError(N_("No seal certificate is configured for this awarding body."))
    key = load_der_private_key(services.secrets.open(cfg.private_sealed, seal_key_context(cfg.issuer_id)), None)
    return key, x509.load_pem_x509_certificates(cfg.certificate_chain.encode("ascii"))


def edc_issuer_client(services, cfg: IssuerSeal, http=None):
    from plugin.delivery.edc_issuer import EdcIssuerClient
    password = services.secrets.open(cfg.edc_issuer_password_sealed, edc_issuer_secret_context(cfg.issuer_id, "password")
                                     ).decode("utf-8") if cfg.edc_issuer_password_sealed else None
    token = services.secrets.open(cfg.edc_issuer_token_sealed, edc_issuer_secret_context(cfg.issuer_id, "token")
                                  ).decode("utf-8") if cfg.edc_issuer_token_sealed else None
    # The EDC Issuer's address is set by an admin: through the outbound layer (internal
    # addresses refused unless MICROCRED_OUTBOUND_ALLOW lists them).
    return EdcIssuerClient(cfg.edc_issuer_url or "", password=password, token=token, http=http or services.http())


def certificate_eidas_identifier(cfg: IssuerSeal | None) -> str | None:
    """The seal certificate's organisation identifier (e.g. ``VATFR-12345678901``), if any."""
    if cfg is None or cfg.mode != "own" or not cfg.certificate_chain:
        return None
    from cryptography import x509
    return jades.organization_identifier(x509.load_pem_x509_certificates(cfg.certificate_chain.encode("ascii"))[0])


# --------------------------------------------------------------------------- trust anchors
def trust_anchors(session) -> list:
    from cryptography import x509
    out = []
    for row in session.scalars(select(EdcTrustAnchor).order_by(EdcTrustAnchor.id)):
        out += x509.load_pem_x509_certificates(row.certificate_pem.encode("ascii"))
    return out


def add_trust_anchor(session, data: bytes, *, name: str, actor: str) -> EdcTrustAnchor:
    from cryptography.hazmat.primitives import hashes, serialization
    try:
        certs = jades.load_certificates(data)
    except jades.JadesError:
        raise SealConfigError(N_("This file is not a certificate (PEM or DER).")) from None
    cert = certs[0]
    fp = cert.fingerprint(hashes.SHA256()).hex()
    existing = session.scalars(select(EdcTrustAnchor).where(EdcTrustAnchor.sha256 == fp)).first()
    if existing is not None:
        return existing
    row = EdcTrustAnchor(name=(name or cert.subject.rfc4514_string())[:255], sha256=fp, created_by=actor,
                         certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    session.add(row)
    from plugin.issuance.service import audit
    audit(session, actor, "edc.trust.add", "trust_anchor", fp, subject=cert.subject.rfc4514_string())
    return row


# --------------------------------------------------------------------------- per credential
def state(session, row: IssuedCredential) -> EdcSeal | None:
    return session.scalars(select(EdcSeal).where(EdcSeal.credential_id == row.id)).first()


def after_issue(session, services, row: IssuedCredential) -> EdcSeal | None:
    """Queue the seal of a new credential when its awarding body seals (in this transaction)."""
    cfg = session.scalars(select(IssuerSeal).where(IssuerSeal.issuer_id == row.issuer_id)).first()
    if cfg is None or cfg.mode not in ("own", "edc_issuer"):
        return None
    return queue_seal(session, services, row, cfg.mode)


def queue_seal(session, services, row: IssuedCredential, mode: str) -> EdcSeal:
    from plugin.jobs.queue import enqueue
    seal_row = state(session, row)
    if seal_row is None:
        seal_row = EdcSeal(credential_id=row.id, mode=mode, status="pending", attempts=0)
        session.add(seal_row)
    else:
        seal_row.mode, seal_row.status, seal_row.last_error = mode, "pending", None
    session.flush()
    enqueue(services, "edc_seal", {"credential": row.id}, session=session, max_attempts=6)
    return seal_row


def seal_now(session, services, row: IssuedCredential) -> EdcSeal:
    """Seal ``row`` now with the body's own seal (fast: no network), or raise :class:`SealConfigError`."""
    from plugin.issuance.edc import export
    issuer = session.get(Issuer, row.issuer_id)
    cfg = config(session, issuer)
    if cfg is None or cfg.mode != "own":
        raise SealConfigError(N_("This awarding body does not seal with its own certificate."))
    key, chain = own_material(services, cfg)
    document = export(session, services, row, eidas_identifier=certificate_eidas_identifier(cfg))
    sealed = jades.seal(document, key, chain)
    seal_row = state(session, row) or EdcSeal(credential_id=row.id, mode="own", attempts=0)
    if seal_row.id is None:
        session.add(seal_row)
    _store_sealed(seal_row, jades.seal_bytes(sealed).decode("utf-8"), "own")
    return seal_row


def _store_sealed(seal_row: EdcSeal, text: str, mode: str) -> None:
    seal_row.mode = mode
    seal_row.sealed = text
    seal_row.status = "sealed"
    seal_row.sealed_at = _now()
    seal_row.last_error = None
    seal_row.last_http_status = None


def sealed_document(session, services, row: IssuedCredential) -> str | None:
    """The sealed EDC text to serve, sealing now with an own seal when it is still pending."""
    seal_row = state(session, row)
    if seal_row is not None and seal_row.status == "sealed" and seal_row.sealed:
        return seal_row.sealed
    issuer = session.get(Issuer, row.issuer_id)
    if mode_of(session, issuer) == "own" and row.status in ("active", "suspended"):
        return seal_now(session, services, row).sealed
    return None


def _job_max_attempts(services, ctx) -> int:
    with services.session() as s:
        job = s.get(Job, ctx.job_id)
        return job.max_attempts if job is not None else 1


def _record(services, credential_id: int, **values) -> None:
    with services.session() as s:
        seal_row = s.scalars(select(EdcSeal).where(EdcSeal.credential_id == credential_id)).first()
        if seal_row is None:
            return
        for k, v in values.items():
            setattr(seal_row, k, v)


def run_seal_job(services, payload: dict, ctx) -> dict:
    """Job ``edc_seal``: seal one credential (own seal, or through the EDC Issuer)."""
    from plugin.delivery.edc_issuer import EdcIssuerError
    from plugin.issuance.edc import EdcError, export
    from plugin.jobs.queue import PermanentJobError
    credential_id = int(payload["credential"])
    last = ctx.attempt >= _job_max_attempts(services, ctx)
    with services.session() as s:
        row = s.get(IssuedCredential, credential_id)
        if row is None:
            raise PermanentJobError(f"no credential {credential_id}")
        cfg = s.scalars(select(IssuerSeal).where(IssuerSeal.issuer_id == row.issuer_id)).first()
        mode = cfg.mode if cfg is not None else "unsealed"
        seal_row = state(s, row)
        if seal_row is not None and seal_row.status == "sealed":
            return {"status": "already sealed"}
        try:
            if mode == "own":
                seal_now(s, services, row)
                return {"status": "sealed", "mode": "own"}
            if mode != "edc_issuer":
                raise PermanentJobError("the awarding body no longer seals its credentials")
            document = export(s, services, row)
            client = edc_issuer_client(services, cfg)
            public_id = row.public_id
        except (EdcError, SealConfigError) as exc:
            s.rollback()
            _record(services, credential_id, status="failed", attempts=ctx.attempt, last_error=str(exc))
            raise PermanentJobError(str(exc)) from None
    try:
        text = client.seal(document)
        _check_sealed(text, document)
    except EdcIssuerError as exc:
        failed = last or not exc.retryable
        _record(services, credential_id, status="failed" if failed else "pending", attempts=ctx.attempt,
                last_error=str(exc), last_http_status=exc.status)
        if not exc.retryable:
            raise PermanentJobError(str(exc)) from None
        raise
    with services.session() as s:
        seal_row = s.scalars(select(EdcSeal).where(EdcSeal.credential_id == credential_id)).first()
        seal_row.attempts = ctx.attempt
        _store_sealed(seal_row, text, "edc_issuer")
    return {"status": "sealed", "mode": "edc_issuer", "credential": public_id}


def _check_sealed(text: str, document: dict[str, Any]) -> None:
    """The EDC Issuer's answer must be a valid seal over a credential with our EDC's id."""
    from plugin.delivery.edc_issuer import EdcIssuerError
    try:
        report = jades.verify(json.loads(text))
    except (ValueError, jades.JadesError) as exc:
        raise EdcIssuerError(f"the EDC Issuer's answer is not a readable seal: {exc}", retryable=False) from None
    if not report.signature_ok:
        raise EdcIssuerError(f"the EDC Issuer's seal does not verify: {report.signature_message}", retryable=False)
    # The EDC Issuer gives the sealed credential an id of its own (the Commission's sealed sample
    # does); its learner and achievement nodes keep ours.
    if _claim_ids(report.payload) != _claim_ids(document):
        raise EdcIssuerError("the EDC Issuer sealed another credential than the one sent", retryable=False)


def _claim_ids(document: dict[str, Any] | None) -> tuple:
    subject = (document or {}).get("credentialSubject") or {}
    if not isinstance(subject, dict):
        return (None,)
    claims = subject.get("hasClaim")
    claims = claims if isinstance(claims, list) else [claims]
    return (subject.get("id"), *sorted(str(c.get("id")) for c in claims if isinstance(c, dict)))


def request_europass(session, services, row: IssuedCredential, address: str) -> EdcSeal:
    """The learner asked (and consented) to send the credential to their Europass wallet."""
    from plugin.jobs.queue import enqueue
    issuer = session.get(Issuer, row.issuer_id)
    if mode_of(session, issuer) != "edc_issuer":
        raise SealConfigError(N_("This awarding body does not deliver credentials to Europass."))
    seal_row = state(session, row)
    if seal_row is None:
        seal_row = EdcSeal(credential_id=row.id, mode="edc_issuer", status="pending", attempts=0)
        session.add(seal_row)
    seal_row.europass_status = "queued"
    seal_row.europass_address = address
    seal_row.europass_consent_at = _now()
    seal_row.europass_error = None
    session.flush()
    enqueue(services, "edc_europass", {"credential": row.id}, session=session, max_attempts=6)
    from plugin.issuance.service import audit
    audit(session, f"learner:{row.learner.public_id}", "edc.europass.request", "credential", row.public_id)
    return seal_row


def run_europass_job(services, payload: dict, ctx) -> dict:
    """Job ``edc_europass``: seal and send to the learner's Europass wallet (``seal_and_send``)."""
    from plugin.delivery.edc_issuer import EdcIssuerError
    from plugin.issuance.edc import EdcError, export
    from plugin.jobs.queue import PermanentJobError
    credential_id = int(payload["credential"])
    last = ctx.attempt >= _job_max_attempts(services, ctx)
    with services.session() as s:
        row = s.get(IssuedCredential, credential_id)
        seal_row = state(s, row) if row is not None else None
        if row is None or seal_row is None or not seal_row.europass_address:
            raise PermanentJobError(f"no Europass request for credential {credential_id}")
        cfg = s.scalars(select(IssuerSeal).where(IssuerSeal.issuer_id == row.issuer_id)).first()
        try:
            if cfg is None or cfg.mode != "edc_issuer":
                raise SealConfigError("the awarding body no longer delivers to Europass")
            document = export(s, services, row)
            client = edc_issuer_client(services, cfg)
        except (EdcError, SealConfigError) as exc:
            s.rollback()
            _record(services, credential_id, europass_status="failed", europass_error=str(exc))
            raise PermanentJobError(str(exc)) from None
        address = seal_row.europass_address
    try:
        text = client.seal_and_send(document, address)
    except EdcIssuerError as exc:
        failed = last or not exc.retryable
        _record(services, credential_id, europass_status="failed" if failed else "queued", europass_error=str(exc))
        if not exc.retryable:
            raise PermanentJobError(str(exc)) from None
        raise
    values: dict[str, Any] = {"europass_status": "sent", "europass_sent_at": _now(), "europass_error": None}
    if text:
        values.update(sealed=text, status="sealed", sealed_at=_now(), last_error=None)
    _record(services, credential_id, **values)
    return {"status": "sent"}


def retry(session, services, seal_row: EdcSeal, *, actor: str) -> None:
    """An admin retries a failed seal (or Europass delivery)."""
    from plugin.issuance.service import audit
    from plugin.jobs.queue import enqueue
    row = session.get(IssuedCredential, seal_row.credential_id)
    if seal_row.status == "failed":
        queue_seal(session, services, row, seal_row.mode)
    if seal_row.europass_status == "failed":
        seal_row.europass_status = "queued"
        seal_row.europass_error = None
        enqueue(services, "edc_europass", {"credential": row.id}, session=session, max_attempts=6)
    audit(session, actor, "edc.seal.retry", "credential", row.public_id)


def problems_for_admin(session, limit: int = 200) -> list[EdcSeal]:
    """Seals and deliveries that failed or still wait, newest first (the admin's list)."""
    q = (select(EdcSeal).where((EdcSeal.status.in_(("failed", "pending")))
                               | (EdcSeal.europass_status.in_(("failed", "queued"))))
         .order_by(EdcSeal.updated_at.desc()).limit(limit))
    return list(session.scalars(q))
