import base64
import json
from pathlib import Path

import jwt as pyjwt
import pytest

from plugin.signing.did import did_document, issuer_did
from plugin.signing.jwt import (PAYLOAD_FORM, REGISTERED_CLAIMS, VC_CLAIM_FORM, JwtError, sign_vc_jwt,
                                verify_vc_jwt)
from plugin.signing.keys import generate_ed25519, generate_rsa

DID = issuer_did("https://tool.example", "uni")
BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "vcjwt-before-payload-form"


def credential(valid_until="2999-01-01T00:00:00Z"):
    c = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:0b7f4c3e-1111-2222-3333-444455556666",
         "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": {"id": DID, "type": ["Profile"]},
         "validFrom": "2020-01-01T00:00:00Z",
         "credentialSubject": {"id": "urn:uuid:9c2b8d1e-aaaa-bbbb-cccc-ddddeeeeffff", "type": ["AchievementSubject"]},
         "proof": [{"type": "DataIntegrityProof"}]}
    if valid_until:
        c["validUntil"] = valid_until
    return c


def unsigned(c):
    return {k: v for k, v in c.items() if k != "proof"}


def payload_of(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture(params=["Ed25519", "RS256"])
def key(request):
    return generate_ed25519() if request.param == "Ed25519" else generate_rsa(key_id="rsa-1")


def _alg(key):
    return "EdDSA" if key.algorithm == "Ed25519" else "RS256"


def test_header_and_payload_follow_open_badges_8_2_and_vc_jose_cose(key):
    vm = f"{DID}#{key.key_id}"
    token = sign_vc_jwt(credential(), key, vm, issued_at=1700000000)
    # OB 3.0 §8.2.3: typ, if present, is "JWT"; no other header than alg/kid/jwk/typ (so no cty).
    assert pyjwt.get_unverified_header(token) == {"alg": _alg(key), "typ": "JWT", "kid": vm}
    claims = payload_of(token)
    # OB 3.0 §8.2.4 / VC-JOSE-COSE §3.1.1: the credential is the payload, no "vc" claim.
    assert "vc" not in claims and "proof" not in claims
    assert {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS} == unsigned(credential())
    assert (claims["iss"], claims["sub"], claims["jti"]) == (DID, credential()["credentialSubject"]["id"],
                                                              credential()["id"])
    assert (claims["nbf"], claims["exp"], claims["iat"]) == (1577836800, 32472144000, 1700000000)
    result = verify_vc_jwt(token, documents={DID: did_document(DID, [key])})
    assert result.ok, result.reason
    assert result.form == PAYLOAD_FORM and result.credential == unsigned(credential()) and result.controller == DID


def test_no_exp_claim_without_valid_until(key):
    token = sign_vc_jwt(credential(valid_until=None), key, f"{DID}#{key.key_id}")
    assert "exp" not in payload_of(token)
    assert verify_vc_jwt(token, documents={DID: did_document(DID, [key])}).ok


def test_changed_payload_fails(key):
    vm = f"{DID}#{key.key_id}"
    token = sign_vc_jwt(credential(), key, vm)
    h, p, s = token.split(".")
    claims = payload_of(token)
    claims["credentialSubject"]["id"] = "urn:uuid:someone-else"
    claims["sub"] = "urn:uuid:someone-else"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    result = verify_vc_jwt(f"{h}.{p2}.{s}", documents={DID: did_document(DID, [key])})
    assert not result.ok and "signature" in result.reason


def test_other_key_expired_and_claim_mismatch_fail():
    key, other = generate_ed25519(), generate_ed25519()
    vm = f"{DID}#{key.key_id}"
    docs = {DID: did_document(DID, [key])}
    assert not verify_vc_jwt(sign_vc_jwt(credential(), other, vm), documents=docs).ok
    expired = sign_vc_jwt(credential("2021-01-01T00:00:00Z"), key, vm)
    assert "expired" in verify_vc_jwt(expired, documents=docs).reason
    assert verify_vc_jwt(expired, documents=docs, check_dates=False).ok
    forged = pyjwt.encode({"iss": "did:web:evil.example", "sub": "x", "vc": credential()}, key.private,
                          algorithm="EdDSA", headers={"kid": vm})
    assert "iss" in verify_vc_jwt(forged, documents=docs).reason
    assert "not among the known documents" in verify_vc_jwt(sign_vc_jwt(credential(), key, vm)).reason


def _signed_claims(key, claims, **headers):
    return pyjwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": f"{DID}#{key.key_id}", **headers})


@pytest.mark.parametrize("change, reason", [
    (lambda c: c.update(nbf=c["nbf"] + 3600), "disagree with the credential: nbf"),
    (lambda c: c.update(exp=c["exp"] - 3600), "disagree with the credential: exp"),
    (lambda c: c.pop("exp"), "disagree with the credential: exp"),
    (lambda c: c.update(jti="urn:uuid:another"), "disagree with the credential: jti"),
    (lambda c: c.update(sub="urn:uuid:another"), "disagree with the credential: sub"),
    (lambda c: c.pop("jti"), "the jti claim is required"),
    (lambda c: c.pop("nbf"), "the nbf claim is required"),
    (lambda c: (c.pop("iss"), c.pop("sub")), "the iss, sub claims are required"),
    (lambda c: c.update(nbf="2020-01-01"), "nbf is not a number"),
])
def test_payload_form_claims_must_match_the_credential(change, reason):
    """OB 3.0 §8.2.6.1: iss, sub, jti and nbf are required and equal issuer.id,
    credentialSubject.id, id and validFrom; exp, when present, is validUntil."""
    key = generate_ed25519()
    claims = {"iss": DID, "sub": credential()["credentialSubject"]["id"], "jti": credential()["id"],
              "nbf": 1577836800, "exp": 32472144000, **unsigned(credential())}
    assert verify_vc_jwt(_signed_claims(key, claims), documents={DID: did_document(DID, [key])}).ok
    change(claims)
    result = verify_vc_jwt(_signed_claims(key, claims), documents={DID: did_document(DID, [key])})
    assert not result.ok and reason in result.reason, result.reason


@pytest.mark.parametrize("typ, ok", [(None, True), ("JWT", True), ("jwt", True), ("vc+jwt", True),
                                     ("application/vc+jwt", True), ("vc+ld+json+jwt", True),
                                     ("vp+jwt", False), ("at+jwt", False), (7, False)])
def test_only_credential_token_types_are_accepted(typ, ok):
    key = generate_ed25519()
    claims = payload_of(sign_vc_jwt(credential(), key, f"{DID}#{key.key_id}"))
    token = _signed_claims(key, claims, typ=typ)  # PyJWT leaves typ out when it is None
    assert pyjwt.get_unverified_header(token).get("typ") == typ
    result = verify_vc_jwt(token, documents={DID: did_document(DID, [key])})
    assert result.ok is ok, result.reason
    if not ok:
        assert "not a verifiable credential" in result.reason


@pytest.mark.parametrize("name", ["rs256.jwt", "eddsa.jwt"])
def test_tokens_signed_before_the_payload_form_still_verify(name):
    """Real tokens of the previous signer (the credential in a "vc" claim), kept as files."""
    token = (BEFORE / name).read_text().strip()
    assert "vc" in payload_of(token) and "@context" not in payload_of(token)
    result = verify_vc_jwt(token, documents=json.loads((BEFORE / "documents.json").read_text()))
    assert result.ok, result.reason
    assert result.form == VC_CLAIM_FORM and result.credential["id"] == payload_of(token)["jti"]


def test_vc_claim_form_is_still_checked_against_its_claims():
    key = generate_ed25519()
    good = {"iss": DID, "sub": credential()["credentialSubject"]["id"], "nbf": 1577836800,
            "vc": unsigned(credential())}
    assert verify_vc_jwt(_signed_claims(key, good), documents={DID: did_document(DID, [key])}).ok
    bad = {**good, "jti": "urn:uuid:not-the-credential"}
    assert "jti" in verify_vc_jwt(_signed_claims(key, bad), documents={DID: did_document(DID, [key])}).reason


def test_none_algorithm_and_garbage_are_refused():
    key = generate_ed25519()
    token = pyjwt.encode({"iss": DID, "sub": "x", "vc": credential()}, None, algorithm="none",
                         headers={"kid": f"{DID}#{key.key_id}"})
    assert "not accepted" in verify_vc_jwt(token, documents={DID: did_document(DID, [key])}).reason
    assert not verify_vc_jwt("not.a.jwt").ok
    no_credential = _signed_claims(key, {"iss": DID, "sub": "x"})
    assert "holds no credential" in verify_vc_jwt(no_credential, documents={DID: did_document(DID, [key])}).reason


def test_subject_id_id_and_valid_from_are_required_and_claim_names_cannot_clash():
    for field, message in ((("credentialSubject", "id"), "credentialSubject.id"), (("id",), "'jti'"),
                           (("validFrom",), "'nbf'")):
        c = credential()
        target = c
        for part in field[:-1]:
            target = target[part]
        del target[field[-1]]
        with pytest.raises(JwtError, match=message):
            sign_vc_jwt(c, generate_ed25519(), "did:x#k")
    with pytest.raises(JwtError, match="'iss' member"):
        sign_vc_jwt({**credential(), "iss": "x"}, generate_ed25519(), "did:x#k")


def test_npm_jose_accepts_our_tokens_as_open_badges_8_2_describes_them(js_verify):
    """An independent JOSE library (npm jose, jwtVerify) checks header, claims and signature of
    RS256 and EdDSA tokens, with OB 3.0's required claims and typ; a changed token fails there too."""
    from datetime import datetime, timedelta, timezone
    keys = [generate_rsa(key_id="rsa-1"), generate_ed25519()]
    documents = {DID: did_document(DID, keys)}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    c = {**credential(), "validFrom": (now - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
         "validUntil": (now + timedelta(days=365)).isoformat().replace("+00:00", "Z")}
    tokens = [sign_vc_jwt(c, key, f"{DID}#{key.key_id}") for key in keys]
    h, p, s = tokens[0].split(".")
    changed = payload_of(tokens[0])
    changed["credentialSubject"]["type"] = ["AchievementSubject", "Other"]
    tampered = f"{h}.{base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b'=').decode()}.{s}"
    options = {"typ": "JWT", "issuer": DID, "subject": c["credentialSubject"]["id"],
               "requiredClaims": ["iss", "sub", "jti", "nbf", "exp"]}
    rs256, eddsa, bad = (r["jose"] for r in js_verify(tokens + [tampered], documents, jose=options))
    for result, alg, key in ((rs256, "RS256", keys[0]), (eddsa, "EdDSA", keys[1])):
        assert result["verified"] is True, result
        assert result["header"] == {"alg": alg, "typ": "JWT", "kid": f"{DID}#{key.key_id}"}
        payload = result["payload"]
        assert "vc" not in payload and {k: v for k, v in payload.items() if k not in REGISTERED_CLAIMS} == unsigned(c)
        assert payload["jti"] == c["id"] and payload["nbf"] == int(now.timestamp()) - 86400
    assert bad["verified"] is False and "signature" in bad["error"]
    # Held to VC-JOSE-COSE's typ instead, jose refuses: OB 3.0's "JWT" is what we chose (docs/credential-format.md).
    (strict,) = js_verify(tokens[:1], documents, jose={"typ": "vc+jwt"})
    assert strict["jose"]["verified"] is False and "typ" in strict["jose"]["error"]


def test_npm_jose_checks_the_signatures_of_tokens_signed_before_the_payload_form(js_verify):
    tokens = [(BEFORE / name).read_text().strip() for name in ("rs256.jwt", "eddsa.jwt")]
    results = js_verify(tokens, json.loads((BEFORE / "documents.json").read_text()),
                        jose={"typ": "JWT", "requiredClaims": ["iss", "sub", "nbf"]})
    assert all(r["jose"]["verified"] is True for r in results), results


@pytest.mark.parametrize("valid_until", ["2999-01-01T00:00:00Z", None])
def test_bulk_signer_makes_the_same_token_as_sign_vc_jwt_byte_for_byte(key, valid_until):
    from plugin.signing.jwt import VcJwtSigner
    vm = f"{DID}#{key.key_id}"
    c = credential(valid_until)
    c["name"] = "Café « 日本 » \\ \" \n"  # non-ASCII and characters JSON escapes
    token = VcJwtSigner(key, vm).sign(c, issued_at=1700000000)
    assert token == sign_vc_jwt(c, key, vm, issued_at=1700000000)
    assert verify_vc_jwt(token, documents={DID: did_document(DID, [key])}).ok
