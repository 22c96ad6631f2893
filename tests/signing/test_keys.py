import json

import pytest

from plugin.signing import keys
from plugin.signing.keys import KeyFormatError, SigningKey, generate_ed25519, generate_rsa
from tests.conftest import FIXTURES

VECTORS = FIXTURES / "testvectors" / "eddsa-rdfc-2022"


def test_w3c_key_pair_decodes_to_the_same_public_multikey():
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    key = SigningKey.from_multibase(pair["privateKeyMultibase"])
    assert key.public_multibase == pair["publicKeyMultibase"]
    public = keys.ed25519_public_from_multibase(pair["publicKeyMultibase"])
    assert keys.ed25519_public_multibase(public) == pair["publicKeyMultibase"]


def test_ed25519_multikey_has_the_0xed01_header():
    key = generate_ed25519()
    mb = key.public_multibase
    assert mb.startswith("z6Mk")
    raw = keys.multibase_decode(mb)
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    assert key.key_id == mb


def test_multikey_decoding_rejects_other_key_types():
    rsa_like = keys.multibase_encode(b"\x85\x24" + bytes(32))
    with pytest.raises(KeyFormatError):
        keys.ed25519_public_from_multibase(rsa_like)
    with pytest.raises(KeyFormatError):
        keys.multibase_decode("uAAAA")


def test_private_bytes_round_trip_keeps_signing_identity():
    for key in (generate_ed25519("k1"), generate_rsa(2048, "k2")):
        again = SigningKey.from_private_bytes(key.private_bytes(), key_id=key.key_id)
        assert again.algorithm == key.algorithm and again.public_jwk == key.public_jwk
        sig = again.sign(b"hello")
        assert keys.verify_raw(key.public, sig, b"hello")
        assert not keys.verify_raw(key.public, sig, b"hellO")


def test_jwk_round_trip():
    for key in (generate_ed25519(), generate_rsa()):
        jwk = key.public_jwk
        public = keys.public_key_from_jwk(jwk)
        assert keys.public_jwk(public) == jwk
    assert generate_rsa().public_multibase is None
    assert generate_ed25519().public_jwk["crv"] == "Ed25519"


def test_base58_matches_the_reference_library_including_leading_zero_bytes():
    import os

    import base58

    from plugin.signing.keys import base58_encode
    samples = [b"", b"\0", b"\0" * 64, b"\0\1", b"\1\0", b"\xff" * 64] + [os.urandom(n) for n in (1, 2, 31, 32, 64)]
    samples += [b"\0\0" + os.urandom(62) for _ in range(50)] + [os.urandom(64) for _ in range(500)]
    for data in samples:
        assert base58_encode(data) == base58.b58encode(data).decode()
