import json
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from plugin.storage.models import IssuedCredential

from tests.delivery.test_didauth import signed_vp
from tests.web.learner_support import csrf_token
from tests.web.learner.test_learner import _claimed


def _exchange_url(client, services, app):
    st, public_id = _claimed(client, services)
    page = client.get(f"/learner/credentials/{public_id}?launch={st.launch}")
    resp = client.post(f"/learner/credentials/{public_id}/wallet?launch={st.launch}",
                       data={"csrf_token": csrf_token(page.text)})
    assert resp.status_code == 200 and 'id="wallet-qr"' in resp.text
    link = resp.text.split('id="wallet-link"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith("https://lcw.app/request?request=")
    request = json.loads(parse_qs(urlsplit(link).query)["request"][0])
    assert request["credentialRequestOrigin"] == "http://tool.test"
    return public_id, urlsplit(request["protocols"]["vcapi"]).path


def test_wallet_exchange_gives_the_credential_once_to_a_did_that_proves_itself(client, services, app):
    public_id, path = _exchange_url(client, services, app)
    first = client.post(path, json={})
    vpr = first.get_json()["verifiablePresentationRequest"]
    assert vpr["query"][0]["type"] == "DIDAuthentication" and vpr["domain"] == "tool.test"
    vp, did = signed_vp(Ed25519PrivateKey.generate(), challenge=vpr["challenge"], domain=vpr["domain"])
    second = client.post(path, json={"verifiablePresentation": vp})
    assert second.status_code == 200, second.get_json()
    creds = second.get_json()["verifiablePresentation"]["verifiableCredential"]
    with services.session() as s:
        assert creds == [s.scalars(select(IssuedCredential)).one().document]
    assert client.post(path, json={"verifiablePresentation": vp}).status_code == 410


def test_wrong_challenge_or_forged_signature_gets_nothing(client, services, app):
    _, path = _exchange_url(client, services, app)
    vpr = client.post(path, json={}).get_json()["verifiablePresentationRequest"]
    stale, _ = signed_vp(Ed25519PrivateKey.generate(), challenge="old", domain=vpr["domain"])
    assert client.post(path, json={"verifiablePresentation": stale}).status_code == 401
    forged, _ = signed_vp(Ed25519PrivateKey.generate(), challenge=vpr["challenge"], domain=vpr["domain"])
    forged["proof"]["proofValue"] = "z" + "1" * 86
    resp = client.post(path, json={"verifiablePresentation": forged})
    assert resp.status_code == 401 and "verifiableCredential" not in resp.text
    assert client.post(path, data="not json", content_type="application/json").status_code == 400
    assert client.post("/api/exchanges/unknown", json={}).status_code == 404


def test_a_body_that_is_not_strict_json_is_a_400_saying_why(client, services, app):
    """Issue 11, defect 11: Flask's reader took NaN and Infinity; deep nesting raised RecursionError."""
    _, path = _exchange_url(client, services, app)
    for body, why in (('{"verifiablePresentation": NaN}', "NaN is not a JSON number"),
                      ('{"verifiablePresentation": {"proof": Infinity}}', "Infinity is not a JSON number"),
                      ('{"verifiablePresentation": ' + "[" * 3000 + "]" * 3000 + "}", "nested deeper than 64 levels")):
        resp = client.post(path, data=body, content_type="application/json")
        assert resp.status_code == 400, body[:40]
        assert why in resp.get_json()["message"]
    assert client.post(path, json={}).status_code == 200  # the exchange is still there
