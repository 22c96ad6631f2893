"""European Digital Credentials on the web: the learner's downloads and Europass sending, the
admin's sealing and quality-assurance pages, and /verify with EDC files."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from plugin.delivery.access import make_access_token
from plugin.issuance import edc_sealing
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.signing import jades
from plugin.storage.models import EdcSeal, EdcTrustAnchor, IssuedCredential, Issuer, IssuerSeal
from plugin.verification.shacl import validate_edc
from tests.edc_issuer_standin import PASSWORD, StandIn
from tests.edc_support import make_seal
from tests.web.learner_support import csrf_token, story
from tests.web.admin.test_admin import admin_client  # noqa: F401  (fixture)
from tests.web.learner.test_learner import _claim


def claimed(client, services, app):
    st = story(services)
    _claim(client, st)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        public_id, issuer_id = row.public_id, row.issuer_id
    return st, public_id, issuer_id, make_access_token(app.config["SECRET_KEY"], st.learner_public_id)


def test_learner_downloads_the_validated_edc_with_their_access_link(client, services, app):
    st, public_id, _issuer_id, token = claimed(client, services, app)
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert 'id="dl-edc"' in page.text and 'id="edc-unsealed"' in page.text  # the demo issuer does not seal here
    resp = client.get(f"/credentials/{public_id}/edc?access={token}")
    assert resp.status_code == 200 and resp.mimetype == "application/ld+json"
    assert resp.headers["Content-Disposition"].endswith('.edc.json"')
    doc = resp.get_json(force=True)
    assert doc["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"] and validate_edc(doc).conforms
    assert doc["credentialSubject"]["fullName"] == {"en": "Ada King"}
    with services.session() as s:
        ob = s.scalars(select(IssuedCredential)).one().document
    assert doc["identifier"][0]["notation"] == ob["id"]
    assert client.get(f"/credentials/{public_id}/edc?launch={st.launch}").status_code == 200
    assert client.get(f"/credentials/{public_id}/edc/sealed?access={token}").status_code == 404


def test_nobody_else_gets_the_edc(client, services, app):
    _st, public_id, _i, _t = claimed(client, services, app)
    other = make_access_token(app.config["SECRET_KEY"], "someone-else")
    assert client.get(f"/credentials/{public_id}/edc").status_code == 401
    assert client.get(f"/credentials/{public_id}/edc?access={other}").status_code == 401
    assert client.get(f"/credentials/{public_id}/edc?access=forged").status_code == 403


def test_an_edc_that_no_longer_passes_the_shapes_is_not_offered(client, services, app):
    _st, public_id, issuer_id, token = claimed(client, services, app)
    with services.session() as s:
        issuer = s.get(Issuer, issuer_id)
        issuer.profile = dict(issuer.profile, legal_identifiers=[])
    resp = client.get(f"/credentials/{public_id}/edc?access={token}")
    assert resp.status_code == 409 and "legal identifier is missing" in resp.text


def test_own_seal_is_downloadable_at_once(client, services, app):
    _st, public_id, issuer_id, token = claimed(client, services, app)
    m = make_seal()
    with services.session() as s:
        key, chain = edc_sealing.load_seal_material(m.pkcs12(b"pw"), "pw")
        edc_sealing.set_own_seal(s, services, s.get(Issuer, issuer_id), key, chain, actor="t")
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert 'id="dl-edc-sealed"' in page.text and 'id="edc-unsealed"' not in page.text
    resp = client.get(f"/credentials/{public_id}/edc/sealed?access={token}")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].endswith('.edc.jades.json"')
    report = jades.verify(json.loads(resp.data), anchors=[m.ca])
    assert report.signature_ok and report.trusted
    again = client.get(f"/credentials/{public_id}/edc/sealed?access={token}")
    assert again.data == resp.data  # sealed once, stored, served as stored


def test_send_to_my_europass_needs_consent_then_is_queued(client, services, app):
    st, public_id, issuer_id, token = claimed(client, services, app)
    with services.session() as s:
        edc_sealing.set_edc_issuer(s, services, s.get(Issuer, issuer_id), url="https://edci.example", password="p",
                                   token=None, actor="t")
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert 'id="europass-form"' in page.text and "ada@example.org" in page.text
    url = f"/credentials/{public_id}/edc/europass"
    base = {"csrf_token": csrf_token(page.text), "access": token, "address": "ada@example.org"}
    refused = client.post(url, data=base)
    assert refused.status_code == 303
    with services.session() as s:
        assert not s.scalars(select(EdcSeal)).all()  # nothing queued without consent
    client.post(url, data=dict(base, consent="y"))
    with services.session() as s:
        row = s.scalars(select(EdcSeal)).one()
        assert row.europass_status == "queued" and row.europass_address == "ada@example.org"
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert 'id="europass-queued"' in page.text and 'id="europass-form"' not in page.text


# ------------------------------------------------------------------ admin
def test_admin_sets_quality_assurance_and_uploads_a_seal(admin_client, client, services, app):
    claimed(client, services, app)
    with services.session() as s:
        issuer_id = s.scalars(select(Issuer)).one().id
    url = f"/admin/issuers/{issuer_id}/edc"
    page = admin_client.get(url)
    assert page.status_code == 200 and 'id="edc-problems"' in page.text and "verdict-ok" in page.text
    token = csrf_token(page.text)
    resp = admin_client.post(f"{url}/quality", data={"csrf_token": token, "qa_type": "programme-qa",
                                                     "qa_agency": "AQ Agency", "qa_agency_country": "BE",
                                                     "qa_agency_url": "https://aq.example"})
    assert resp.status_code == 303
    with services.session() as s:
        profile = s.get(Issuer, issuer_id).profile
        assert profile["qa_type"] == "programme-qa" and profile["qa_agency_country"] == "BE"
    m = make_seal()
    bad = admin_client.post(f"{url}/seal", data={"csrf_token": token, "mode": "own", "password": "wrong",
                                                 "certificate": (io.BytesIO(m.pkcs12(b"right")), "seal.p12")},
                            content_type="multipart/form-data")
    assert bad.status_code == 400 and "check the password" in bad.text
    ok = admin_client.post(f"{url}/seal", data={"csrf_token": token, "mode": "own", "password": "right",
                                                "certificate": (io.BytesIO(m.pkcs12(b"right")), "seal.p12")},
                           content_type="multipart/form-data")
    assert ok.status_code == 303
    page = admin_client.get(url)
    assert 'id="seal-certificate"' in page.text and "VATFR-12345678901" in page.text
    with services.session() as s:
        assert s.scalars(select(IssuerSeal)).one().mode == "own"


def test_the_issuer_form_keeps_the_edc_quality_assurance(admin_client, services):
    from tests.engine_helpers import make_world
    world = make_world(services)
    page = admin_client.get(f"/admin/issuers/{world.issuer_id}")
    token = csrf_token(page.text)
    with services.session() as s:
        issuer = s.get(Issuer, world.issuer_id)
        p = issuer.profile
    resp = admin_client.post(f"/admin/issuers/{world.issuer_id}", data={
        "csrf_token": token, "name": issuer.name, "slug": issuer.slug, "url": p["url"], "country": "FR",
        "quality_assurance": "Internal QA", "legal_identifiers": "SIREN: 130000000"})
    assert resp.status_code == 302, resp.text
    with services.session() as s:
        assert s.get(Issuer, world.issuer_id).profile["qa_type"] == "institutional-qa"


def test_failed_seal_is_shown_to_the_admin_with_a_retry(admin_client, client, services, app, monkeypatch):
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    standin = StandIn().start()
    try:
        st = story(services)
        with services.session() as s:
            edc_sealing.set_edc_issuer(s, services, s.get(Issuer, st.world.issuer_id), url=standin.url,
                                       password="wrong", token=None, actor="t")
        _claim(client, st)
        EmbeddedWorker(services).run_until_empty()
        page = admin_client.get("/admin/edc")
        row = re.search(r'<tr data-seal="(\d+)" data-status="failed">(.*?)</tr>', page.text, re.S)
        assert row and "HTTP 401" in row.group(2) and "Retry" in row.group(2)
        with services.session() as s:
            edc_sealing.set_edc_issuer(s, services, s.get(Issuer, st.world.issuer_id), url=standin.url,
                                       password=PASSWORD, token=None, actor="t")
        resp = admin_client.post(f"/admin/edc/seals/{row.group(1)}/retry", data={"csrf_token": csrf_token(page.text)})
        assert resp.status_code == 303
        EmbeddedWorker(services).run_until_empty()
        with services.session() as s:
            assert s.scalars(select(EdcSeal)).one().status == "sealed"
        assert 'data-status="failed"' not in admin_client.get("/admin/edc").text
    finally:
        standin.stop()


def test_admin_adds_a_trust_anchor_and_verification_uses_it(admin_client, client, services):
    m = make_seal()
    from tests.composition.test_edc import compose
    sealed = json.dumps(jades.seal(compose(), m.key, m.chain)).encode()
    before = client.post("/api/verify", data=sealed, content_type="application/json").get_json()
    assert before["status"] == "unknown-authority" and before["authentic"] is True
    page = admin_client.get("/admin/edc")
    resp = admin_client.post("/admin/edc/trust", data={"csrf_token": csrf_token(page.text), "name": "Test CA",
                                                       "certificate": (io.BytesIO(m.ca_pem()), "ca.pem")},
                             content_type="multipart/form-data")
    assert resp.status_code == 303
    with services.session() as s:
        assert s.scalars(select(EdcTrustAnchor)).one().name == "Test CA"
    after = client.post("/api/verify", data=sealed, content_type="application/json").get_json()
    assert after["status"] == "valid" and after["ok"]
    bad = admin_client.post("/admin/edc/trust", data={"csrf_token": csrf_token(page.text),
                                                      "certificate": (io.BytesIO(b"not a cert"), "x.pem")},
                            content_type="multipart/form-data")
    assert bad.status_code == 400 and "not a certificate" in bad.text


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_verify_page_shows_an_edc_report(client, lang):
    from tests.conftest import FIXTURES
    sample = (FIXTURES / "elm" / "Sample-MC-Annex1-signed.jsonld").read_bytes()
    form = client.get(f"/verify?lang={lang}")
    page = client.post(f"/verify?lang={lang}", data={"csrf_token": csrf_token(form.text),
                                                      "file": (io.BytesIO(sample), "sample.jsonld")},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and 'data-status="unknown-authority"' in page.text
    assert 'data-check="seal"' in page.text and "Digital micro-credential creation" in page.text
    if lang == "fr":
        assert "Cachet électronique" in page.text and "Scellée, par une autorité inconnue" in page.text


def test_a_revoked_credential_gets_no_edc(client, services, app):
    from plugin.issuance import service as issuance
    _st, public_id, _issuer_id, token = claimed(client, services, app)
    with services.session() as s:
        issuance.revoke(s, s.scalars(select(IssuedCredential)).one(), "fraud", "admin:t")
    resp = client.get(f"/credentials/{public_id}/edc?access={token}")
    assert resp.status_code == 409 and "no longer valid" in resp.text
