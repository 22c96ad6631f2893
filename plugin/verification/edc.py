"""Verify a European Digital Credential: sealed (JAdES JSON) or a bare EDC.

Checks, each reported separately (the same :class:`~plugin.verification.verify.Check` as
for Open Badges credentials, so ``microcred verify`` and ``/verify`` show them alike):

``format``        a readable EDC (``EuropeanDigitalCredential``), sealed or not;
``seal``          the JAdES seal's signature over the credential (:mod:`plugin.signing.jades`);
                  an unsealed EDC fails it: nothing proves who issued it;
``certificate``   the seal certificate's chain reaches a trust anchor an admin configured
                  (else: "not a qualified seal we can vouch for: unknown authority"), with
                  what the certificate claims (qualified, for electronic seals) and what was
                  not checked (timestamps, revocation);
``shapes``        the Commission's SHACL shapes (``edc-generic-full`` and ``-no-cv``);
``validity_dates`` ``validFrom`` <= now <= ``expirationDate``/``validUntil``.

``status``: ``valid``, ``unknown-authority`` (sealed and intact, but by a certificate no
trust anchor vouches for), ``unsealed``, ``expired``, ``not-yet-valid`` or ``invalid``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from plugin.verification.verify import Check, VerificationReport

EDC_CHECKS = ("format", "seal", "certificate", "shapes", "validity_dates")
EDC_TYPE = "EuropeanDigitalCredential"


class EdcReport(VerificationReport):
    @property
    def ok(self) -> bool:
        return len(self.checks) == len(EDC_CHECKS) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["ok"] = self.ok
        return out


def _types(doc: dict[str, Any]) -> list:
    t = doc.get("type")
    return t if isinstance(t, list) else [t]


def is_edc(data: Any) -> bool:
    """A sealed EDC (JAdES JSON whose payload is an EDC) or a bare EDC document."""
    from plugin.signing.jades import is_jades
    if not isinstance(data, dict):
        return False
    if is_jades(data):
        payload = data.get("payload")
        return isinstance(payload, str) and EDC_TYPE in payload
    return EDC_TYPE in _types(data)


def _date(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def verify_edc(data: dict[str, Any], *, anchors: Iterable = (), store=None,
               now: datetime | None = None) -> EdcReport:
    from plugin.signing import jades
    from plugin.verification.shacl import ShaclSetupError, validate_edc
    now = now or datetime.now(timezone.utc)
    report = EdcReport()
    add = report.checks.append
    sealed = jades.is_jades(data)
    report.format = "edc-jades" if sealed else "edc"
    seal = None
    if sealed:
        try:
            seal = jades.verify(data, anchors=list(anchors), now=now)
        except jades.JadesError as exc:
            add(Check("format", False, f"not a readable sealed credential: {exc}"))
            for name in EDC_CHECKS[1:]:
                add(Check(name, None, "not run: the credential could not be read"))
            return report
        credential = seal.payload
        report.proof_type = f"JAdES/{seal.algorithm}"
    else:
        credential = data
    if not isinstance(credential, dict) or EDC_TYPE not in _types(credential):
        add(Check("format", False, "the sealed payload is not a European Digital Credential"))
        for name in EDC_CHECKS[1:]:
            add(Check(name, None, "not run: the credential could not be read"))
        return report
    report.credential = credential
    issuer = credential.get("issuer")
    report.issuer = issuer.get("id") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else None
    add(Check("format", True, "a sealed European Digital Credential (JAdES)" if sealed
              else "a European Digital Credential without a seal"))

    if seal is None:
        add(Check("seal", False, "not sealed: this EDC carries no electronic seal, so nothing proves who issued "
                                 "it or that it was not changed"))
        add(Check("certificate", None, "not applicable: no seal"))
    else:
        add(Check("seal", seal.signature_ok, seal.signature_message))
        if not seal.signature_ok:
            add(Check("certificate", None, "not run: the seal does not verify"))
        else:
            claims = []
            if seal.qualified_claim:
                claims.append("the certificate states it is qualified" + (" for electronic seals" if seal.eseal_claim else ""))
            if seal.organization_identifier:
                claims.append(f"organisation identifier {seal.organization_identifier}")
            unchecked = ["revocation (OCSP/CRL)"] + seal.not_checked
            detail = f"{seal.chain_message}" + (f"; {', '.join(claims)}" if claims else "") + \
                f"; not checked: {', '.join(unchecked)}"
            add(Check("certificate", seal.trusted, detail))

    try:
        shacl = validate_edc(credential, store)
        add(Check("shapes", shacl.conforms, "conforms to the EDC shapes (edc-generic-full, edc-generic-no-cv)"
                  if shacl.conforms else "; ".join(str(p.message) for p in shacl.problems[:10])))
    except ShaclSetupError as exc:
        add(Check("shapes", False, str(exc)))

    start = _date(credential.get("validFrom"))
    end = _date(credential.get("expirationDate") or credential.get("validUntil"))
    if start is None:
        add(Check("validity_dates", False, "validFrom is missing or not a date"))
    elif now < start:
        add(Check("validity_dates", False, f"not valid before {credential.get('validFrom')}"))
    elif end is not None and now > end:
        add(Check("validity_dates", False, f"expired on {credential.get('expirationDate') or credential.get('validUntil')}"))
    else:
        add(Check("validity_dates", True, f"valid from {credential.get('validFrom')}"
                  + (f" until {credential.get('expirationDate') or credential.get('validUntil')}" if end else "")))

    by = {c.name: c for c in report.checks}
    if report.ok:
        report.status = "valid"
    elif by["format"].ok and by["seal"].ok is False and seal is None and by["shapes"].ok:
        report.status = "unsealed"
    elif not (by["seal"].ok and by["shapes"].ok):
        report.status = "invalid"
    elif by["certificate"].ok is False:
        report.status = "invalid" if seal is not None and seal.chain_status == "invalid" else "unknown-authority"
    elif by["validity_dates"].ok is False:
        report.status = "not-yet-valid" if start is not None and now < start else "expired"
    return report


def summary(credential: dict[str, Any] | None) -> dict[str, Any]:
    """What an EDC says, for the verification page (title, awarding body, learner, level...)."""
    c = credential or {}

    def text(value) -> str:
        if isinstance(value, dict):
            return next((v for v in value.values() if isinstance(v, str)), "")
        if isinstance(value, list):
            return text(value[0]) if value else ""
        return value if isinstance(value, str) else ""

    subject = c.get("credentialSubject") if isinstance(c.get("credentialSubject"), dict) else {}
    claims = subject.get("hasClaim") or []
    claim = claims[0] if isinstance(claims, list) and claims else claims if isinstance(claims, dict) else {}
    spec = claim.get("specifiedBy") if isinstance(claim.get("specifiedBy"), dict) else {}
    issuer = c.get("issuer") if isinstance(c.get("issuer"), dict) else {}
    outcomes = [text(o.get("title")) for o in spec.get("learningOutcome") or [] if isinstance(o, dict)]
    credits = [p.get("point") for p in spec.get("creditPoint") or [] if isinstance(p, dict)]
    eqf = spec.get("eqfLevel") if isinstance(spec.get("eqfLevel"), dict) else {}
    eidas = issuer.get("eIDASIdentifier") if isinstance(issuer.get("eIDASIdentifier"), dict) else {}
    return {"title": text(claim.get("title")) or text((c.get("displayParameter") or {}).get("title")),
            "issuer_name": text(issuer.get("legalName")), "issuer_eidas": eidas.get("notation"),
            "learner": text(subject.get("fullName")), "issued": c.get("issued") or c.get("issuanceDate"),
            "eqf": text(eqf.get("prefLabel")), "credits": ", ".join(str(x) for x in credits if x),
            "workload": spec.get("volumeOfLearning"), "outcomes": [o for o in outcomes if o]}
