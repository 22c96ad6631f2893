"""Sealing European Digital Credentials: own seal (sealed at rest), the EDC Issuer (a stand-in
following its API over real HTTP, with retries and failures shown), Europass sending, and
enabling refused while the EDC would not pass the shapes. SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from plugin.issuance import edc_sealing
from plugin.issuance import service as issuance
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.signing import jades
from plugin.storage.models import CredentialDefinition, EdcSeal, Issuer, IssuerSeal, Job
from tests.edc_issuer_standin import PASSWORD, StandIn
from tests.edc_support import ORG_ID, make_seal
from tests.engine_helpers import add_learner, make_world


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)


def award(services, world, sub=None):
    with services.session() as s:
        learner_id, evidence_id = (world.learner_id, world.evidence_id) if sub is None else \
            add_learner(s, world.definition_id, sub=sub, email=f"{sub}@example.org")
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=learner_id,
                                evidence_id=evidence_id, display_name="Ada Lovelace")
        return row.id


def seal_row(services, credential_id):
    with services.session() as s:
        row = s.scalars(select(EdcSeal).where(EdcSeal.credential_id == credential_id)).one()
        s.expunge(row)
        return row


def run_jobs(services):
    return EmbeddedWorker(services).run_until_empty()


# ------------------------------------------------------------------ own seal
@pytest.mark.parametrize("form", ["pkcs12", "pem"])
def test_own_seal_is_stored_sealed_and_every_new_credential_is_sealed(services, form):
    world = make_world(services)
    m = make_seal("rsa" if form == "pkcs12" else "ec")
    material = (m.pkcs12(b"pw"), "pw", None) if form == "pkcs12" else (m.pem_chain(), "pw", m.pem_key(b"pw"))
    with services.session() as s:
        key, chain = edc_sealing.load_seal_material(*material)
        edc_sealing.set_own_seal(s, services, s.get(Issuer, world.issuer_id), key, chain, actor="admin:t")
    with services.session() as s:
        cfg = s.scalars(select(IssuerSeal)).one()
        assert cfg.mode == "own" and cfg.private_sealed.startswith("kek1:")
        assert b"PRIVATE" not in cfg.private_sealed.encode() and cfg.certificate_chain.count("BEGIN CERTIFICATE") == 2
    credential_id = award(services, world)
    assert seal_row(services, credential_id).status == "pending"
    assert run_jobs(services) >= 1
    row = seal_row(services, credential_id)
    assert row.status == "sealed" and row.mode == "own"
    report = jades.verify(json.loads(row.sealed), anchors=[m.ca])
    assert report.signature_ok and report.trusted
    # The EDC issuer carries the seal certificate's organisation identifier, as the EDC Issuer does.
    assert report.payload["issuer"]["eIDASIdentifier"]["notation"] == ORG_ID


@pytest.mark.parametrize("problem,args", [
    ("check the password", lambda m: (m.pkcs12(b"right"), "wrong", None)),
    ("does not belong", lambda m: (m.pem_chain(), None, make_seal("ec").pem_key())),
    ("private key too", lambda m: (m.pem_chain(), None, None)),
    ("not valid today", lambda m: (make_seal("ec", days=-1).pkcs12(b"x"), "x", None)),
])
def test_unusable_seal_files_are_refused_with_a_reason(problem, args):
    with pytest.raises(edc_sealing.SealConfigError) as exc:
        edc_sealing.load_seal_material(*args(make_seal("ec")))
    assert problem in str(exc.value)


def test_an_unsealed_body_queues_nothing(services):
    world = make_world(services)
    credential_id = award(services, world)
    with services.session() as s:
        assert s.scalars(select(EdcSeal).where(EdcSeal.credential_id == credential_id)).first() is None
        assert not s.scalars(select(Job).where(Job.kind == "edc_seal")).all()


# ------------------------------------------------------------------ the EDC Issuer
def configure_edc_issuer(services, world, url, password=PASSWORD):
    with services.session() as s:
        edc_sealing.set_edc_issuer(s, services, s.get(Issuer, world.issuer_id), url=url, password=password,
                                   token="tok-123", actor="admin:t")


def test_edc_issuer_seals_over_http_with_the_published_request(services, standin):
    world = make_world(services)
    configure_edc_issuer(services, world, standin.url)
    with services.session() as s:
        cfg = s.scalars(select(IssuerSeal)).one()
        assert PASSWORD not in (cfg.edc_issuer_password_sealed or "") and "tok-123" not in cfg.edc_issuer_token_sealed
    credential_id = award(services, world)
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.status == "sealed" and row.mode == "edc_issuer" and row.attempts == 1
    request = standin.requests[-1]
    assert request["path"] == "/api/v1/public/credentials/seal" and request["content_type"] == "multipart/form-data"
    assert request["files"] == ["_file"] and request["password"] == PASSWORD
    assert request["authorization"] == "Bearer tok-123"
    assert request["upload"]["credential"]["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    report = jades.verify(json.loads(row.sealed), anchors=[standin.material.ca])
    sent = request["upload"]["credential"]
    assert report.trusted and report.payload["id"] != sent["id"]  # the EDC Issuer's own id...
    assert report.payload["credentialSubject"] == sent["credentialSubject"]  # ...over our credential


def test_server_errors_are_retried_until_the_seal_succeeds(services, standin, fast_retries):
    world = make_world(services)
    configure_edc_issuer(services, world, standin.url)
    standin.script = [503, 500, 202]  # two failures, then "accepted, not sealed yet", then sealed
    credential_id = award(services, world)
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.status == "sealed" and row.attempts == 4
    assert len([r for r in standin.requests if r["path"].endswith("/seal")]) == 4


def test_a_refused_credential_fails_at_once_and_is_shown_to_the_admin_who_retries(services, standin, fast_retries):
    world = make_world(services)
    configure_edc_issuer(services, world, standin.url, password="not-the-password")
    credential_id = award(services, world)
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.status == "failed" and row.last_http_status == 401 and row.attempts == 1
    assert "refused" in row.last_error and "Invalid certificate password" in row.last_error
    with services.session() as s:
        shown = edc_sealing.problems_for_admin(s)
        assert [r.credential_id for r in shown] == [credential_id]
    configure_edc_issuer(services, world, standin.url)  # the admin fixes the password...
    with services.session() as s:
        edc_sealing.retry(s, services, s.scalars(select(EdcSeal)).one(), actor="admin:t")  # ...and retries
    run_jobs(services)
    assert seal_row(services, credential_id).status == "sealed"


def test_a_seal_that_keeps_failing_ends_failed_never_lost(services, standin, fast_retries):
    world = make_world(services)
    configure_edc_issuer(services, world, standin.url)
    standin.script = [500] * 10
    credential_id = award(services, world)
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.status == "failed" and row.attempts == 6 and row.last_http_status == 500
    with services.session() as s:
        job = s.scalars(select(Job).where(Job.kind == "edc_seal")).one()
        assert job.status == "failed"
        from plugin.issuance.edc import export
        from plugin.storage.models import IssuedCredential
        assert export(s, services, s.get(IssuedCredential, credential_id))["type"][1] == "EuropeanDigitalCredential"


def test_an_unreachable_edc_issuer_is_retried(services, fast_retries):
    world = make_world(services)
    configure_edc_issuer(services, world, "http://127.0.0.1:9")  # nothing listens there
    credential_id = award(services, world)
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.status == "failed" and row.attempts == 6 and "did not answer" in row.last_error


def test_send_to_europass_with_consent(services, standin):
    world = make_world(services)
    configure_edc_issuer(services, world, standin.url)
    credential_id = award(services, world)
    run_jobs(services)
    with services.session() as s:
        from plugin.storage.models import IssuedCredential
        edc_sealing.request_europass(s, services, s.get(IssuedCredential, credential_id), "ada@example.org")
    run_jobs(services)
    row = seal_row(services, credential_id)
    assert row.europass_status == "sent" and row.europass_consent_at is not None
    assert standin.delivered[-1]["address"] == ["ada@example.org"]
    assert standin.requests[-1]["path"] == "/api/v1/public/credentials/seal_and_send"


def test_europass_is_only_offered_through_an_edc_issuer(services):
    world = make_world(services)
    credential_id = award(services, world)
    with services.session() as s:
        from plugin.storage.models import IssuedCredential
        with pytest.raises(edc_sealing.SealConfigError):
            edc_sealing.request_europass(s, services, s.get(IssuedCredential, credential_id), "a@example.org")


def test_seal_batch_client(standin):
    from plugin.delivery.edc_issuer import EdcIssuerClient
    from tests.composition.test_edc import compose
    client = EdcIssuerClient(standin.url, password=PASSWORD)
    texts = client.seal_batch([compose(), compose()])
    assert len(texts) == 2 and all(jades.verify(json.loads(t)).signature_ok for t in texts)


# ------------------------------------------------------------------ enabling
def test_enabling_is_refused_while_the_edc_would_not_pass_the_shapes(services):
    world = make_world(services)
    with services.session() as s:
        issuer = s.get(Issuer, world.issuer_id)
        definition = s.get(CredentialDefinition, world.definition_id)
        issuance.set_enabled(s, definition, False, actor="t")
        profile = dict(issuer.profile, legal_identifiers=[], qa_type=None)
        issuer.profile = profile
        s.flush()
        with pytest.raises(issuance.IssuanceError) as exc:
            issuance.set_enabled(s, definition, True, actor="t")
    text = str(exc.value)
    assert "machine-readable quality-assurance type" in text
    assert "the awarding body" in text and "legal identifier is missing" in text


def test_a_seal_over_another_credential_is_refused(services, standin):
    from plugin.delivery.edc_issuer import EdcIssuerError
    from tests.composition.test_edc import LEARNER, compose
    from plugin.composition.edc import EdcLearner
    sent = compose()
    other = compose(learner=EdcLearner(subject_id="urn:uuid:6b0b5f4e-1111-4222-8333-444455556666",
                                       identifiers=LEARNER.identifiers))
    text = json.dumps(jades.seal(other, standin.material.key, standin.material.chain))
    with pytest.raises(EdcIssuerError, match="another credential"):
        edc_sealing._check_sealed(text, sent)
    edc_sealing._check_sealed(json.dumps(jades.seal(dict(sent, id="urn:credential:x"), standin.material.key,
                                                    standin.material.chain)), sent)
