"""The sandbox's course-passing webhook: the signed token the microcred Open edX plugin
(the separate ``microcred-openedx`` distribution, ``integrations/openedx``) sends on
``COURSE_PASSING_STATUS_UPDATED``, signed here by the sandbox as a stand-in Open edX
platform. Same claims as ``microcred_openedx.tokens.build_passing_token``; the tool's
verifier (:mod:`plugin.evidence.openedx`) accepts both (tests/sandbox, tests/openedx_app).
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwcrypto.jwk import JWK

from plugin.evidence.openedx import EVENT_PASSING


def public_jwk(key: ed25519.Ed25519PrivateKey) -> dict:
    """The public JWK with the RFC 7638 thumbprint as ``kid``, as the plugin publishes it."""
    jwk = json.loads(jwt.get_algorithm_by_name("EdDSA").to_jwk(key.public_key()))
    jwk.update(use="sig", alg="EdDSA", kid=JWK(**jwk).thumbprint())
    return jwk


def passing_token(key: ed25519.Ed25519PrivateKey, *, issuer: str, audience: str, course_key: str,
                  external_id: str, username: str | None = None, percent: float | None = None,
                  letter_grade: str | None = None, lifetime: int = 300) -> str:
    now = int(time.time())
    grade = None if percent is None else {"percent": percent, "letter_grade": letter_grade, "passed": True}
    claims = {"iss": issuer, "aud": audience, "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex,
              "event_type": EVENT_PASSING, "event_time": datetime.now(timezone.utc).isoformat(),
              "data": {"is_passing": True, "course_key": course_key,
                       "user": {"external_id": external_id, "username": username}, "grade": grade}}
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": public_jwk(key)["kid"], "typ": "JWT"})
