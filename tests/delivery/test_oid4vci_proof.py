"""The wallet's key proof and the holder's identifier (plugin/delivery/oid4vci/proof.py),
with proofs signed by jwcrypto as a wallet would."""
from __future__ import annotations

import json
import time

import pytest

from plugin.delivery.oid4vci import Oid4vciError
from plugin.delivery.oid4vci.proof import did_jwk, verify_proof
from tests.delivery.oid4vci_wallet import Wallet, b64url

AUD = "https://tool.example/oid4vci/acme"


@pytest.mark.parametrize("binding", ["jwk", "did:jwk", "did:key"])
@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_every_key_form_names_the_same_holder(binding, alg):
    wallet = Wallet(binding=binding, alg=alg)
    holder = verify_proof(wallet.proof(aud=AUD, nonce="n1"), audience=AUD)
    assert holder.nonce == "n1" and holder.jwk == wallet.public
    assert holder.did == (wallet.did if binding == "did:key" else wallet.did_jwk)
    assert did_jwk(holder.jwk) == wallet.did_jwk


def _code(token, **kwargs):
    with pytest.raises(Oid4vciError) as info:
        verify_proof(token, audience=AUD, **kwargs)
    assert info.value.status == 400 and info.value.description
    return info.value.error


def test_what_is_not_a_valid_proof():
    wallet = Wallet()
    header = wallet.header()
    assert _code(wallet.proof(aud="https://elsewhere.example", nonce="n")) == "invalid_proof"
    assert _code(wallet.proof(aud=AUD, nonce="n", header={**header, "typ": "JWT"})) == "invalid_proof"
    assert _code(wallet.proof(aud=AUD, nonce="n", iat=int(time.time()) - 3600)) == "invalid_proof"
    assert _code(wallet.proof(aud=AUD, nonce=None)) == "invalid_nonce"
    both = {**header, "kid": Wallet(binding="did:jwk").did_jwk + "#0"}
    assert _code(wallet.proof(aud=AUD, nonce="n", header=both)) == "invalid_proof"
    private = {**header, "jwk": {**header["jwk"], "d": "AAAA"}}
    assert _code(wallet.proof(aud=AUD, nonce="n", header=private)) == "invalid_proof"
    other = Wallet()
    assert _code(other.proof(aud=AUD, nonce="n", header=header)) == "invalid_proof"  # signed by another key
    es = Wallet(alg="ES256")  # an EC key under an EdDSA header (hand-made: jwcrypto would not sign it)
    _h, payload, sig = es.proof(aud=AUD, nonce="n").split(".")
    mismatch = b64url(json.dumps({**es.header(), "alg": "EdDSA"}).encode())
    assert _code(f"{mismatch}.{payload}.{sig}") == "invalid_proof"
    web = {k: v for k, v in header.items() if k != "jwk"} | {"kid": "did:web:example.org#key-1"}
    assert _code(wallet.proof(aud=AUD, nonce="n", header=web)) == "invalid_proof"
    for garbage in (None, "", "a.b", "a.b.c", 42):
        assert _code(garbage) == "invalid_proof"


def test_a_proof_listing_the_issuer_among_its_audiences_is_accepted():
    wallet = Wallet()
    assert verify_proof(wallet.proof(aud=[AUD, "https://other.example"], nonce="n"), audience=AUD).nonce == "n"
