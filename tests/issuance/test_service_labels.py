"""A definition that meets GRADEO, aligned to an RNCP block and an ESCO skill: the issued credential
says so in OB 3.0 alignments, still verifies with digitalbazaar and validates against the OB 3.0 schema."""
from __future__ import annotations

from plugin.domain.frameworks import parse_lines
from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition
from plugin.storage.models import Course, CredentialDefinition
from tests.engine_helpers import make_world

ALIGNED = ("RNCP34826BC01 — Analyser des données\n"
           "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d | manipulate data with pandas")


def _issue(services, *, labels, data=None):
    world = make_world(services)
    with services.session() as s:
        definition = s.get(CredentialDefinition, world.definition_id)
        definition.labels = labels
        data = data or demo_definition().model_copy(update={"framework_alignments": parse_lines(ALIGNED)[0]})
        issuance.save_definition(s, s.get(Course, definition.course_id), data, "test")
        cred, _ = issuance.award(s, services, definition_id=definition.id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        return cred.document, cred.jwt, cred.public_id


def test_gradeo_and_framework_alignments_are_in_the_credential_which_still_verifies(services, js_verify):
    from plugin.verification.resolver import documents_for
    from plugin.verification.schema import load_schema, schema_errors
    document, token, _public_id = _issue(services, labels=["gradeo"])
    alignments = document["credentialSubject"]["achievement"]["alignment"]
    label = next(a for a in alignments if a.get("targetType") == "ext:Label")
    assert label["targetCode"] == "gradeo@1" and "(version 1)" in label["targetName"]
    assert label["targetUrl"] == "http://tool.test/labels/gradeo" and "FUN" in label["targetFramework"]
    block = next(a for a in alignments if a.get("targetType") == "ext:RNCPBlock")
    assert block["targetCode"] == "RNCP34826BC01" and block["targetName"] == "Analyser des données"
    assert any(a.get("targetType") == "ceasn:Competency" and a["targetName"] == "manipulate data with pandas"
               for a in alignments)
    assert schema_errors(document, load_schema()) == []
    with services.session() as s:
        documents = documents_for(s, services, [document])
    di, _jwt = js_verify([document, token], documents)
    assert di["digitalbazaar"]["verified"] is True, di


def test_a_label_the_definition_no_longer_meets_is_not_claimed(services):
    data = demo_definition().model_copy(update={"workload_hours": 30.0})  # GRADEO wants 100 to 150 hours
    document, _token, _public_id = _issue(services, labels=["gradeo"], data=data)
    alignments = document["credentialSubject"]["achievement"].get("alignment", [])
    assert not any(a.get("targetType") == "ext:Label" for a in alignments)


def test_the_label_page_says_what_the_label_requires(client, services):
    body = client.get("/labels/gradeo").get_json()
    assert body["version"] == 1 and any(r["id"] == "study-hours" for r in body["rules"])
    assert client.get("/labels/nope").status_code == 404


def test_the_verification_page_shows_the_labels_mark(client, services):
    _document, _token, public_id = _issue(services, labels=["gradeo"])
    html = client.get(f"/verify/{public_id}").get_data(as_text=True)
    labels = html[html.index('data-key="labels"'):]
    assert "\u2714 GRADEO" in labels[:2000] and 'href="http://tool.test/labels/gradeo"' in labels[:2000]


def test_a_label_body_with_a_key_here_signs_an_endorsement_that_verifies(services, js_verify, app):
    import json

    from plugin.domain.labels import PACKAGE_LABELS
    from plugin.issuance.demo_data import demo_profile
    from plugin.verification.resolver import documents_for
    from plugin.verification.schema import load_schema, schema_errors
    profile = json.loads((PACKAGE_LABELS / "gradeo.json").read_text())
    folder = services.settings.instance_dir / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gradeo.json").write_text(json.dumps({**profile, "endorser": "gradeo-body"}))
    with services.session() as s:
        issuance.create_issuer(s, services, "gradeo-body", demo_profile().model_copy(
            update={"legal_name": "GRADEO label body"}), actor="test")
    document, token, _public_id = _issue(services, labels=["gradeo"])
    achievement = document["credentialSubject"]["achievement"]
    [endorsement] = achievement["endorsement"]
    assert endorsement["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert endorsement["issuer"]["name"] == "GRADEO label body" and endorsement["issuer"]["id"].startswith("did:web:")
    assert endorsement["credentialSubject"]["id"] == achievement["id"]
    assert [p["cryptosuite"] for p in endorsement["proof"]] == ["eddsa-rdfc-2022"]
    assert schema_errors(document, load_schema()) == []
    with services.session() as s:
        documents = documents_for(s, services, [document, endorsement])
    di, _jwt = js_verify([document, token], documents)
    assert di["digitalbazaar"]["verified"] is True, di  # the credential, its endorsement inside
    [alone] = js_verify([endorsement], documents, verifiers=["digitalbazaar"])
    assert alone["digitalbazaar"]["verified"] is True, alone  # the endorsement, by the label body's key
    from plugin.verification.verify import verify
    with app.app_context():  # and the tool's own verification page
        from plugin.web.verify.routes import _resolver
        report = verify(json.dumps(document).encode(), _resolver())
    assert report.ok and report.status == "valid", report.summary()
