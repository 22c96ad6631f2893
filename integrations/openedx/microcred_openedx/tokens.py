"""The signed course-passing token the plugin sends, without Django.

Only PyJWT and cryptography; importing this module does not load Django. The tool's side
of the same format is ``plugin/evidence/openedx.py`` (it verifies these tokens) and its
demo sandbox signs the same claims as a stand-in Open edX platform.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import datetime, timezone

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

EVENT_PASSING = "org.openedx.learning.course.passing.status.updated.v1"
MAX_LIFETIME = 600


def algorithm_for(key) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return "ES256"
    raise ValueError("the webhook key must be Ed25519, RSA or EC P-256")


def public_jwk(key, kid: str | None = None) -> dict:
    """The public JWK of a private key, with ``alg``, ``use`` and a ``kid`` (RFC 7638 thumbprint by default)."""
    alg = algorithm_for(key)
    jwk = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(key.public_key()))
    jwk.update({"use": "sig", "alg": alg, "kid": kid or thumbprint(jwk)})
    return jwk


def thumbprint(jwk: dict) -> str:
    required = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def passing_data(*, course_key: str, external_id: str, is_passing: bool = True, username: str | None = None,
                 percent: float | None = None, letter_grade: str | None = None, name: str | None = None,
                 email: str | None = None) -> dict:
    user = {"external_id": external_id, "username": username}
    if name or email:
        user.update(name=name, email=email)
    grade = None if percent is None else {"percent": percent, "letter_grade": letter_grade, "passed": is_passing}
    return {"is_passing": is_passing, "course_key": course_key, "user": user, "grade": grade}


def build_passing_token(key, *, issuer: str, audience: str, data: dict, kid: str | None = None,
                        lifetime: int = 300, now: float | None = None, event_time: datetime | None = None) -> str:
    """Sign one course-passing event for the tool's webhook (``aud`` = the webhook URL)."""
    now = time.time() if now is None else now
    claims = {
        "iss": issuer, "aud": audience, "iat": int(now), "exp": int(now) + min(int(lifetime), MAX_LIFETIME),
        "jti": uuid.uuid4().hex, "event_type": EVENT_PASSING,
        "event_time": (event_time or datetime.now(timezone.utc)).isoformat(), "data": data,
    }
    return jwt.encode(claims, key, algorithm=algorithm_for(key),
                      headers={"kid": kid or public_jwk(key)["kid"], "typ": "JWT"})
