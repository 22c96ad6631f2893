import base64
import json

import jwt as pyjwt
import pytest

from plugin.signing.did import did_document, issuer_did
from plugin.signing.jwt import JwtError, sign_vc_jwt, verify_vc_jwt
from plugin.signing.keys import generate_ed25519, generate_rsa

DID = issuer_did("https://tool.example", "uni")


def credential(valid_until="2999-01-01T00:00:00Z"):
    c = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:0b7f4c3e-1111-2222-3333-444455556666",
         "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": {"id": DID, "type": ["Profile"]},
         "validFrom": "2020-01-01T00:00:00Z",
         "credentialSubject": {"id": "urn:uuid:9c2b8d1e-aaaa-bbbb-cccc-ddddeeeeffff", "type": ["AchievementSubject"]},
         "proof": [{"type": "DataIntegrityProof"}]}
    if valid_until:
        c["validUntil"] = valid_until
    return c


@pytest.fixture(params=["Ed25519", "RS256"])
def key(request):
    return generate_ed25519() if request.param == "Ed25519" else generate_rsa(key_id="rsa-1")


def test_claims_header_and_round_trip(key):
    vm = f"{DID}#{key.key_id}"
    token = sign_vc_jwt(credential(), key, vm)
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA" if key.algorithm == "Ed25519" else "RS256", "typ": "JWT", "kid": vm}
    docs = {DID: did_document(DID, [key])}
    result = verify_vc_jwt(token, documents=docs)
    assert result.ok, result.reason
    c = result.claims
    assert c["iss"] == DID and c["sub"] == credential()["credentialSubject"]["id"]
    assert c["jti"] == credential()["id"] and c["nbf"] == 1577836800 and c["exp"] == 32472144000
    assert "proof" not in c["vc"] and result.controller == DID


def test_changed_payload_fails(key):
    vm = f"{DID}#{key.key_id}"
    token = sign_vc_jwt(credential(), key, vm)
    h, p, s = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims["vc"]["credentialSubject"]["id"] = "urn:uuid:someone-else"
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


def test_none_algorithm_and_garbage_are_refused():
    key = generate_ed25519()
    token = pyjwt.encode({"iss": DID, "sub": "x", "vc": credential()}, None, algorithm="none",
                         headers={"kid": f"{DID}#{key.key_id}"})
    assert "not accepted" in verify_vc_jwt(token, documents={DID: did_document(DID, [key])}).reason
    assert not verify_vc_jwt("not.a.jwt").ok


def test_subject_id_is_required():
    c = credential()
    del c["credentialSubject"]["id"]
    with pytest.raises(JwtError, match="credentialSubject.id"):
        sign_vc_jwt(c, generate_ed25519(), "did:x#k")
