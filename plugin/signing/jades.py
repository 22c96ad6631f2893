"""JAdES electronic seals of European Digital Credentials (ETSI TS 119 182-1, baseline B).

A sealed EDC is a JWS in the **JSON serialization** with an **unencoded payload**
(RFC 7797, ``b64: false``): ``{"payload": "<the EDC as JSON text>", "signatures":
[{"protected": ..., "signature": ...}]}``, as the Commission's EDC Issuer writes it (the
sealed Annex I sample in ``tests/fixtures/elm/``). The protected header carries ``alg``,
``typ: jose+json``, ``cty``, ``kid`` (the certificate's issuer and serial number, DER
``IssuerSerial`` in base64, as JAdES asks), ``x5t#S256``, ``x5c`` (the seal certificate
first), ``sigT`` (claimed signing time) and ``crit: ["b64", "sigT"]``.

:func:`seal` makes the seal; :func:`verify` checks one: the signature over
``ASCII(BASE64URL(protected)) || "." || payload``, that ``x5t#S256`` and ``kid`` name the
certificate that signed, the ``crit`` list, and the certificate chain up to the trust
anchors the caller gives (an admin's list): each certificate signed by the next and valid
at the signing time. The certificates in ``x5c`` and in the unsigned ``etsiU`` values
(``xVals``) may complete the path; only an anchor makes it trusted. Timestamps
(``adoTst``, ``sigTst``) are recognised but not checked, nor is revocation (OCSP, CRL):
the report says so.

Hand-written on ``cryptography`` because no maintained Python JOSE library handles
unencoded payloads together with ETSI's critical header parameters and the x509 chain;
tests check every seal made here with two independent implementations (jwcrypto and
npm ``jose``).
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

UNDERSTOOD_CRIT = {"b64", "sigT", "adoTst", "sigTst", "sigD", "sigX5ts", "srCms", "sigPl", "srAts"}
NOT_CHECKED = {"adoTst": "timestamp on the signed data", "sigTst": "signature timestamp"}
OID_QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
OID_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")
# DER of the ETSI QC statement OIDs (EN 319 412-5): QcCompliance, QcType eSeal.
_QC_COMPLIANCE = bytes.fromhex("060604008e460101")
_QC_TYPE_ESEAL = bytes.fromhex("060704008e46010602")
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


class JadesError(ValueError):
    """Not a JAdES document we can read, or a seal that cannot be made (the message says why)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise JadesError("a base64url value is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise JadesError("a base64url value is malformed") from None


# --------------------------------------------------------------------------- DER helpers
def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    out = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(out)]) + out


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=False)
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    while len(raw) > 1 and raw[0] == 0 and not raw[1] & 0x80:
        raw = raw[1:]
    return _der(0x02, raw)


def issuer_serial_kid(cert: x509.Certificate) -> str:
    """JAdES ``kid``: base64 of the DER ``IssuerSerial`` (RFC 5035) of the seal certificate."""
    name = cert.issuer.public_bytes()
    general_names = _der(0x30, _der(0xA4, name))  # GeneralNames { directoryName [4] EXPLICIT Name }
    return base64.b64encode(_der(0x30, general_names + _der_int(cert.serial_number))).decode("ascii")


def x5t_s256(cert: x509.Certificate) -> str:
    return b64url(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


# --------------------------------------------------------------------------- keys
def algorithm_for(key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(key.curve.name) or \
            _raise(f"the seal key's curve {key.curve.name} has no JOSE algorithm")
    raise JadesError("the seal key must be an RSA or an elliptic-curve (P-256, P-384, P-521) key")


def _raise(message: str):
    raise JadesError(message)


def _sign(key, alg: str, data: bytes) -> bytes:
    h = _HASHES[alg[2:]]()
    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), h)
    if alg.startswith("PS"):
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
    size = _EC_SIZES[alg]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _verify_sig(public_key, alg: str, signature: bytes, data: bytes) -> None:
    if alg[:2] not in ("RS", "PS", "ES") or alg[2:] not in _HASHES:
        raise JadesError(f"unsupported signature algorithm {alg!r}")
    h = _HASHES[alg[2:]]()
    if alg.startswith(("RS", "PS")):
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise InvalidSignature()
        pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(mgf=padding.MGF1(h),
                                                                           salt_length=h.digest_size)
        public_key.verify(signature, data, pad, h)
        return
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(signature) != 2 * _EC_SIZES[alg]:
        raise InvalidSignature()
    size = _EC_SIZES[alg]
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
    public_key.verify(der, data, ec.ECDSA(h))


# --------------------------------------------------------------------------- sealing
def payload_text(document: dict[str, Any]) -> str:
    """The EDC as the JSON text that is sealed (compact, UTF-8, key order kept)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def seal(document: dict[str, Any], key, chain: list[x509.Certificate], *,
         signing_time: datetime | None = None) -> dict[str, Any]:
    """A JAdES baseline-B seal of ``document`` by ``key`` (whose certificate is ``chain[0]``)."""
    if not chain:
        raise JadesError("the seal certificate is missing")
    cert = chain[0]
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise JadesError("the seal key does not belong to the seal certificate")
    alg = algorithm_for(key)
    when = (signing_time or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    header = {
        "alg": alg,
        "typ": "jose+json",
        "cty": "octet-stream",
        "kid": issuer_serial_kid(cert),
        "x5t#S256": x5t_s256(cert),
        "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain],
        "sigT": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "b64": False,
        "crit": ["b64", "sigT"],
    }
    protected = b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    payload = payload_text(document)
    signature = _sign(key, alg, protected.encode("ascii") + b"." + payload.encode("utf-8"))
    return {"payload": payload, "signatures": [{"protected": protected, "signature": b64url(signature)}]}


def seal_bytes(sealed: dict[str, Any]) -> bytes:
    """The file a sealed EDC is stored and served as (``<id>.edc.jades.json``)."""
    return json.dumps(sealed, ensure_ascii=False, indent=2).encode("utf-8")


# --------------------------------------------------------------------------- verification
@dataclass
class SealReport:
    signature_ok: bool = False
    signature_message: str = ""
    chain_status: str = "unknown"      # trusted, untrusted (unknown authority), invalid
    chain_message: str = ""
    algorithm: str | None = None
    signing_time: str | None = None
    signer: str | None = None
    organization_identifier: str | None = None
    qualified_claim: bool = False
    eseal_claim: bool = False
    not_checked: list[str] = field(default_factory=list)
    payload: dict[str, Any] | None = None
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return self.chain_status == "trusted"


def is_jades(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("signatures"), list) and "payload" in data \
        or isinstance(data, dict) and "protected" in data and "signature" in data and "payload" in data


def _signatures(data: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(data.get("signatures"), list):
        return data["signatures"]
    return [{k: data[k] for k in ("protected", "header", "signature") if k in data}]  # flattened form


def load_certificates(pem_or_der: bytes) -> list[x509.Certificate]:
    data = pem_or_der.strip()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise JadesError("this is not an X.509 certificate (PEM or DER)") from None


def organization_identifier(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(OID_ORGANIZATION_IDENTIFIER)
    return str(attrs[0].value) if attrs else None


def qc_claims(cert: x509.Certificate) -> tuple[bool, bool]:
    """(QcCompliance, QcType eSeal) as the certificate states them (ETSI EN 319 412-5)."""
    try:
        ext = cert.extensions.get_extension_for_oid(OID_QC_STATEMENTS).value
    except x509.ExtensionNotFound:
        return False, False
    raw = getattr(ext, "value", b"") or b""
    return _QC_COMPLIANCE in raw, _QC_TYPE_ESEAL in raw


def _extra_certificates(signature: dict[str, Any]) -> list[x509.Certificate]:
    """Certificates in the unsigned ``etsiU`` values (``xVals``), to complete a chain."""
    out = []
    header = signature.get("header") if isinstance(signature.get("header"), dict) else {}
    for item in header.get("etsiU") or []:
        try:
            value = json.loads(b64url_decode(item)) if isinstance(item, str) else item
        except (JadesError, ValueError):
            continue
        for x in (value or {}).get("xVals") or [] if isinstance(value, dict) else []:
            der = ((x or {}).get("x509Cert") or {}).get("val") if isinstance(x, dict) else None
            if isinstance(der, str):
                try:
                    out.append(x509.load_der_x509_certificate(base64.b64decode(der)))
                except ValueError:
                    continue
    return out


def _valid_at(cert: x509.Certificate, when: datetime) -> bool:
    return cert.not_valid_before_utc <= when <= cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def check_chain(leaf: x509.Certificate, pool: Iterable[x509.Certificate], anchors: Iterable[x509.Certificate],
                when: datetime) -> tuple[str, str, list[x509.Certificate]]:
    """``(status, message, path)``: ``trusted`` when the path reaches an anchor, every link's
    signature verifies and every certificate was valid at ``when``."""
    anchors = list(anchors)
    pool = [c for c in pool if c != leaf]
    path = [leaf]
    anchor_fps = {c.fingerprint(hashes.SHA256()) for c in anchors}
    for _ in range(10):
        current = path[-1]
        if not _valid_at(current, when):
            return "invalid", (f"the certificate {current.subject.rfc4514_string()} was not valid at the signing "
                               f"time {when.isoformat()}"), path
        if current.fingerprint(hashes.SHA256()) in anchor_fps:
            return "trusted", f"the chain ends at the trust anchor {current.subject.rfc4514_string()}", path
        anchor = next((a for a in anchors if _issued_by(current, a)), None)
        if anchor is not None:
            if not _valid_at(anchor, when):
                return "invalid", f"the trust anchor {anchor.subject.rfc4514_string()} was not valid then", path + [anchor]
            return "trusted", f"issued under the trust anchor {anchor.subject.rfc4514_string()}", path + [anchor]
        if current.issuer == current.subject:
            break  # self-signed, not an anchor
        parent = next((c for c in pool if _issued_by(current, c) and c not in path), None)
        if parent is None:
            if any(c.subject == current.issuer for c in pool):
                return "invalid", (f"the certificate {current.subject.rfc4514_string()} is not validly signed by "
                                   "its issuer"), path
            break
        path.append(parent)
    return "untrusted", ("not a qualified seal we can vouch for: unknown authority (the chain does not lead to a "
                         "trust anchor the administrator configured)"), path


def verify(data: dict[str, Any], *, anchors: Iterable[x509.Certificate] = (),
           now: datetime | None = None) -> SealReport:
    """Check the first signature of a sealed EDC; raises :class:`JadesError` when unreadable."""
    if not is_jades(data):
        raise JadesError("not a JAdES document (a JSON object with payload and signatures)")
    sigs = _signatures(data)
    if not sigs or not isinstance(sigs[0], dict):
        raise JadesError("the document has no signature")
    sig = sigs[0]
    protected_b64 = sig.get("protected")
    try:
        header = json.loads(b64url_decode(protected_b64))
    except ValueError:
        raise JadesError("the protected header is not JSON") from None
    if not isinstance(header, dict):
        raise JadesError("the protected header is not a JSON object")
    report = SealReport(algorithm=header.get("alg"), signing_time=header.get("sigT"))
    payload_member = data.get("payload")
    if not isinstance(payload_member, str):
        raise JadesError("the payload is not a string")
    b64 = header.get("b64", True)
    payload = payload_member.encode("utf-8") if b64 is False else b64url_decode(payload_member)
    try:
        parsed = json.loads(payload)
        report.payload = parsed if isinstance(parsed, dict) else None
    except ValueError:
        report.payload = None
    crit = header.get("crit", [])
    unknown = [c for c in crit if c not in UNDERSTOOD_CRIT] if isinstance(crit, list) else ["crit"]
    missing = [c for c in crit if isinstance(crit, list) and c not in header]
    if b64 is False and "b64" not in (crit or []):
        report.signature_message = "the header sets b64 to false without listing it in crit (RFC 7797)"
        return report
    if unknown or missing:
        report.signature_message = (f"unknown critical header parameter(s): {', '.join(map(str, unknown))}" if unknown
                                    else f"critical header parameter(s) absent: {', '.join(missing)}")
        return report
    report.not_checked = [NOT_CHECKED[c] for c in crit if c in NOT_CHECKED]
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        report.signature_message = "the header has no certificate (x5c)"
        return report
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in x5c]
    except (ValueError, TypeError):
        report.signature_message = "a certificate in x5c cannot be read"
        return report
    leaf = chain[0]
    report.chain = chain
    report.signer = leaf.subject.rfc4514_string()
    report.organization_identifier = organization_identifier(leaf)
    report.qualified_claim, report.eseal_claim = qc_claims(leaf)
    if "x5t#S256" in header and header["x5t#S256"] != x5t_s256(leaf):
        report.signature_message = "x5t#S256 does not match the certificate in x5c"
        return report
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith("MI") and kid != issuer_serial_kid(leaf):
        report.signature_message = "kid (issuer and serial number) does not name the certificate in x5c"
        return report
    try:
        signature = b64url_decode(sig.get("signature"))
        _verify_sig(leaf.public_key(), str(header.get("alg")), signature,
                    protected_b64.encode("ascii") + b"." + payload)
    except InvalidSignature:
        report.signature_message = "the seal does not match the credential: it was changed after sealing"
        return report
    except JadesError as exc:
        report.signature_message = str(exc)
        return report
    report.signature_ok = True
    report.signature_message = f"{header.get('alg')} seal by {report.signer}"
    when = _sig_time(header.get("sigT")) or now or datetime.now(timezone.utc)
    report.chain_status, report.chain_message, report.chain = check_chain(
        leaf, chain[1:] + _extra_certificates(sig), anchors, when)
    return report


def _sig_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None
