"""Helpers for the bridge tests: rows to start from, signing keys, and the award test double."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugin.storage.models import Course, CredentialDefinition, Platform

ISSUER = "https://lms.example.org"
COURSE_KEY = "course-v1:DemoX+MC101+2026"
AUDIENCE = "http://tool.test/api/webhooks/openedx"


class RecordingAward:
    """TEST DOUBLE for the credential engine's ``award``: records each call, issues nothing.

    It answers ``created=True`` only the first time it sees a (definition, learner) pair,
    like the real engine's idempotent ``award``; the lead switches these tests to the
    real engine when the branches merge.
    """

    def __init__(self):
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, session, services, *, definition_id, learner_id, evidence_id=None, display_name=None):
        with self._lock:
            first = not any(c["definition_id"] == definition_id and c["learner_id"] == learner_id for c in self.calls)
            self.calls.append({"definition_id": definition_id, "learner_id": learner_id,
                               "evidence_id": evidence_id, "display_name": display_name})
            return SimpleNamespace(id=len(self.calls), definition_id=definition_id, learner_id=learner_id), first




@dataclass
class SigningKey:
    private: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def public_jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="EdDSA")
        return jwk

    @property
    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    def sign(self, claims: dict, **header) -> str:
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid, **header})


def passing_claims(*, sub="ext-7f3a", username="ada", is_passing=True, percent=0.82, course_key=COURSE_KEY,
                   iss=ISSUER, aud=AUDIENCE, iat=None, lifetime=120, jti=None, **extra) -> dict:
    iat = int(time.time()) if iat is None else iat
    claims = {
        "iss": iss, "aud": aud, "iat": iat, "exp": iat + lifetime, "jti": jti or uuid.uuid4().hex,
        "event_type": "org.openedx.learning.course.passing.status.updated.v1",
        "data": {"is_passing": is_passing, "course_key": course_key,
                 "user": {"external_id": sub, "username": username},
                 "grade": {"percent": percent, "letter_grade": "Pass" if is_passing else None}},
    }
    claims.update(extra)
    return claims


def make_platform(session, *, issuer=ISSUER, client_id="client-1", product="openedx", bridge=None) -> Platform:
    platform = Platform(issuer=issuer, client_id=client_id, product=product, name="Demo LMS",
                        auth_login_url=issuer + "/auth", auth_token_url=issuer + "/token",
                        bridge_settings=bridge or {})
    session.add(platform)
    session.flush()
    return platform


def make_definition(session, *, policy: dict, issuer=ISSUER, context_id=COURSE_KEY, enabled=True,
                    platform_id=None) -> CredentialDefinition:
    course = session.query(Course).filter_by(platform_issuer=issuer, context_id=context_id).one_or_none()
    if course is None:
        course = Course(platform_issuer=issuer, context_id=context_id, title="Micro-credentials 101",
                        platform_id=platform_id)
        session.add(course)
        session.flush()
    definition = CredentialDefinition(course_id=course.id, enabled=enabled, policy=policy)
    session.add(definition)
    session.flush()
    return definition


def make_issued_credential(session, *, definition, learner, status="active", title="Data Literacy"):
    """Minimal engine-shaped rows (issuer, key, version, credential) for delivery and status tests."""
    from plugin.storage.models import DefinitionVersion, IssuedCredential, Issuer, IssuerKey
    issuer = Issuer(slug=f"uni-{uuid.uuid4().hex[:6]}", name="Université Exemple", profile={})
    session.add(issuer)
    session.flush()
    key = IssuerKey(issuer_id=issuer.id, key_id="k1", algorithm="Ed25519", public_jwk={}, private_sealed="x")
    version = DefinitionVersion(definition_id=definition.id, version=1, data={"title": title})
    session.add_all([key, version])
    session.flush()
    credential = IssuedCredential(credential_id=f"urn:uuid:{uuid.uuid4()}", definition_id=definition.id,
                                  definition_version_id=version.id, learner_id=learner.id, issuer_id=issuer.id,
                                  issuer_key_id=key.id, status=status, document={})
    session.add(credential)
    session.flush()
    return credential
