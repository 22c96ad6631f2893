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
