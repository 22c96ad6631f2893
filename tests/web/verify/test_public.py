import json

from plugin.issuance import service as issuance
from plugin.signing.contexts import extension_context_bytes
from plugin.storage.models import IssuedCredential
from plugin.verification.verify import Resolver, verify
from tests.engine_helpers import make_world


def _award(services):
    world = make_world(services)
    with services.session() as s:
        cred, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        return cred.public_id, cred.document, cred.jwt


def _fetch_all(client, document):
    """What a networked verifier would fetch, fetched from the tool itself."""
    issuer = document["issuer"]["id"]
    status_url = document["credentialStatus"]["statusListCredential"]
    path = lambda url: url.replace("http://tool.test", "")  # noqa: E731
    did_doc = client.get("/issuers/acme/did.json")
    status_doc = client.get(path(status_url))
    assert did_doc.status_code == 200 and did_doc.mimetype == "application/did+json"
    assert status_doc.status_code == 200 and status_doc.mimetype == "application/vc+ld+json"
    return {issuer: did_doc.get_json(), status_url: status_doc.get_json()}


def test_served_documents_verify_a_credential(client, services):
    public_id, document, token = _award(services)
    documents = _fetch_all(client, document)
    assert documents[document["issuer"]["id"]]["id"] == document["issuer"]["id"]
    for data in (document, token):
        report = verify(data, Resolver(documents))
        assert report.ok, report.to_dict()
    served = client.get(f"/credentials/{public_id}")
    assert served.status_code == 200 and served.get_json() == document


def test_revocation_shows_in_the_served_status_list(client, services):
    public_id, document, _token = _award(services)
    _fetch_all(client, document)  # caches the signed list
    with services.session() as s:
        cred = issuance.credential_by_any_id(s, public_id)
        issuance.revoke(s, cred, "mistake", "admin:test")
    report = verify(document, Resolver(_fetch_all(client, document)))
    assert report.status == "revoked" and report.failed[0].name == "status"


def test_issuer_profile_is_negotiated(client, services):
    _award(services)
    ld = client.get("/issuers/acme", headers={"Accept": "application/ld+json"})
    assert ld.status_code == 200 and ld.mimetype == "application/ld+json"
    profile = ld.get_json()
    assert profile["id"] == "http://tool.test/issuers/acme" and profile["address"]["addressCountryCode"] == "FR"
    assert any(i["identifier"] == "did:web:tool.test:issuers:acme" for i in profile["otherIdentifier"])
    html = client.get("/issuers/acme", headers={"Accept": "text/html,application/xhtml+xml"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "Université Démo de Lille" in html.get_data(as_text=True)


def test_extension_context_is_served_with_long_cache(client):
    resp = client.get("/contexts/microcred/v1.jsonld")
    assert resp.status_code == 200 and resp.mimetype == "application/ld+json"
    assert resp.data == extension_context_bytes()
    assert "max-age=31536000" in resp.headers["Cache-Control"]
    json.loads(resp.data)


def test_unknown_ids_are_404_json_or_html(client, services):
    for url in ("/issuers/nobody/did.json", "/issuers/nobody", "/status/00000000-0000-0000-0000-000000000000",
                "/credentials/00000000-0000-0000-0000-000000000000", "/credentials/short"):
        api = client.get(url, headers={"Accept": "application/json"})
        assert api.status_code == 404 and api.get_json()["status"] == 404, url
        page = client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 404 and page.mimetype == "text/html", url


def test_achievement_image_points_to_the_served_badge_picture(client, services):
    """Wallets (the Learner Credential Wallet reads achievement.image.id) fetch the picture from
    this URL: a PNG drawn from the signed credential, cacheable, readable from any origin."""
    import io

    from PIL import Image

    from plugin.delivery.badge_image import badge_facts, badge_logo, render_png
    public_id, document, _token = _award(services)
    image = document["credentialSubject"]["achievement"]["image"]
    assert image == {"id": f"http://tool.test/credentials/{public_id}/image.png", "type": "Image",
                     "caption": document["credentialSubject"]["achievement"]["name"]}
    resp = client.get(image["id"].replace("http://tool.test", ""))
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert Image.open(io.BytesIO(resp.data)).size == (720, 720)
    assert resp.data == render_png(*badge_facts(document), logo=badge_logo(document))  # the title, issuer and EQF level of this credential
    assert "public" in resp.headers["Cache-Control"] and "max-age=" in resp.headers["Cache-Control"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*" and resp.headers["ETag"]
    again = client.get(f"/credentials/{public_id}/image.png", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    head = client.head(f"/credentials/{public_id}/image.png")
    assert head.status_code == 200 and head.mimetype == "image/png"
    # The credential, picture included, is still a valid OB 3.0 credential.
    report = verify(document, Resolver(_fetch_all(client, document)))
    assert report.ok and report.check("schema").ok is True, report.to_dict()


def test_badge_picture_of_an_unknown_credential_is_404(client, services):
    for url in ("/credentials/00000000-0000-0000-0000-000000000000/image.png", "/credentials/short/image.png"):
        resp = client.get(url, headers={"Accept": "application/json"})
        assert resp.status_code == 404 and resp.get_json()["status"] == 404, url


def test_issued_credential_and_its_vc_jwt_pass_the_independent_verifiers(client, services, js_verify):
    """digitalbazaar and verifier-core (the Learner Credential Wallet's engine) on the JSON
    credential with its picture; npm jose on the VC-JWT, holding it to OB 3.0 §8.2."""
    from plugin.verification.resolver import documents_for
    public_id, document, token = _award(services)
    with services.session() as s:
        documents = documents_for(s, services, [document])
    di, jwt = js_verify([document, token], documents,
                        jose={"typ": "JWT", "requiredClaims": ["iss", "sub", "jti", "nbf"],
                              "issuer": document["issuer"]["id"],
                              "subject": document["credentialSubject"]["id"]})
    assert di["digitalbazaar"]["verified"] is True, di
    assert di["verifier-core"]["signature"] is True and not di["verifier-core"]["errors"], di
    assert jwt["jose"]["verified"] is True, jwt
    assert set(jwt["jose"]["header"]) == {"alg", "kid", "typ"} and jwt["jose"]["header"]["typ"] == "JWT"
    payload = jwt["jose"]["payload"]
    assert "vc" not in payload and payload["jti"] == document["id"]
    assert payload["credentialSubject"]["achievement"]["image"] == document["credentialSubject"]["achievement"]["image"]
