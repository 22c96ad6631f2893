"""Signing keys (Ed25519, RSA) and their public forms: Multikey multibase and JWK.

Multikey (W3C Controlled Identifiers / Data Integrity): ``z`` + base58btc(multicodec
header + raw key). Ed25519 public keys use the header ``0xed 0x01`` (so they read
``z6Mk...``), Ed25519 private keys ``0x80 0x26``. RSA public keys are published as
JWK (``JsonWebKey`` verification methods) since verifiers expect them there.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"

ED25519 = "Ed25519"
RS256 = "RS256"


class KeyFormatError(ValueError):
    """A key or its encoding is malformed."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_PAIRS = [a + b for a in _B58 for b in _B58]  # two digits per division of the big integer


def base58_encode(data: bytes) -> str:
    """base58btc (Bitcoin alphabet), as ``base58.b58encode`` gives it, at half the divisions:
    a signature per credential in bulk issuance."""
    n = int.from_bytes(data, "big")
    digits = []
    while n:
        n, r = divmod(n, 3364)
        digits.append(_B58_PAIRS[r])
    zeros = len(data) - len(data.lstrip(b"\0"))  # each leading zero byte is a "1"
    return "1" * zeros + "".join(reversed(digits)).lstrip("1")


def multibase_encode(data: bytes) -> str:
    """``z`` + base58btc."""
    return "z" + base58_encode(data)


def multibase_decode(text: str) -> bytes:
    if not text or text[0] != "z":
        raise KeyFormatError(f"only base58btc multibase ('z...') is supported, got {text[:8]!r}")
    try:
        return base58.b58decode(text[1:])
    except ValueError as exc:
        raise KeyFormatError(f"bad base58btc value: {exc}") from None


def ed25519_public_multibase(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase_encode(ED25519_PUB_HEADER + raw)


def ed25519_public_from_multibase(text: str) -> ed25519.Ed25519PublicKey:
    """Decode a Multikey ``z6Mk...`` Ed25519 public key."""
    data = multibase_decode(text)
    if data[:2] != ED25519_PUB_HEADER or len(data) != 34:
        raise KeyFormatError("not an Ed25519 Multikey public key (expected the 0xed01 header and 32 bytes)")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])


def ed25519_private_from_multibase(text: str) -> ed25519.Ed25519PrivateKey:
    data = multibase_decode(text)
    if data[:2] != ED25519_PRIV_HEADER or len(data) != 34:
        raise KeyFormatError("not an Ed25519 Multikey secret key (expected the 0x8026 header and 32 bytes)")
    return ed25519.Ed25519PrivateKey.from_private_bytes(data[2:])


def public_jwk(public) -> dict[str, Any]:
    """The JWK of an Ed25519 (OKP) or RSA public key."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    if isinstance(public, rsa.RSAPublicKey):
        nums = public.public_numbers()
        return {"kty": "RSA", "n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                "e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}
    raise KeyFormatError(f"unsupported public key type {type(public).__name__}")


def public_key_from_jwk(jwk: dict[str, Any]):
    kty = jwk.get("kty")
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    if kty == "RSA":
        n = int.from_bytes(b64url_decode(jwk["n"]), "big")
        e = int.from_bytes(b64url_decode(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise KeyFormatError(f"unsupported JWK (kty={kty!r}, crv={jwk.get('crv')!r})")


def verify_raw(public, signature: bytes, data: bytes) -> bool:
    """Check a raw signature (Ed25519, or RSA PKCS#1 v1.5 SHA-256)."""
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
        return True
    except InvalidSignature:
        return False


@dataclass
class SigningKey:
    """A private signing key with its verification-method fragment (``key_id``).

    ``algorithm`` is ``"Ed25519"`` or ``"RS256"``. Persist it with :meth:`private_bytes`
    (PKCS#8 DER, to be sealed with the KEK) and restore it with :meth:`from_private_bytes`.
    """
    algorithm: str
    private: Any
    key_id: str = ""
    _public_multibase: str | None = field(default=None, repr=False)

    def __post_init__(self):
        if not self.key_id:
            # Ed25519: the Multikey value itself (like did:key); RSA: a JWK thumbprint-like id.
            self.key_id = self.public_multibase or "rsa-" + b64url(
                hashes_sha256(self.public_jwk["n"].encode()))[:16]

    @property
    def public(self):
        return self.private.public_key()

    @property
    def public_multibase(self) -> str | None:
        """Multikey ``z6Mk...`` for Ed25519; ``None`` for RSA (published as JWK)."""
        if self.algorithm != ED25519:
            return None
        if self._public_multibase is None:
            self._public_multibase = ed25519_public_multibase(self.public)
        return self._public_multibase

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.public)

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == ED25519:
            return self.private.sign(data)
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def private_bytes(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    @classmethod
    def from_private_bytes(cls, data: bytes, key_id: str = "") -> "SigningKey":
        private = serialization.load_der_private_key(data, password=None)
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return cls(ED25519, private, key_id)
        if isinstance(private, rsa.RSAPrivateKey):
            return cls(RS256, private, key_id)
        raise KeyFormatError(f"unsupported private key type {type(private).__name__}")

    @classmethod
    def from_multibase(cls, private_multibase: str, key_id: str = "") -> "SigningKey":
        """An Ed25519 key from a Multikey secret key (``z3u2...``), as in the W3C vectors."""
        return cls(ED25519, ed25519_private_from_multibase(private_multibase), key_id)

    def verification_method(self, controller: str) -> str:
        return f"{controller}#{self.key_id}"


def hashes_sha256(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def generate_ed25519(key_id: str = "") -> SigningKey:
    """A new Ed25519 key; ``key_id`` defaults to its Multikey value (``z6Mk...``)."""
    return SigningKey(ED25519, ed25519.Ed25519PrivateKey.generate(), key_id)


def generate_rsa(bits: int = 2048, key_id: str = "") -> SigningKey:
    """A new RSA key for RS256 VC-JWT."""
    return SigningKey(RS256, rsa.generate_private_key(public_exponent=65537, key_size=bits), key_id)
