"""VC-JWT (JOSE) form of a credential, as Open Badges 3.0 §8.2 describes it.

Open Badges 3.0 (1.2, December 2024; the text of our ``context-3.0.3``) §8.2 "JSON Web
Token Proof Format" and W3C *Securing Verifiable Credentials using JOSE and COSE*
(VC-JOSE-COSE) §3.1.1. The form we sign satisfies every MUST of both texts
(``docs/credential-format.md`` "VC-JWT" gives the clause by clause reasoning):

* JOSE header ``{"alg": "RS256" | "EdDSA", "kid": <verification method URL>, "typ": "JWT"}``,
  nothing else (OB 3.0 §8.2.3: ``typ``, if present, MUST be ``JWT``; additional JOSE headers
  are NOT allowed, so no ``cty``);
* JWT payload = the credential itself (without its Data Integrity proof), whose members
  sit at the top level next to the registered claims ``iss`` (issuer.id), ``sub``
  (credentialSubject.id), ``jti`` (id), ``nbf`` (validFrom), ``exp`` (validUntil, when
  set) and ``iat`` (OB 3.0 §8.2.4; VC-JOSE-COSE: no ``vc`` claim).

Tokens signed before this form (the credential inside a ``vc`` claim, VC Data Model 1.1
style) still verify: OB 3.0 §8.2.6 lets verifiers read the credential from ``vc``.

PyJWT signs; jwcrypto checks signatures.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from plugin.signing.keys import ED25519, SigningKey

ALGORITHMS = ("RS256", "EdDSA")
# The registered claim names of RFC 7519 §4.1: in the payload form they sit next to the
# credential's members, and are not part of the credential.
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
# JOSE "typ" values a verifier may meet on a VC-JWT: OB 3.0 ("JWT"), VC-JOSE-COSE ("vc+jwt"),
# and the pre-Recommendation name 1EdTech's draft revision uses ("vc+ld+json+jwt"). Any
# other type (an access token, a presentation...) is another kind of token: refused.
ACCEPTED_TYPES = ("JWT", "vc+jwt", "vc+ld+json+jwt", "application/vc+jwt")

PAYLOAD_FORM = "payload"   # the credential is the JWT payload (OB 3.0 §8.2.4, VC-JOSE-COSE)
VC_CLAIM_FORM = "vc-claim"  # the credential is in the "vc" claim (tokens issued before)


class JwtError(ValueError):
    pass


def parse_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _epoch(value: str | None) -> int | None:
    if not value:
        return None
    return int(parse_datetime(value).timestamp())


def _issuer_id(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _subject_id(credential: dict[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    return subject.get("id") if isinstance(subject, dict) else None


def claims_for(credential: dict[str, Any], *, issued_at: int | None = None) -> dict[str, Any]:
    """The JWT payload: the registered claims, then the credential's members (no proof)."""
    vc = {k: v for k, v in credential.items() if k != "proof"}
    clash = [name for name in REGISTERED_CLAIMS if name in vc]
    if clash:
        raise JwtError(f"the credential has a top-level {clash[0]!r} member, which is a JWT claim name")
    sub = _subject_id(vc)
    if not sub:
        raise JwtError("VC-JWT needs credentialSubject.id (the 'sub' claim)")
    if not vc.get("id"):
        raise JwtError("VC-JWT needs the credential's id (the 'jti' claim)")
    nbf = _epoch(vc.get("validFrom"))
    if nbf is None:
        raise JwtError("VC-JWT needs the credential's validFrom (the 'nbf' claim)")
    claims: dict[str, Any] = {"iss": _issuer_id(vc), "sub": sub, "jti": vc["id"], "nbf": nbf}
    exp = _epoch(vc.get("validUntil"))
    if exp is not None:
        claims["exp"] = exp
    claims["iat"] = int(time.time()) if issued_at is None else issued_at
    claims.update(vc)
    return claims


def credential_of(payload: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The credential a JWT payload carries, and in which form: ``(credential, form)``.

    A ``vc`` claim (tokens signed before the payload form, and VC Data Model 1.1 tokens)
    holds it; otherwise a payload with an ``@context`` *is* the credential, less the
    registered JWT claims. ``(None, None)`` when the payload holds no credential.
    """
    if isinstance(payload.get("vc"), dict):
        return payload["vc"], VC_CLAIM_FORM
    if "@context" in payload:
        return {k: v for k, v in payload.items() if k not in REGISTERED_CLAIMS}, PAYLOAD_FORM
    return None, None


def sign_vc_jwt(credential: dict[str, Any], key: SigningKey, verification_method: str, *,
                issued_at: int | None = None) -> str:
    """The compact JWS of ``credential`` signed by ``key`` (RS256 for RSA, EdDSA for Ed25519)."""
    alg = "EdDSA" if key.algorithm == ED25519 else "RS256"
    return pyjwt.encode(claims_for(credential, issued_at=issued_at), key.private, algorithm=alg,
                        headers={"typ": "JWT", "kid": verification_method})


class VcJwtSigner:
    """:func:`sign_vc_jwt` for many credentials signed by one key (bulk issuance): the same
    token, byte for byte (RS256 and EdDSA signatures are deterministic; a test compares), with
    the header serialised once and none of PyJWT's per-call key preparation and checks."""

    def __init__(self, key: SigningKey, verification_method: str):
        import base64

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        self._b64 = base64.urlsafe_b64encode
        alg = "EdDSA" if key.algorithm == ED25519 else "RS256"
        # PyJWT's header: {"typ": "JWT", "alg": ...} updated with ours, keys sorted, compact.
        header = json.dumps({"typ": "JWT", "alg": alg, "kid": verification_method}, separators=(",", ":"),
                            sort_keys=True).encode()
        self._header = self._b64(header).replace(b"=", b"")
        private = key.private
        if alg == "RS256":
            pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
            self._sign = lambda message: private.sign(message, pkcs1, sha256)
        else:
            self._sign = private.sign

    def sign(self, credential: dict[str, Any], *, issued_at: int | None = None,
             credential_json: str | None = None) -> str:
        """``credential_json``: ``json.dumps(credential, separators=(",", ":"))`` when the caller
        has it already (bulk issuance stores that text): the payload is then the registered
        claims followed by that text, the same bytes as serialising the claims again."""
        claims = claims_for(credential, issued_at=issued_at)
        if credential_json is not None and credential and "proof" not in credential \
                and credential_json.startswith("{") and credential_json.endswith("}"):
            # claims_for put the registered claims first, then every member of the credential
            # (none of which is a registered claim name: it refuses those).
            head = dict(list(claims.items())[:len(claims) - len(credential)])
            text = json.dumps(head, separators=(",", ":"))[:-1] + "," + credential_json[1:]
        else:
            text = json.dumps(claims, separators=(",", ":"))
        payload = text.encode("utf-8")
        signing_input = self._header + b"." + self._b64(payload).replace(b"=", b"")
        return (signing_input + b"." + self._b64(self._sign(signing_input)).replace(b"=", b"")).decode("ascii")


@dataclass
class JwtVerificationResult:
    ok: bool
    reason: str = ""
    credential: dict[str, Any] | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    verification_method: str | None = None
    controller: str | None = None
    form: str | None = None  # PAYLOAD_FORM or VC_CLAIM_FORM

    def __bool__(self) -> bool:
        return self.ok


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims without checking anything (to show what a broken token says)."""
    try:
        return pyjwt.get_unverified_header(token), pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError as exc:
        raise JwtError(f"not a compact JWS: {exc}") from None


def _accepted_type(typ: Any) -> bool:
    """RFC 7515 §4.1.9: media type names compare case-insensitively, ``application/`` may be left out."""
    return isinstance(typ, str) and typ.lower() in {t.lower() for t in ACCEPTED_TYPES}


def _epoch_of(credential: dict[str, Any], name: str) -> int | None | bool:
    """``credential[name]`` as a NumericDate; None when absent, False when malformed."""
    value = credential.get(name)
    if value is None:
        return None
    try:
        return int(parse_datetime(value).timestamp())
    except (TypeError, ValueError, AttributeError):
        return False


def _disagreements(claims: dict[str, Any], vc: dict[str, Any], form: str) -> list[str]:
    """Claims that do not match the credential (OB 3.0 §8.2.6.1)."""
    pairs = [("iss", _issuer_id(vc)), ("sub", _subject_id(vc)), ("jti", vc.get("id"))]
    wrong = [name for name, expected in pairs
             if (name != "jti" or "jti" in claims or form == PAYLOAD_FORM) and claims.get(name) != expected]
    if form == PAYLOAD_FORM:
        for claim, member in (("nbf", "validFrom"), ("exp", "validUntil")):
            expected, got = _epoch_of(vc, member), claims.get(claim)
            if expected is False or (got is None) != (expected is None) or \
                    (got is not None and (isinstance(got, bool) or int(got) != expected)):
                wrong.append(claim)
    return wrong


def verify_vc_jwt(token: str, *, public_key=None, documents: Mapping[str, Any] | None = None,
                  sources: Iterable = (), leeway: int = 60, check_dates: bool = True) -> JwtVerificationResult:
    """Check a VC-JWT: signature by the ``kid`` key, ``nbf``/``exp``, and that ``iss``, ``sub``,
    ``jti`` (and, in the payload form, ``nbf``/``exp``) agree with the credential it carries
    (OB 3.0 §8.2.6). Both forms are read: the credential as the payload, or in a ``vc``
    claim (tokens signed before). Never raises for a bad token.

    The signature is checked with jwcrypto (about 2x faster than PyJWT here, whose
    base64url check walks every character in Python).
    """
    from jwcrypto import jwk as jw_jwk
    from jwcrypto import jws as jw_jws
    from jwcrypto.common import JWException

    from plugin.signing.did import ResolutionError, resolve_verification_method
    from plugin.signing.keys import public_jwk
    if not isinstance(token, str):
        return JwtVerificationResult(False, "not a compact JWS")
    obj = jw_jws.JWS()
    try:
        obj.deserialize(token.strip())
        header = obj.jose_header
    except (JWException, ValueError, TypeError) as exc:
        return JwtVerificationResult(False, f"not a compact JWS: {exc}")
    if not isinstance(header, dict):
        return JwtVerificationResult(False, "not a compact JWS: bad header")
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        return JwtVerificationResult(False, f"algorithm {alg!r} is not accepted (RS256 or EdDSA)")
    if "typ" in header and not _accepted_type(header["typ"]):
        return JwtVerificationResult(False, f"the JWT type {header['typ']!r} is not a verifiable credential "
                                            "(expected JWT or vc+jwt)")
    if not isinstance(kid, str) or not kid:
        return JwtVerificationResult(False, "the JWT header has no kid (verification method)")
    controller = None
    key = public_key
    if key is None:
        try:
            key, controller = resolve_verification_method(kid, documents, sources)
        except (ResolutionError, ValueError) as exc:
            return JwtVerificationResult(False, str(exc), verification_method=kid)
    if (alg == "EdDSA") != isinstance(key, ed25519.Ed25519PublicKey) or \
            (alg == "RS256") != isinstance(key, rsa.RSAPublicKey):
        return JwtVerificationResult(False, f"the key of {kid} does not fit algorithm {alg}", verification_method=kid)
    try:
        obj.verify(jw_jwk.JWK(**public_jwk(key)), alg=alg)
    except JWException:
        return JwtVerificationResult(False, "the JWT signature does not match (changed after signing, or "
                                            "signed by another key)", verification_method=kid, controller=controller)
    try:
        claims = json.loads(obj.payload)
    except (ValueError, TypeError):
        return JwtVerificationResult(False, "the JWT payload is not JSON", verification_method=kid)
    if not isinstance(claims, dict):
        return JwtVerificationResult(False, "the JWT payload is not a JSON object", verification_method=kid)
    vc, form = credential_of(claims)
    if vc is None:
        return JwtVerificationResult(False, "the JWT holds no credential (no vc claim, and the payload is not "
                                            "a credential)", claims=claims, verification_method=kid)
    required = ("iss", "sub") if form == VC_CLAIM_FORM else ("iss", "sub", "jti", "nbf")
    missing = [c for c in required if c not in claims]
    if missing:
        return JwtVerificationResult(False, f"invalid JWT: the {', '.join(missing)} claim"
                                            f"{'s are' if len(missing) > 1 else ' is'} required",
                                     verification_method=kid, controller=controller, form=form)
    for name in ("nbf", "exp", "iat"):
        if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], (int, float))):
            return JwtVerificationResult(False, f"invalid JWT: {name} is not a number", verification_method=kid,
                                         form=form)
    if check_dates:
        now = time.time()
        if "exp" in claims and now > claims["exp"] + leeway:
            return JwtVerificationResult(False, "the credential has expired (exp)", verification_method=kid,
                                         controller=controller, form=form)
        if "nbf" in claims and now < claims["nbf"] - leeway:
            return JwtVerificationResult(False, "the credential is not valid yet (nbf)", verification_method=kid,
                                         controller=controller, form=form)
    mismatches = _disagreements(claims, vc, form)
    if mismatches:
        return JwtVerificationResult(False, "JWT claims disagree with the credential: " + ", ".join(mismatches),
                                     vc, claims, kid, controller, form)
    return JwtVerificationResult(True, "", vc, claims, kid, controller, form)
