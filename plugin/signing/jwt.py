"""VC-JWT (JOSE) form of a credential, as Open Badges 3.0 describes it.

Header ``{"alg": "RS256" | "EdDSA", "typ": "JWT", "kid": <verification method>}``;
claims ``iss`` (issuer id), ``sub`` (credentialSubject.id), ``jti`` (credential id),
``nbf`` (validFrom), ``exp`` (validUntil, when set), ``iat`` and ``vc`` (the credential,
without a Data Integrity proof). PyJWT signs; jwcrypto checks signatures.
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
    vc = {k: v for k, v in credential.items() if k != "proof"}
    sub = _subject_id(vc)
    if not sub:
        raise JwtError("VC-JWT needs credentialSubject.id (the 'sub' claim)")
    claims: dict[str, Any] = {"iss": _issuer_id(vc), "sub": sub, "jti": vc.get("id"),
                              "nbf": _epoch(vc.get("validFrom")),
                              "iat": int(time.time()) if issued_at is None else issued_at}
    exp = _epoch(vc.get("validUntil"))
    if exp is not None:
        claims["exp"] = exp
    claims["vc"] = vc
    return claims


def sign_vc_jwt(credential: dict[str, Any], key: SigningKey, verification_method: str, *,
                issued_at: int | None = None) -> str:
    """The compact JWS of ``credential`` signed by ``key`` (RS256 for RSA, EdDSA for Ed25519)."""
    alg = "EdDSA" if key.algorithm == ED25519 else "RS256"
    return pyjwt.encode(claims_for(credential, issued_at=issued_at), key.private, algorithm=alg,
                        headers={"typ": "JWT", "kid": verification_method})


@dataclass
class JwtVerificationResult:
    ok: bool
    reason: str = ""
    credential: dict[str, Any] | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    verification_method: str | None = None
    controller: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims without checking anything (to show what a broken token says)."""
    try:
        return pyjwt.get_unverified_header(token), pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError as exc:
        raise JwtError(f"not a compact JWS: {exc}") from None


def verify_vc_jwt(token: str, *, public_key=None, documents: Mapping[str, Any] | None = None,
                  sources: Iterable = (), leeway: int = 60, check_dates: bool = True) -> JwtVerificationResult:
    """Check a VC-JWT: signature by the ``kid`` key, ``nbf``/``exp``, and that ``iss``, ``sub``
    and ``jti`` agree with the embedded credential. Never raises for a bad token.

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
    if not isinstance(claims, dict) or any(c not in claims for c in ("iss", "sub", "vc")):
        return JwtVerificationResult(False, "invalid JWT: the iss, sub and vc claims are required",
                                     verification_method=kid, controller=controller)
    if check_dates:
        now = time.time()
        for name in ("nbf", "exp"):
            if name in claims and not isinstance(claims[name], (int, float)):
                return JwtVerificationResult(False, f"invalid JWT: {name} is not a number", verification_method=kid)
        if "exp" in claims and now > claims["exp"] + leeway:
            return JwtVerificationResult(False, "the credential has expired (exp)", verification_method=kid,
                                         controller=controller)
        if "nbf" in claims and now < claims["nbf"] - leeway:
            return JwtVerificationResult(False, "the credential is not valid yet (nbf)", verification_method=kid,
                                         controller=controller)
    vc = claims.get("vc")
    if not isinstance(vc, dict):
        return JwtVerificationResult(False, "the vc claim is not a credential", claims=claims, verification_method=kid)
    mismatches = [name for name, expected in (("iss", _issuer_id(vc)), ("sub", _subject_id(vc)),
                                              ("jti", vc.get("id")))
                  if (name != "jti" or "jti" in claims) and claims.get(name) != expected]
    if mismatches:
        return JwtVerificationResult(False, "JWT claims disagree with the credential: " + ", ".join(mismatches),
                                     vc, claims, kid, controller)
    return JwtVerificationResult(True, "", vc, claims, kid, controller)
