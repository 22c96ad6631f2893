"""OpenID4VCI 1.0 against `microcred serve` on loopback: a wallet written from the spec
(tests/delivery/oid4vci_wallet.py: requests + jwcrypto) receives each format; the copy
verifies with our verifier and digitalbazaar; every error case gets its specified code;
revoking the learner's credential shows in every wallet copy."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select, update

from tests.delivery.oid4vci_wallet import PRE_AUTH, Wallet, parse_offer
from tests.web.oid4vci_support import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory):
    from tests import conftest
    url = name = None
    if request.param == "postgresql":
        if not conftest._pg_available():
            if conftest.REQUIRE_PG:
                pytest.fail("MICROCRED_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable")
            pytest.skip("PostgreSQL not reachable")
        url, name = conftest._fresh_pg_database()
    srv = start_server(tmp_path_factory.mktemp("oid4vci"), url)
    yield srv
    stop_server(srv)
    if name:
        conftest._drop_pg_database(name)


def _verify_ours(server, credential):
    from plugin.verification.verify import Resolver, verify
    document = credential if isinstance(credential, dict) else _jwt_payload(credential)
    return verify(credential, Resolver(server.documents(document)))


def _jwt_payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _learner_document(server, public_id):
    from plugin.issuance.service import credential_by_any_id
    with server.services.session() as s:
        return credential_by_any_id(s, public_id).document


# --------------------------------------------------------------------------- metadata
def test_each_awarding_body_publishes_issuer_and_authorization_server_metadata(server):
    issuer = f"{server.base}/oid4vci/acme"
    meta = requests.get(f"{server.base}/.well-known/openid-credential-issuer/oid4vci/acme", timeout=10)
    assert meta.status_code == 200 and meta.headers["Access-Control-Allow-Origin"] == "*"
    body = meta.json()
    assert body["credential_issuer"] == issuer
    assert body["credential_endpoint"] == f"{issuer}/credential" and body["nonce_endpoint"] == f"{issuer}/nonce"
    assert body["display"][0]["name"] == "Université Démo de Lille"
    formats = sorted(c["format"] for c in body["credential_configurations_supported"].values())
    assert formats == ["dc+sd-jwt", "jwt_vc_json", "ldp_vc"]
    for conf in body["credential_configurations_supported"].values():
        assert conf["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
        assert conf["credential_metadata"]["display"][0]["name"] == "Data Analysis for Public Policy"
    asm = requests.get(f"{server.base}/.well-known/oauth-authorization-server/oid4vci/acme", timeout=10).json()
    assert asm["issuer"] == issuer and asm["token_endpoint"] == f"{issuer}/token"
    assert asm["pre-authorized_grant_anonymous_access_supported"] is True
    assert requests.get(f"{server.base}/.well-known/openid-credential-issuer/oid4vci/nobody",
                        timeout=10).status_code == 404


def test_the_offer_command_names_what_is_wrong_in_one_line(server):
    unknown = server.cli("offer", "no-such-credential")
    assert unknown.returncode != 0 and "no credential 'no-such-credential'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    bad = server.cli("offer", server.new_credential("cli-format"), "--format", "mdoc")
    assert bad.returncode != 0 and "mdoc" in bad.stderr


# --------------------------------------------------------------------------- each format
@pytest.mark.parametrize("fmt,binding,alg", [("ldp_vc", "did:key", "EdDSA"), ("jwt_vc_json", "jwk", "ES256")])
def test_a_wallet_receives_a_holder_bound_copy_that_verifies(server, fmt, binding, alg, js_verify):
    public_id = server.new_credential(f"fmt-{fmt}")
    run = server.cli("offer", public_id, "--format", fmt)
    assert run.returncode == 0, run.stderr
    uri = run.stdout.strip()
    assert uri.startswith("openid-credential-offer://?credential_offer=") and "expires" in run.stderr
    wallet = Wallet(binding=binding, alg=alg)
    credential = wallet.receive(uri)
    learner = _learner_document(server, public_id)
    document = credential if fmt == "ldp_vc" else _jwt_payload(credential)
    assert document["credentialSubject"]["id"] == wallet.did  # holder binding
    assert document["id"] != learner["id"] and document["id"].startswith("urn:uuid:")
    assert document["credentialStatus"] == learner["credentialStatus"]  # one status entry for every form
    assert document["credentialSubject"]["achievement"] == learner["credentialSubject"]["achievement"]
    report = _verify_ours(server, credential)
    assert report.ok and report.status == "valid", report.to_dict()
    (result,) = js_verify([credential], server.documents(document),
                          verifiers=("digitalbazaar",) if fmt == "ldp_vc" else ("jose",))
    if fmt == "ldp_vc":
        assert result["digitalbazaar"]["verified"] is True, result
    else:
        assert result["jose"]["verified"] is True and result["jose"]["payload"]["sub"] == wallet.did, result


# --------------------------------------------------------------------------- the learner's page
def _learner_page(server, public_id):
    """The learner's credential page over HTTP (the e-mailed access link), in a browser-like session."""
    from plugin.delivery.access import make_access_token
    from plugin.issuance.service import credential_by_any_id
    with server.services.session() as s:
        learner = credential_by_any_id(s, public_id).learner.public_id
    access = make_access_token(server.env["MICROCRED_SECRET_KEY"], learner)
    http = requests.Session()
    page = http.get(f"{server.base}/learner/credentials/{public_id}", params={"access": access}, timeout=10)
    assert page.status_code == 200 and 'id="eu-wallet"' in page.text, page.text[-500:]
    return http, page, access


def _offer_page(server, public_id, data):
    import html
    import re
    from tests.web.learner_support import csrf_token
    http, page, access = _learner_page(server, public_id)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"[^>]*id="eu-wallet-form"', page.text).group(1))
    resp = http.post(server.base + action, data={"csrf_token": csrf_token(page.text), **data}, timeout=30)
    assert resp.status_code == 200, resp.text[-800:]
    link = html.unescape(re.search(r'href="([^"]+)" id="eu-wallet-link"', resp.text).group(1))
    state_url = html.unescape(re.search(r'data-url="([^"]+)"', resp.text).group(1))
    return http, resp, link, state_url


def test_the_learner_page_offers_a_qr_code_and_the_wallet_receives_through_it(server):
    import html
    import re
    import segno
    public_id = server.new_credential("page")
    http, resp, link, state_url = _offer_page(server, public_id, {"format": "ldp_vc"})
    assert link.startswith("openid-credential-offer://?credential_offer=")
    qr = html.unescape(re.search(r'src="([^"]+)"', resp.text.split('id="eu-wallet-qr"')[0].rsplit("<img", 1)[1]).group(1))
    assert qr == segno.make(link, error="l").svg_data_uri(scale=4, border=2)  # the QR code holds this offer
    assert re.search(r"until \d\d:\d\d", resp.text) and "Waiting for your wallet" in resp.text
    state = http.get(server.base + state_url, headers={"Accept": "application/json"}, timeout=10).json()
    assert state["state"] == "waiting"
    wallet = Wallet(binding="did:key")
    credential = wallet.receive(link)
    assert credential["credentialSubject"]["id"] == wallet.did
    state = http.get(server.base + state_url, headers={"Accept": "application/json"}, timeout=10).json()
    assert state == {"state": "received", "text": "Received by your wallet."}
    assert "Received by your wallet." in http.get(server.base + state_url, timeout=10).text
    # Somebody else's offer state is not there for the asking.
    assert requests.get(server.base + state_url.split("?")[0], headers={"Accept": "application/json"},
                        timeout=10).status_code in (401, 404)


def test_the_transaction_code_goes_by_e_mail_never_on_the_page(server):
    import email
    import re
    from pathlib import Path
    public_id = server.new_credential("page-tx")
    mail_dir = Path(server.env["MICROCRED_INSTANCE_DIR"]) / "mail"
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()
    http, resp, link, _state = _offer_page(server, public_id, {"format": "dc+sd-jwt", "tx_code": "1"})
    (sent,) = set(mail_dir.glob("*.eml")) - before
    message = email.message_from_bytes(sent.read_bytes())
    assert message["To"] == "page-tx@example.org"
    code = re.search(r"\b(\d{6})\b", message.get_payload(decode=True).decode()).group(1)
    assert code not in resp.text and "page-tx@example.org" in resp.text
    assert parse_offer(link)["grants"][PRE_AUTH]["tx_code"]["length"] == 6
    issued = Wallet(alg="ES256").receive(link, tx_code=code)
    assert _jwt_payload(issued.split("~")[0])["vct"].endswith("/oid4vci/vct/microcredential/1")


# --------------------------------------------------------------------------- SD-JWT VC
def _issuer_key(server, iss: str, header: dict):
    """The SD-JWT VC issuer's key, from its JWT VC Issuer Metadata (fetched over HTTP)."""
    from jwcrypto import jwk
    from tests.delivery.oid4vci_wallet import well_known
    keys = requests.get(well_known(iss, "jwt-vc-issuer"), timeout=10).json()["jwks"]["keys"]
    (found,) = [k for k in keys if k["kid"] == header["kid"]]
    return jwk.JWK(**found)


def _token_status(server, status: dict, iss: str) -> int:
    import zlib
    from jwcrypto import jws
    resp = requests.get(status["status_list"]["uri"], timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/statuslist+jwt"
    token = jws.JWS()
    token.deserialize(resp.text)
    assert token.jose_header["typ"] == "statuslist+jwt"
    token.verify(_issuer_key(server, iss, token.jose_header), alg="EdDSA")
    claims = json.loads(token.payload)
    assert claims["sub"] == status["status_list"]["uri"] and claims["status_list"]["bits"] == 2
    lst = claims["status_list"]["lst"]
    raw = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    idx = status["status_list"]["idx"]
    return (raw[idx // 4] >> (2 * (idx % 4))) & 3  # 0 valid, 1 invalid, 2 suspended


def test_sd_jwt_vc_with_selective_disclosure_and_key_binding(server):
    from jwcrypto import jwk
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.verifier import SDJWTVerifier
    public_id = server.new_credential("sd-jwt", birthdate="2001-02-03")
    wallet = Wallet(binding="jwk", alg="ES256")
    issued = wallet.receive(server.offer(public_id, "dc+sd-jwt")[0])
    jwt_part, *disclosures = issued.split("~")
    assert issued.endswith("~") and len([d for d in disclosures if d]) >= 3
    header = json.loads(base64.urlsafe_b64decode(jwt_part.split(".")[0] + "=="))
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "EdDSA"
    claims = _jwt_payload(jwt_part)
    assert claims["cnf"]["jwk"] == wallet.public  # key binding to the wallet's proof key
    assert claims["iss"] == f"{server.base}/oid4vci/acme"
    for hidden in ("name", "birthdate", "grade"):
        assert hidden not in claims["credentialSubject"]  # only as digests
    assert claims["credentialSubject"]["achievement"]["name"] == "Data Analysis for Public Policy"
    assert claims["annex_i"]["awarding_body"] and claims["annex_i"]["learning_outcomes"]
    vct = requests.get(claims["vct"], timeout=10)
    assert vct.status_code == 200 and vct.json()["vct"] == claims["vct"]
    assert vct.json()["extends"] == "urn:eudi:micro_credential:1"
    assert {tuple(c["path"]) for c in vct.json()["claims"] if c.get("sd") == "always"} == {
        ("credentialSubject", "name"), ("credentialSubject", "birthdate"), ("credentialSubject", "grade")}
    # The holder shows name and grade, not the date of birth, bound to a verifier's nonce.
    holder = SDJWTHolder(issued)
    holder.create_presentation({"credentialSubject": {"name": True, "grade": True}}, nonce="n-123",
                               aud="https://verifier.example", holder_key=wallet.key, sign_alg="ES256")
    verified = SDJWTVerifier(holder.sd_jwt_presentation, lambda iss, h: _issuer_key(server, iss, h),
                             expected_aud="https://verifier.example", expected_nonce="n-123").get_verified_payload()
    assert verified["credentialSubject"]["name"] == "Ada Lovelace"
    assert verified["credentialSubject"]["grade"] == "82/100"
    assert "birthdate" not in verified["credentialSubject"]
    everything = SDJWTHolder(issued)
    everything.create_presentation({"credentialSubject": {"name": True, "grade": True, "birthdate": True}},
                                   nonce="n-2", aud="https://verifier.example", holder_key=wallet.key, sign_alg="ES256")
    full = SDJWTVerifier(everything.sd_jwt_presentation, lambda iss, h: _issuer_key(server, iss, h),
                         expected_aud="https://verifier.example", expected_nonce="n-2").get_verified_payload()
    assert full["credentialSubject"]["birthdate"] == "2001-02-03"
    # Key binding by another key is refused.
    thief = SDJWTHolder(issued)
    thief.create_presentation({"credentialSubject": {"name": True}}, nonce="n-3", aud="https://verifier.example",
                              holder_key=jwk.JWK.generate(kty="EC", crv="P-256"), sign_alg="ES256")
    with pytest.raises(Exception):
        SDJWTVerifier(thief.sd_jwt_presentation, lambda iss, h: _issuer_key(server, iss, h),
                      expected_aud="https://verifier.example", expected_nonce="n-3")
    assert _token_status(server, claims["status"], claims["iss"]) == 0


# --------------------------------------------------------------------------- errors
def _token(wallet, server, uri, tx_code=None):
    offer = parse_offer(uri)
    metadata, as_meta = wallet.discover(offer)
    return offer, metadata, as_meta, wallet.token(as_meta, offer["grants"][PRE_AUTH]["pre-authorized_code"], tx_code)


def _error(resp, status, code):
    assert resp.status_code == status and resp.json()["error"] == code, (resp.status_code, resp.text)
    assert resp.json()["error_description"]
    assert resp.headers.get("Cache-Control") == "no-store"


def test_a_replayed_pre_authorized_code_is_refused(server):
    uri, _, _ = server.offer(server.new_credential("replay"), "ldp_vc")
    wallet = Wallet()
    offer, metadata, as_meta, first = _token(wallet, server, uri)
    assert first.status_code == 200 and first.json()["token_type"] == "Bearer"
    again = wallet.token(as_meta, offer["grants"][PRE_AUTH]["pre-authorized_code"])
    _error(again, 400, "invalid_grant")
    assert "already used" in again.json()["error_description"]
    _error(wallet.token(as_meta, "made-up-code"), 400, "invalid_grant")
    _error(requests.post(as_meta["token_endpoint"], data={"grant_type": "authorization_code", "code": "x"},
                         timeout=10), 400, "unsupported_grant_type")
    _error(requests.post(as_meta["token_endpoint"], data={"grant_type": PRE_AUTH}, timeout=10), 400,
           "invalid_request")


def test_an_expired_offer_is_refused(server):
    from plugin.storage.models import WalletOffer
    uri, _, offer_id = server.offer(server.new_credential("expired"), "ldp_vc")
    with server.services.session() as s:
        s.execute(update(WalletOffer).where(WalletOffer.public_id == offer_id)
                  .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        s.commit()
    *_, resp = _token(Wallet(), server, uri)
    _error(resp, 400, "invalid_grant")
    assert "expired" in resp.json()["error_description"]


def test_the_transaction_code_is_required_checked_and_guessing_is_limited(server):
    uri, tx, _ = server.offer(server.new_credential("txcode"), "jwt_vc_json", tx_code=True)
    offer = parse_offer(uri)
    assert offer["grants"][PRE_AUTH]["tx_code"] == {"input_mode": "numeric", "length": 6}
    wallet = Wallet()
    *_, missing = _token(wallet, server, uri)
    _error(missing, 400, "invalid_request")
    wrong = str((int(tx) + 1) % 1_000_000).zfill(6)
    *_, bad = _token(wallet, server, uri, wrong)
    _error(bad, 400, "invalid_grant")
    assert "transaction code" in bad.json()["error_description"]
    assert isinstance(wallet.receive(uri, tx_code=tx), str)  # the right code still works after one mistake
    # An offer without a code refuses one; five wrong guesses withdraw an offer.
    plain, _, _ = server.offer(server.new_credential("txcode-none"), "ldp_vc")
    *_, extra = _token(wallet, server, plain, "123456")
    _error(extra, 400, "invalid_request")
    guessed, tx2, _ = server.offer(server.new_credential("txcode-guess"), "ldp_vc", tx_code=True)
    wrong2 = str((int(tx2) + 1) % 1_000_000).zfill(6)
    for _ in range(5):
        *_, resp = _token(wallet, server, guessed, wrong2)
        _error(resp, 400, "invalid_grant")
    *_, late = _token(wallet, server, guessed, tx2)
    _error(late, 400, "invalid_grant")


def test_nonce_audience_proof_and_configuration_errors(server):
    uri, _, _ = server.offer(server.new_credential("proofs"), "ldp_vc")
    wallet = Wallet(binding="did:jwk")
    offer, metadata, as_meta, tok = _token(wallet, server, uri)
    token = tok.json()["access_token"]
    config = offer["credential_configuration_ids"][0]
    issuer = metadata["credential_issuer"]
    # A proof for another audience.
    _error(wallet.credential(metadata, token, config, wallet.proof(aud="https://other.example", nonce=wallet.nonce(metadata))),
           400, "invalid_proof")
    # No nonce, a nonce we never issued.
    _error(wallet.credential(metadata, token, config, wallet.proof(aud=issuer, nonce=None)), 400, "invalid_nonce")
    _error(wallet.credential(metadata, token, config, wallet.proof(aud=issuer, nonce="1.forged.x")), 400,
           "invalid_nonce")
    # Not a proof JWT (wrong typ), no proof, a signature by another key.
    bad_typ = wallet.proof(aud=issuer, nonce=wallet.nonce(metadata), header={**wallet.header(), "typ": "JWT"})
    _error(wallet.credential(metadata, token, config, bad_typ), 400, "invalid_proof")
    _error(wallet.credential(metadata, token, config, None), 400, "invalid_proof")
    other = Wallet(binding="did:jwk")
    stolen = other.proof(aud=issuer, nonce=wallet.nonce(metadata), header=wallet.header())
    _error(wallet.credential(metadata, token, config, stolen), 400, "invalid_proof")
    # Unknown configuration, another known one, no token.
    _error(wallet.credential(metadata, token, "nope.ldp_vc", wallet.proof(aud=issuer, nonce=wallet.nonce(metadata))),
           400, "unknown_credential_configuration")
    _error(wallet.credential(metadata, token, config.replace("ldp_vc", "jwt_vc_json"),
                             wallet.proof(aud=issuer, nonce=wallet.nonce(metadata))), 400, "credential_request_denied")
    no_token = requests.post(metadata["credential_endpoint"], json={"credential_configuration_id": config}, timeout=10)
    _error(no_token, 401, "invalid_token")
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    # The right request works, and its nonce cannot be used again.
    nonce = wallet.nonce(metadata)
    good = wallet.credential(metadata, token, config, wallet.proof(aud=issuer, nonce=nonce))
    assert good.status_code == 200, good.text
    assert good.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == wallet.did_jwk
    uri2, _, _ = server.offer(server.new_credential("proofs-2"), "ldp_vc")
    offer2, metadata2, _, tok2 = _token(wallet, server, uri2)
    reused = wallet.credential(metadata2, tok2.json()["access_token"], offer2["credential_configuration_ids"][0],
                               wallet.proof(aud=issuer, nonce=nonce))
    _error(reused, 400, "invalid_nonce")
    assert "already used" in reused.json()["error_description"]
    # The offer delivered its credential: the token gets nothing more.
    again = wallet.credential(metadata, token, config, wallet.proof(aud=issuer, nonce=wallet.nonce(metadata)))
    _error(again, 400, "credential_request_denied")


def test_racing_requests_get_one_token_and_one_credential(server):
    """Two wallets redeeming the same code at once, and two credential requests with the same
    token at once: one succeeds, the other gets the specified error (never a 500)."""
    from concurrent.futures import ThreadPoolExecutor
    uri, _, _ = server.offer(server.new_credential("race"), "jwt_vc_json")
    offer = parse_offer(uri)
    wallets = [Wallet(), Wallet()]
    metadata, as_meta = wallets[0].discover(offer)
    code = offer["grants"][PRE_AUTH]["pre-authorized_code"]
    with ThreadPoolExecutor(2) as pool:
        tokens = list(pool.map(lambda w: w.token(as_meta, code), wallets))
    assert sorted(r.status_code for r in tokens) == [200, 400], [r.text for r in tokens]
    (lost,) = [r for r in tokens if r.status_code == 400]
    assert lost.json()["error"] == "invalid_grant"
    (won,) = [r for r in tokens if r.status_code == 200]
    token, config, issuer = won.json()["access_token"], offer["credential_configuration_ids"][0], \
        metadata["credential_issuer"]
    proofs = [w.proof(aud=issuer, nonce=w.nonce(metadata)) for w in wallets]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda wp: wp[0].credential(metadata, token, config, wp[1]), zip(wallets, proofs)))
    assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]
    assert [r.json()["error"] for r in answers if r.status_code == 400] == ["credential_request_denied"]


# --------------------------------------------------------------------------- status
def test_suspending_then_revoking_the_learner_credential_shows_in_every_wallet_copy(server, js_verify):
    from plugin.delivery.oid4vci.service import create_offer
    from plugin.issuance import service as issuance
    from plugin.storage.models import WalletCredential
    public_id = server.new_credential("revoke-all")
    copies = [Wallet(binding=b).receive(server.offer(public_id, fmt)[0])
              for fmt, b in (("ldp_vc", "jwk"), ("jwt_vc_json", "did:key"))]
    sd_jwt = Wallet(alg="ES256").receive(server.offer(public_id, "dc+sd-jwt")[0])
    sd_claims = _jwt_payload(sd_jwt.split("~")[0])
    pending, _, _ = server.offer(public_id, "ldp_vc")  # made before the revocation, redeemed after
    assert _token_status(server, sd_claims["status"], sd_claims["iss"]) == 0
    assert all(_verify_ours(server, c).status == "valid" for c in copies)
    (before,) = js_verify([copies[0]], server.documents(copies[0]), verifiers=("verifier-core",))
    assert before["verifier-core"]["revocation"] is True, before  # VerifierPlus: "has not been revoked"
    with server.services.session() as s:
        row = issuance.credential_by_any_id(s, public_id)
        assert len(s.scalars(select(WalletCredential).where(WalletCredential.credential_id == row.id)).all()) == 3
        issuance.suspend(s, row, "under review", "test")
        s.commit()
    assert [_verify_ours(server, c).status for c in copies] == ["suspended", "suspended"]
    assert _token_status(server, sd_claims["status"], sd_claims["iss"]) == 2  # SUSPENDED
    with server.services.session() as s:
        issuance.revoke(s, issuance.credential_by_any_id(s, public_id), "awarded by mistake", "test")
        s.commit()
    for credential in copies:
        report = _verify_ours(server, credential)
        assert report.status == "revoked" and not report.ok, report.to_dict()
    assert _token_status(server, sd_claims["status"], sd_claims["iss"]) == 1  # INVALID
    (ldp,) = js_verify([copies[0]], server.documents(copies[0]), verifiers=("verifier-core",))
    assert ldp["verifier-core"]["revocation"] is False, ldp
    # A revoked credential is offered no more, and an offer made before cannot be redeemed.
    *_, late = _token(Wallet(), server, pending)
    _error(late, 400, "invalid_grant")
    assert "revoked" in late.json()["error_description"]
    with server.services.session() as s:
        with pytest.raises(ValueError):
            create_offer(s, server.services, issuance.credential_by_any_id(s, public_id), "ldp_vc")
