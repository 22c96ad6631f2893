"""Re-issuing legacy-entry credentials (``microcred status migrate``): same content, new entry."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from plugin.issuance import service as issuance
from plugin.issuance.migrate import migrate
from plugin.issuance.service import IssuanceError
from plugin.storage.models import AuditLog, IssuedCredential
from plugin.verification.resolver import tool_resolver
from plugin.verification.verify import verify
from tests.engine_helpers import add_learner, make_world
from tests.status.legacy import award_legacy


def _legacy(s, services, world, sub):
    learner, ev = add_learner(s, world.definition_id, sub=sub, email=f"{sub}@example.org")
    return award_legacy(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]


def _strip(doc):
    return {k: v for k, v in doc.items() if k not in ("id", "credentialStatus", "proof")}


def test_migrate_reissues_current_legacy_credentials_with_the_same_content(services):
    world = make_world(services)
    other = make_world(services, slug="other", learner_sub="learner-other")
    with services.session() as s:
        active = _legacy(s, services, world, "a")
        active.claimed_at = datetime(2026, 5, 3, tzinfo=timezone.utc)
        suspended = _legacy(s, services, world, "s")
        issuance.suspend(s, suspended, "identity check", "admin")
        revoked = _legacy(s, services, world, "r")
        issuance.revoke(s, revoked, "fraud", "admin")
        elsewhere = _legacy(s, services, other, "o")
        learner, ev = add_learner(s, world.definition_id, sub="n", email="n@example.org")
        modern = issuance.award(s, services, definition_id=world.definition_id, learner_id=learner,
                                evidence_id=ev)[0]
        ids = {k: c.id for k, c in dict(active=active, suspended=suspended, revoked=revoked,
                                        elsewhere=elsewhere, modern=modern).items()}

    plan = migrate(services, issuer_slug="acme", dry_run=True)
    assert plan.total == 2 and dict(plan.by_issuer["acme"]) == {"active": 1, "suspended": 1}
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 5  # nothing changed
        assert s.get(IssuedCredential, ids["active"]).status == "active"

    done = migrate(services, issuer_slug="acme")
    assert done.total == 2 and len(done.replaced) == 2
    resolver = tool_resolver(services)
    with services.session() as s:
        old = s.get(IssuedCredential, ids["active"])
        new = s.scalars(select(IssuedCredential).where(IssuedCredential.replaces_id == old.id)).one()
        assert old.status == "superseded" and new.status == "active"
        assert _strip(new.document) == _strip(old.document)  # every claim, dates, subject, evidence
        assert new.document["credentialStatus"]["statusPurpose"] == "revocation"
        assert (new.learner_id, new.definition_version_id, new.evidence_id, new.issued_at, new.claimed_at) == \
            (old.learner_id, old.definition_version_id, old.evidence_id, old.issued_at, old.claimed_at)
        # the learner's current credential is the new one
        assert issuance.current_credential(s, old.definition_id, old.learner_id).id == new.id
        old_s = s.get(IssuedCredential, ids["suspended"])
        new_s = s.scalars(select(IssuedCredential).where(IssuedCredential.replaces_id == old_s.id)).one()
        assert (old_s.status, new_s.status, new_s.status_reason) == ("superseded", "suspended", "identity check")
        assert s.get(IssuedCredential, ids["revoked"]).status == "revoked"  # left alone
        assert s.get(IssuedCredential, ids["elsewhere"]).status == "active"  # another issuer
        assert s.get(IssuedCredential, ids["modern"]).status == "active"
        documents = {name: s.get(IssuedCredential, i).document for name, i in ids.items()}
        documents.update(new=new.document, new_suspended=new_s.document, new_jwt=new.jwt)
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "status.migrate")) == 1

    expected = {"active": "superseded", "suspended": "superseded", "revoked": "revoked", "elsewhere": "valid",
                "modern": "valid", "new": "valid", "new_suspended": "suspended", "new_jwt": "valid"}
    for name, doc in documents.items():
        report = verify(doc, resolver)
        assert report.status == expected[name], (name, report.to_dict())

    assert migrate(services, issuer_slug="acme").total == 0  # idempotent
    assert migrate(services).total == 1  # the other issuer's credential


def test_migrate_refuses_an_unknown_issuer(services):
    make_world(services)
    with pytest.raises(IssuanceError, match="no issuer 'nobody'"):
        migrate(services, issuer_slug="nobody", dry_run=True)
