from sqlalchemy import func, select

import pytest

from plugin.domain.definition import DefinitionData
from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition, demo_profile
from plugin.issuance.service import IssuanceError
from plugin.signing.did import resolve_verification_method
from plugin.storage.models import (AuditLog, Course, CredentialDefinition, DefinitionVersion, IssuedCredential,
                                   IssuerKey, StatusListSlot)
from plugin.storage.secrets import issuer_key_context
from tests.engine_helpers import add_learner, make_world


def _actions(s):
    return [a for (a,) in s.execute(select(AuditLog.action).order_by(AuditLog.id))]


def test_create_issuer_seals_two_keys_and_audits(services):
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, "univ-x", demo_profile(), actor="cli")
        keys = s.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id)).all()
        assert sorted(k.algorithm for k in keys) == ["Ed25519", "RS256"]
        for k in keys:
            assert k.private_sealed.startswith("kek1:") and b"PRIVATE" not in k.private_sealed.encode()
            assert services.secrets.open(k.private_sealed, issuer_key_context(issuer.id, k.key_id))
        assert _actions(s) == ["issuer.create"]
        with pytest.raises(IssuanceError, match="already exists"):
            issuance.create_issuer(s, services, "univ-x", demo_profile())
        with pytest.raises(IssuanceError, match="slug"):
            issuance.create_issuer(s, services, "Bad Slug!", demo_profile())
        with pytest.raises(IssuanceError, match="Country"):
            issuance.create_issuer(s, services, "nocountry", {"legal_name": "X", "url": "https://x.example"})


def test_definition_versions_only_on_change_and_enable_needs_every_element(services):
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, "univ-y", demo_profile())
        course = Course(platform_issuer="https://lms.example", context_id="c1", title="C1")
        s.add(course)
        s.flush()
        draft = DefinitionData(title="Draft only")
        v1 = issuance.save_definition(s, course, draft, "lti:teacher", issuer)
        assert v1.version == 1
        assert issuance.save_definition(s, course, draft, "lti:teacher", issuer).id == v1.id  # unchanged
        definition = v1.definition
        with pytest.raises(IssuanceError) as err:
            issuance.set_enabled(s, definition, True, actor="lti:teacher")
        for words in ("Learning outcomes", "Workload", "Level", "Type of assessment", "Form of participation",
                      "Quality assurance"):
            assert words in str(err.value)
        v2 = issuance.save_definition(s, course, demo_definition(), "lti:teacher", issuer)
        assert v2.version == 2 and s.get(DefinitionVersion, v1.id).data == draft.to_json()
        issuance.set_enabled(s, definition, True, actor="lti:teacher")
        assert definition.enabled
        with pytest.raises(IssuanceError, match="must stay complete"):
            issuance.save_definition(s, course, draft, "lti:teacher", issuer)
        assert "definition.enable" in _actions(s)


def test_award_is_idempotent_and_signed(services):
    world = make_world(services)
    with services.session() as s:
        cred, created = issuance.award(s, services, definition_id=world.definition_id,
                                       learner_id=world.learner_id, evidence_id=world.evidence_id)
        assert created and cred.status == "active"
        doc = cred.document
        assert doc["id"] == cred.credential_id and doc["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        assert doc["credentialStatus"]["statusListCredential"].startswith("http://tool.test/status/")
        assert cred.jwt.count(".") == 2
        again, created_again = issuance.award(s, services, definition_id=world.definition_id,
                                              learner_id=world.learner_id, evidence_id=world.evidence_id)
        assert not created_again and again.id == cred.id
        assert _actions(s).count("credential.issue") == 1


def test_revoke_then_reaward_is_a_new_credential(services):
    world = make_world(services)
    with services.session() as s:
        first, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                  evidence_id=world.evidence_id)
        with pytest.raises(IssuanceError, match="reason"):
            issuance.revoke(s, first, "", "admin:alice")
        assert issuance.revoke(s, first, "awarded by mistake", "admin:alice")
        with pytest.raises(IssuanceError, match="stays revoked"):
            issuance.suspend(s, first, "x", "admin:alice")
        second, created = issuance.award(s, services, definition_id=world.definition_id,
                                         learner_id=world.learner_id, evidence_id=world.evidence_id)
        assert created and second.id != first.id and second.credential_id != first.credential_id
        assert s.get(IssuedCredential, first.id).status == "revoked"
        slots = s.scalars(select(StatusListSlot).where(StatusListSlot.credential_id.in_([first.id, second.id]))).all()
        assert len({(x.status_list_id, x.index) for x in slots}) == 2


def test_suspend_reinstate_and_reissue(services):
    world = make_world(services)
    with services.session() as s:
        cred, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        assert issuance.suspend(s, cred, "investigation", "admin:alice")
        assert not issuance.suspend(s, cred, "investigation", "admin:alice")  # already suspended
        assert issuance.reinstate(s, cred, "admin:alice") and cred.status == "active"
        with pytest.raises(IssuanceError, match="only a suspended"):
            issuance.reinstate(s, cred, "admin:alice")
        new = issuance.reissue(s, services, cred, display_name="Ada King", actor="lti:ada")
        assert cred.status == "superseded" and new.replaces_id == cred.id and new.status == "active"
        assert new.document["credentialSubject"]["name"] == "Ada King"
        assert "name" not in cred.document["credentialSubject"]  # no consent given for the first one
        assert _actions(s)[-4:] == ["credential.suspend", "credential.reinstate", "credential.supersede",
                                    "credential.issue"]


def test_rotation_keeps_old_keys_in_the_did_document(services):
    world = make_world(services)
    with services.session() as s:
        from plugin.storage.models import Issuer
        issuer = s.get(Issuer, world.issuer_id)
        cred, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        old_vm = cred.document["proof"][0]["verificationMethod"]
        issuance.rotate_keys(s, services, issuer, actor="cli")
        doc = issuance.did_document_for(s, services, issuer)
        assert len(doc["assertionMethod"]) == 4 and old_vm in doc["assertionMethod"]
        assert resolve_verification_method(old_vm, {doc["id"]: doc})[1] == doc["id"]
        retired = s.scalars(select(IssuerKey).where(IssuerKey.retired_at.is_not(None))).all()
        assert len(retired) == 2
        learner2, ev2 = add_learner(s, world.definition_id, sub="learner-2", email="b@example.org")
        cred2, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=learner2,
                                  evidence_id=ev2)
        assert cred2.document["proof"][0]["verificationMethod"] != old_vm
        assert "issuer.keys.rotate" in _actions(s)


def test_award_refuses_a_disabled_definition(services):
    world = make_world(services)
    with services.session() as s:
        definition = s.get(CredentialDefinition, world.definition_id)
        issuance.set_enabled(s, definition, False, actor="test")
        with pytest.raises(IssuanceError, match="not enabled"):
            issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id)
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 0


def test_a_definition_that_cannot_be_signed_is_refused_cleanly(services, monkeypatch):
    world = make_world(services)
    from plugin.issuance import keys as issuer_keys
    from plugin.signing.data_integrity import SigningError

    def refuse(*args, **kwargs):
        raise SigningError("property 'x' is not defined by any @context")
    monkeypatch.setattr(issuer_keys, "sign_data_integrity", refuse)
    with services.session() as s:
        with pytest.raises(IssuanceError, match="not defined by any @context"):
            issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id)
        # Nothing half-made is left behind: no credential, no status slot.
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 0
        assert s.scalar(select(func.count()).select_from(StatusListSlot)) == 0
