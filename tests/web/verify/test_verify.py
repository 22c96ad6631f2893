import json
import re

import pytest

from sqlalchemy import select

from plugin.delivery import baking
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential
from plugin.web.verify import cache as verify_cache

from tests.engine_helpers import make_world


def _issued(services, display_name="Ada King"):
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name=display_name, actor="test")
        return row.public_id, row.document, row.jwt


def test_public_page_html_says_authentic_valid_and_shows_issuer_checks_and_descriptors(client, services):
    public_id, doc, _ = _issued(services)
    page = client.get(f"/verify/{public_id}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'data-authentic="true"' in page.text and 'data-status="valid"' in page.text
    assert '<meta property="og:title"' in page.text and f'content="http://tool.test/verify/{public_id}"' in page.text
    for check in ("format", "issuer_key", "proof", "validity_dates", "status"):
        assert re.search(rf'data-check="{check}">.*?class="ok"', page.text, re.S), check
    assert doc["issuer"]["name"] in page.text
    for key in ("title", "awarding_body", "learning_outcomes", "workload", "level", "assessment",
                "participation", "quality_assurance"):
        assert f'data-key="{key}"' in page.text


def test_public_page_json_for_machines(client, services):
    public_id, doc, _ = _issued(services)
    resp = client.get(f"/verify/{public_id}", headers={"Accept": "application/json"})
    body = resp.get_json()
    assert body["ok"] is True and body["status"] == "valid" and body["authentic"] is True
    assert body["credential"]["id"] == doc["id"]
    assert {c["id"] for c in body["checks"]} >= {"format", "issuer_key", "proof", "status"}


def test_revocation_shows_at_once_despite_the_cache(client, services):
    public_id, _, _ = _issued(services)
    verify_cache.clear()
    assert client.get(f"/verify/{public_id}?format=json").get_json()["status"] == "valid"
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        issuance.revoke(s, row, "fraud", actor="test")
    body = client.get(f"/verify/{public_id}?format=json").get_json()
    assert body["status"] == "revoked" and body["authentic"] is True
    page = client.get(f"/verify/{public_id}")
    assert "Revoked" in page.text


def test_suspended_and_superseded_on_the_page_and_the_api(client, services):
    """Our page and API tell suspended and replaced apart from valid (wallets see 'not revoked')."""
    public_id, doc, jwt = _issued(services)
    verify_cache.clear()
    with services.session() as s:
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        issuance.suspend(s, row, "identity check", actor="test")
    assert client.get(f"/verify/{public_id}?format=json").get_json()["status"] == "suspended"
    assert client.post("/api/verify", data=jwt).get_json()["status"] == "suspended"
    with services.session() as s:
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        new = issuance.reissue(s, services, row, display_name="Ada L.", actor="test")
        new_id = new.public_id
    body = client.get(f"/verify/{public_id}?format=json").get_json()
    assert body["status"] == "superseded" and body["authentic"] is True and body["ok"] is False
    status_check = next(c for c in body["checks"] if c["id"] == "status")
    assert "replaced by a newer version" in status_check["message"] and "not revoked" in status_check["message"]
    api = client.post("/api/verify", data=json.dumps(doc), content_type="application/json").get_json()
    assert api["status"] == "superseded"
    page = client.get(f"/verify/{public_id}")
    assert 'data-status="superseded"' in page.text and "Replaced by a newer version" in page.text
    assert "Revoked" not in page.text
    assert "Remplacée par une version plus récente" in client.get(f"/verify/{public_id}?lang=fr").text
    # the replacement carries the suspension over
    assert client.get(f"/verify/{new_id}?format=json").get_json()["status"] == "suspended"


def test_no_learner_data_beyond_the_credential(client, services):
    public_id, doc, _ = _issued(services, display_name=None)
    page = client.get(f"/verify/{public_id}").text
    assert "Ada Lovelace" not in page and "ada@example.org" not in page


def test_unknown_credential_is_404(client, services):
    assert client.get("/verify/nope").status_code == 404
    assert client.get("/verify/" + "x" * 200).status_code == 404


def test_upload_json_jwt_png_svg_give_the_same_report(client, services):
    public_id, doc, jwt = _issued(services)
    from plugin.delivery import badge_image
    png = baking.bake_png(badge_image.render_png("t", "i"), doc)
    svg = baking.bake_svg(badge_image.render_svg("t", "i"), doc).encode()
    for name, data in (("c.json", json.dumps(doc).encode()), ("c.jwt", jwt.encode()), ("b.png", png),
                       ("b.svg", svg)):
        api = client.post("/api/verify", data=data, content_type="application/octet-stream")
        assert api.status_code == 200 and api.get_json()["status"] == "valid", (name, api.get_json())
        multipart = client.post("/api/verify", data={"file": (__import__("io").BytesIO(data), name)},
                                content_type="multipart/form-data")
        assert multipart.get_json()["status"] == "valid", name


def test_tampered_upload_is_not_authentic(client, services):
    _, doc, _ = _issued(services)
    doc["credentialSubject"]["name"] = "Mallory"
    body = client.post("/api/verify", data=json.dumps(doc)).get_json()
    assert body["authentic"] is False and body["status"] == "invalid"
    client.application.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/verify", data={"text": json.dumps(doc)})
    assert page.status_code == 200 and "Not authentic" in page.text


def test_hostile_and_malformed_uploads_get_a_4xx_with_a_message(client, services, app):
    cases = [b"", b"   ", b"\x89PNG\r\n\x1a\nnot a png", b"<svg><!DOCTYPE x [<!ENTITY a 'b'>]></svg>",
             b"{" * 100000, b"[1,2,3]", b"\xff\xfe\x00garbage", b"a.b.c", "{\"a\": \"\u0000\"}".encode(),
             b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><svg>&lol2;</svg>']
    for data in cases:
        resp = client.post("/api/verify", data=data)
        assert 400 <= resp.status_code < 500, (data[:30], resp.status_code)
        assert resp.get_json()["message"], data[:30]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = client.post("/api/verify", data=b"{" + b" " * 5000 + b"}")
    assert big.status_code == 413


def test_upload_form_is_accessible_and_rejects_garbage_with_a_message(client, services, app):
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.get("/verify")
    assert page.status_code == 200 and 'for="file"' in page.text
    resp = client.post("/verify", data={"text": "hello"})
    assert resp.status_code == 400 and 'id="upload-error"' in resp.text


def test_issuer_page_shows_identity_keys_and_status_lists(client, services):
    _issued(services)
    page = client.get("/issuers/acme/about")
    assert page.status_code == 200
    assert "did:web:" in page.text and "Ed25519" in page.text and "/status/" in page.text
    body = client.get("/issuers/acme/about", headers={"Accept": "application/json"}).get_json()
    assert body["keys"] and body["status_lists"] and body["id"].startswith("did:web:")
    assert client.get("/issuers/nobody/about").status_code == 404
    # the country is named in the page's language from the EU country table, not as a code
    assert "<dd>France</dd>" in page.text and "<dd>FR</dd>" not in page.text


def test_public_page_in_french(client, services):
    public_id, _, _ = _issued(services)
    page = client.get(f"/verify/{public_id}", headers={"Accept-Language": "fr"}).text
    assert '<html lang="fr">' in page and "Authentique" in page and "Valide" in page
    assert "Acquis d" in page and "apprentissage" in page and "Signature" in page


def test_french_pdf(client, services, app):
    from io import BytesIO
    from pypdf import PdfReader
    from tests.web.learner_support import learner_launch
    public_id, _, _ = _issued(services)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        from plugin.storage.models import CredentialDefinition
        world = type("W", (), {"definition_id": row.definition_id, "learner_id": row.learner_id})
    launch = learner_launch(services, world, locale="fr")
    pdf = client.get(f"/learner/credentials/{public_id}/download/pdf?launch={launch}")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages).split())
    assert "Il est certifié que" in text and "Date de délivrance" in text and "Relevé" in text


def test_an_uploaded_credential_cannot_put_a_script_link_on_the_report(client, services, app):
    _, doc, _ = _issued(services)
    doc["issuer"]["url"] = "javascript:fetch('/admin/')"
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/verify", data={"text": json.dumps(doc)})
    assert page.status_code == 200 and "Not authentic" in page.text
    assert "javascript:" not in page.text


def _reissued(services, times=1):
    """An issued credential re-issued ``times`` (a change of name): (old public id, old document, newest row id)."""
    old_id, old_doc, _ = _issued(services)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == old_id)).one()
        for n in range(times):
            row = issuance.reissue(s, services, row, display_name=f"Ada Byron {n}", actor="test")
        return old_id, old_doc, row.public_id


def test_superseded_credential_is_replaced_by_a_newer_version_never_revoked(client, services):
    old_id, _old_doc, new_id = _reissued(services)
    body = client.get(f"/verify/{old_id}?format=json").get_json()
    assert body["status"] == "superseded" and body["authentic"] is True and body["ok"] is False
    assert body["replaced_by"]["id"] == new_id
    assert body["replaced_by"]["verification_url"] == f"http://tool.test/verify/{new_id}"
    status = next(c for c in body["checks"] if c["id"] == "status")
    assert status["state"] == "superseded" and "replaced by a newer version" in status["message"]
    page = client.get(f"/verify/{old_id}", headers={"Accept": "text/html"})
    assert 'data-status="superseded"' in page.text and "Replaced by a newer version" in page.text
    main = page.text.split("<main", 1)[-1]
    # Never called revoked: the only mention says it is not.
    assert "Revoked" not in page.text and main.count("revoked") == main.count("not revoked")
    assert re.search(rf'<a id="replaced-by" href="http://tool.test/verify/{new_id}">', page.text)
    assert re.search(r'data-check="status">.*?class="warn">replaced<', page.text, re.S)
    newer = client.get(f"/verify/{new_id}?format=json").get_json()
    assert newer["status"] == "valid" and "replaced_by" not in newer


def test_superseded_twice_links_to_the_newest_version(client, services):
    old_id, _doc, newest = _reissued(services, times=2)
    assert client.get(f"/verify/{old_id}?format=json").get_json()["replaced_by"]["id"] == newest


def test_an_uploaded_superseded_file_is_shown_replaced_but_a_tampered_one_is_not(client, services):
    old_id, old_doc, new_id = _reissued(services)
    body = client.post("/api/verify", data=json.dumps(old_doc)).get_json()
    assert body["status"] == "superseded" and body["replaced_by"]["id"] == new_id
    old_doc["name"] = "Something else"
    forged = client.post("/api/verify", data=json.dumps(old_doc)).get_json()
    assert forged["status"] == "invalid" and "replaced_by" not in forged


@pytest.mark.parametrize("engine_status, status_ok", [("revoked", False), ("valid", True), ("superseded", False)])
def test_supersession_comes_from_the_database_whatever_the_status_list_says(app, services, engine_status,
                                                                            status_ok):
    """Another engineer changes how status lists encode states: the page must not depend on it."""
    from plugin.web.verify.routes import with_replacement
    old_id, _doc, new_id = _reissued(services)
    report = {"ok": status_ok, "authentic": True, "status": engine_status, "credential": {},
              "checks": [{"id": "proof", "ok": True, "message": "fine"},
                         {"id": "status", "ok": status_ok, "message": f"list says {engine_status}"}]}
    with app.test_request_context("/"):
        from plugin.web.context import db
        row = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == old_id)).one()
        shown = with_replacement(report, row)
        assert shown["status"] == "superseded" and shown["replaced_by"]["id"] == new_id
        assert report["status"] == engine_status  # the cached report is left alone
        assert with_replacement({**report, "authentic": False}, row)["status"] == engine_status
        current = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == new_id)).one()
        assert with_replacement(report, current) is report


def test_replaced_page_in_french(client, services):
    old_id, _doc, _new = _reissued(services)
    page = client.get(f"/verify/{old_id}", headers={"Accept-Language": "fr"}).text
    assert "Remplacée par une version plus récente" in page and "Voir la version plus récente" in page


UNEXPECTED_TYPES = [
    (("issuer", "address", "addressCountryCode"), ["FR"]),
    (("credentialSubject", "result", 0, "resultDescription"), ["x"]),
    (("issuer", "name"), {"en": 3}),
    (("credentialSubject", "achievement", "name"), ["a", "b"]),
    (("credentialSubject", "achievement", "criteria"), "not an object"),
    (("credentialSubject", "achievement"), ["x"]),
    (("issuer",), 42),
    (("credentialSubject",), "x"),
    (("validFrom",), ["2026-01-01"]),
    (("credentialSubject", "achievement", "alignment"), {"targetUrl": 3}),
]


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        if isinstance(key, int):
            target = target[key]
        else:
            target = target.setdefault(key, {} if not isinstance(path[path.index(key) + 1], int) else [{}])
    target[path[-1]] = value


@pytest.mark.parametrize("path, value", UNEXPECTED_TYPES, ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else None)
def test_an_unsigned_file_with_unexpected_types_is_not_a_valid_credential_saying_why(client, services, app, path, value):
    """Issue 11, defect 5: the upload page gave 500 on these; the API gave 200 without saying why."""
    _, doc, _ = _issued(services)
    doc.pop("proof", None)
    _set(doc, path, value)
    field = "/".join(map(str, path))
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/verify", data={"file": (__import__("io").BytesIO(json.dumps(doc).encode()), "c.json")},
                       content_type="multipart/form-data")
    assert page.status_code == 200, page.text[:300]
    assert '<h1 id="cred-title">Not a valid credential</h1>' in page.text
    assert "This file is not a valid credential because its field " in page.text
    shown = re.search(r'data-problem-field="([^"]+)"', page.text).group(1)
    assert field.startswith(shown) or shown.startswith(field), (shown, field)
    assert "What the file claims" not in page.text
    api = client.post("/api/verify", data=json.dumps(doc), content_type="application/json")
    assert api.status_code == 200
    body = api.get_json()
    assert body["authentic"] is False and body["status"] == "invalid"
    assert body["problem"]["field"] == shown
    assert body["problem"]["message"].startswith("This file is not a valid credential because its field " + shown)


def test_the_not_a_valid_credential_page_in_french(client, services, app):
    _, doc, _ = _issued(services)
    doc.pop("proof", None)
    doc["issuer"]["address"] = {"addressCountryCode": ["FR"]}
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/verify?lang=fr", data={"text": json.dumps(doc)})
    assert page.status_code == 200
    assert "Ce fichier n’est pas une certification valide" in page.text
    assert "issuer/address/addressCountryCode" in page.text
