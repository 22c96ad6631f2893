"""Helpers for the bridge tests: rows to start from, signing keys, and what the real engine issued."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugin.storage.models import Course, CredentialDefinition, Platform

ISSUER = "https://lms.example.org"
COURSE_KEY = "course-v1:DemoX+MC101+2026"
AUDIENCE = "http://tool.test/api/webhooks/openedx"


class Issued:
    """What the real credential engine issued, read back from the database."""

    def __init__(self, services):
        self.services = services

    def all(self) -> list[dict]:
        from sqlalchemy import select

        from plugin.storage.models import IssuedCredential
        with self.services.session() as s:
            return [{"id": c.id, "public_id": c.public_id, "definition_id": c.definition_id,
                     "learner_id": c.learner_id, "evidence_id": c.evidence_id, "status": c.status,
                     "display_name": c.display_name, "document": c.document, "jwt": c.jwt}
                    for c in s.scalars(select(IssuedCredential).order_by(IssuedCredential.id))]

    def verify(self, credential: dict):
        """Verification reports of the credential's JSON and JWT forms, against the tool's database."""
        from plugin.verification.resolver import tool_resolver
        from plugin.verification.verify import verify
        resolver = tool_resolver(self.services)
        return verify(credential["document"], resolver), verify(credential["jwt"], resolver)


TEST_ISSUER_SLUG = "bridges-test-university"


def engine_issuer(session, services):
    """The awarding body of the bridge tests (created once per database, with real keys)."""
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import demo_profile
    return issuance.issuer_by_slug(session, TEST_ISSUER_SLUG) or issuance.create_issuer(
        session, services, TEST_ISSUER_SLUG, demo_profile(), actor="test")


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
                    platform_id=None, services=None) -> CredentialDefinition:
    """A course credential under ``policy``.

    With ``services`` it is a complete definition the real engine can award (the demo's
    Annex I content, an issuer with keys), enabled through the engine's own checks;
    without, a bare row for tests that never issue.
    """
    course = session.query(Course).filter_by(platform_issuer=issuer, context_id=context_id).one_or_none()
    if course is None:
        course = Course(platform_issuer=issuer, context_id=context_id, title="Micro-credentials 101",
                        platform_id=platform_id)
        session.add(course)
        session.flush()
    if services is None:
        definition = CredentialDefinition(course_id=course.id, enabled=enabled, policy=policy)
        session.add(definition)
        session.flush()
        return definition
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import demo_definition
    the_issuer = engine_issuer(session, services)
    definition = CredentialDefinition(course_id=course.id, issuer_id=the_issuer.id, enabled=False,
                                      current_version=0, policy=policy)
    session.add(definition)
    session.flush()
    issuance.save_definition(session, course, demo_definition(), "test", the_issuer, definition=definition)
    if enabled:
        issuance.set_enabled(session, definition, True, actor="test")
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
