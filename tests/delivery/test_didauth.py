import copy
import json
from datetime import datetime, timezone

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from plugin.delivery.didauth import DidAuthError, proof_hash, verify_did_auth, verify_ed25519_proof

from tests.conftest import CONTEXTS_DIR, FIXTURES

VECTORS = FIXTURES / "testvectors" / "eddsa-rdfc-2022"
EXAMPLES_V2 = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}


def loader(url, options=None):
    index = json.loads((CONTEXTS_DIR / "index.json").read_text())
    if url == "https://www.w3.org/ns/credentials/examples/v2":
        doc = EXAMPLES_V2
    elif url in index:
        doc = json.loads((CONTEXTS_DIR / index[url]).read_text())
    else:
        raise AssertionError(f"unexpected context {url}")
    return {"contextUrl": None, "documentUrl": url, "document": doc}


def test_the_w3c_eddsa_rdfc_2022_vector_verifies_and_a_changed_byte_does_not():
    signed = json.loads((VECTORS / "signedDataInt.json").read_text())
    assert verify_ed25519_proof(signed, signed["proof"], loader).startswith("did:key:z6MkrJVn")
    assert proof_hash(signed, signed["proof"], loader).hex() == (VECTORS / "combinedHashDataInt.txt").read_text().strip()
    tampered = copy.deepcopy(signed)
    tampered["name"] = "Alumni Credentia1"
    with pytest.raises(DidAuthError, match="signature"):
        verify_ed25519_proof(tampered, tampered["proof"], loader)


def did_key(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode()


def signed_vp(private, *, challenge="c1", domain="tool.test", proof_type="Ed25519Signature2020"):
    did = did_key(private)
    vp = {"@context": ["https://www.w3.org/2018/credentials/v1"] +
          (["https://w3id.org/security/suites/ed25519-2020/v1"] if proof_type == "Ed25519Signature2020" else
           ["https://w3id.org/security/data-integrity/v2"]),
          "type": ["VerifiablePresentation"], "holder": did}
    proof = {"type": proof_type, "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "verificationMethod": f"{did}#{did[8:]}", "proofPurpose": "authentication",
             "challenge": challenge, "domain": domain}
    if proof_type == "DataIntegrityProof":
        proof["cryptosuite"] = "eddsa-rdfc-2022"
    proof["proofValue"] = "z" + base58.b58encode(private.sign(proof_hash(vp, proof, loader))).decode()
    return {**vp, "proof": proof}, did


@pytest.mark.parametrize("proof_type", ["Ed25519Signature2020", "DataIntegrityProof"])
def test_a_wallet_presentation_proves_its_did(proof_type):
    vp, did = signed_vp(Ed25519PrivateKey.generate(), proof_type=proof_type)
    assert verify_did_auth(vp, challenge="c1", domain="tool.test", loader=loader) == did


def test_wrong_challenge_domain_holder_or_signature_is_refused():
    key = Ed25519PrivateKey.generate()
    vp, _ = signed_vp(key)
    with pytest.raises(DidAuthError, match="challenge"):
        verify_did_auth(vp, challenge="other", domain="tool.test", loader=loader)
    with pytest.raises(DidAuthError, match="domain"):
        verify_did_auth(vp, challenge="c1", domain="evil.test", loader=loader)
    other = dict(vp, holder=did_key(Ed25519PrivateKey.generate()))
    with pytest.raises(DidAuthError, match="signature|holder"):
        verify_did_auth(other, challenge="c1", domain="tool.test", loader=loader)
    forged, _ = signed_vp(Ed25519PrivateKey.generate())
    forged["proof"] = dict(forged["proof"], verificationMethod=vp["proof"]["verificationMethod"])
    forged["holder"] = vp["holder"]
    with pytest.raises(DidAuthError, match="signature"):
        verify_did_auth(forged, challenge="c1", domain="tool.test", loader=loader)
    for junk in (None, [], {"proof": "x"}, {"proof": {"proofPurpose": "authentication", "challenge": "c1",
                                                      "domain": "tool.test", "type": "RsaSignature2018"}}):
        with pytest.raises(DidAuthError):
            verify_did_auth(junk, challenge="c1", domain="tool.test", loader=loader)
