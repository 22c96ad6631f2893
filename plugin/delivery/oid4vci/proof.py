"""The wallet's key proof (OpenID4VCI 1.0 §8.2.1.1, Appendix F.1) and the holder's identifier.

A proof is a compact JWS with the header ``typ: openid4vci-proof+jwt``, ``alg`` (EdDSA or
ES256 here) and exactly one of ``kid`` (a DID URL: ``did:jwk`` or ``did:key``) or ``jwk``
(the public key itself), and the claims ``aud`` (the Credential Issuer identifier),
``iat`` and ``nonce`` (a ``c_nonce`` from the nonce endpoint). The key becomes the holder:
its DID is ``credentialSubject.id`` (``did:jwk`` for a bare JWK) and its JWK the SD-JWT
VC's ``cnf``.

jwcrypto checks the signature. ``did:jwk`` and ``did:key`` (Ed25519 and P-256) are decoded
here: a few lines each, where a DID resolver library would bring the network along.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk as jw_jwk
from jwcrypto import jws as jw_jws
from jwcrypto.common import JWException

from plugin.delivery.oid4vci import Oid4vciError
from plugin.signing.keys import b64url, b64url_decode

PROOF_TYP = "openid4vci-proof+jwt"
ALGS = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
IAT_SKEW = 300  # seconds a proof's iat may be off (clock differences between phone and server)
ED25519_CODEC = b"\xed\x01"
P256_CODEC = b"\x80\x24"


@dataclass(frozen=True)
class Holder:
    did: str                 # credentialSubject.id of the wallet copy
    jwk: dict[str, Any]      # the public key, for cnf
    nonce: str


def _invalid(message: str) -> Oid4vciError:
    return Oid4vciError("invalid_proof", message)


def public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    kty = jwk.get("kty")
    names = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}.get(kty)
    if names is None or any(not isinstance(jwk.get(n), str) for n in names):
        raise _invalid("the proof key must be an Ed25519 (OKP) or P-256 (EC) public JWK")
    if "d" in jwk:
        raise _invalid("the proof key is a private key: send the public key only")
    return {n: jwk[n] for n in names}


def did_jwk(jwk: dict[str, Any]) -> str:
    return "did:jwk:" + b64url(json.dumps(public_members(jwk), separators=(",", ":")).encode())


def _jwk_of_did(kid: str) -> tuple[str, dict[str, Any]]:
    """``(did, public jwk)`` of a ``did:jwk`` or ``did:key`` DID URL."""
    did, _, fragment = kid.partition("#")
    if did.startswith("did:jwk:"):
        try:
            jwk = json.loads(b64url_decode(did[len("did:jwk:"):]))
        except (ValueError, TypeError):
            raise _invalid("the did:jwk in kid does not decode to a JWK") from None
        if not isinstance(jwk, dict):
            raise _invalid("the did:jwk in kid does not decode to a JWK")
        return did, public_members(jwk)
    if did.startswith("did:key:z"):
        mb = did[len("did:key:"):]
        if fragment and fragment != mb:
            raise _invalid("the kid's fragment is not the did:key's own key")
        try:
            raw = base58.b58decode(mb[1:])
        except ValueError:
            raise _invalid("the did:key is not base58btc") from None
        if raw[:2] == ED25519_CODEC and len(raw) == 34:
            return did, {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw[2:])}
        if raw[:2] == P256_CODEC and len(raw) == 35:
            try:
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
            except ValueError:
                raise _invalid("the did:key's P-256 point is not on the curve") from None
            nums = point.public_numbers()
            return did, {"crv": "P-256", "kty": "EC", "x": b64url(nums.x.to_bytes(32, "big")),
                         "y": b64url(nums.y.to_bytes(32, "big"))}
        raise _invalid("only Ed25519 and P-256 did:key holders are accepted")
    raise _invalid("the kid must be a did:jwk or did:key DID URL (or send the key in jwk)")


def unverified_nonce(token: Any) -> str | None:
    """The proof's ``nonce`` claim, unverified (to say invalid_nonce before invalid_proof)."""
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (AttributeError, IndexError, ValueError, TypeError):
        return None
    nonce = claims.get("nonce") if isinstance(claims, dict) else None
    return nonce if isinstance(nonce, str) else None


def verify_proof(token: Any, *, audience: str, now: float | None = None) -> Holder:
    """Check one ``jwt`` proof; the nonce is returned for the caller to check and spend.

    Raises :class:`Oid4vciError` ``invalid_proof`` (or ``invalid_nonce`` for a proof without one)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise _invalid("the proof is not a compact JWS")
    obj = jw_jws.JWS()
    try:
        obj.deserialize(token.strip())
        header = obj.jose_header
    except (JWException, ValueError, TypeError) as exc:
        raise _invalid(f"the proof is not a compact JWS: {exc}") from None
    if not isinstance(header, dict):
        raise _invalid("the proof's header is not a JSON object")
    if header.get("typ") != PROOF_TYP:
        raise _invalid(f"the proof's typ must be {PROOF_TYP}")
    alg = header.get("alg")
    if alg not in ALGS:
        raise _invalid(f"the proof algorithm {alg!r} is not accepted (one of {', '.join(ALGS)})")
    has_kid, has_jwk = "kid" in header, "jwk" in header
    if "x5c" in header or has_kid == has_jwk:
        raise _invalid("the proof header must name its key with exactly one of kid or jwk")
    if has_jwk:
        if not isinstance(header["jwk"], dict):
            raise _invalid("the proof's jwk is not a JSON object")
        jwk = public_members(header["jwk"])
        did = did_jwk(jwk)
    else:
        if not isinstance(header["kid"], str):
            raise _invalid("the proof's kid is not a string")
        did, jwk = _jwk_of_did(header["kid"])
    if (jwk["kty"], jwk["crv"]) != ALGS[alg]:
        raise _invalid(f"the proof key does not fit algorithm {alg}")
    try:
        obj.verify(jw_jwk.JWK(**jwk), alg=alg)
    except (JWException, ValueError, TypeError):
        raise _invalid("the proof signature does not match its key") from None
    try:
        claims = json.loads(obj.payload)
    except (ValueError, TypeError):
        raise _invalid("the proof's payload is not JSON") from None
    if not isinstance(claims, dict):
        raise _invalid("the proof's payload is not a JSON object")
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise _invalid(f"the proof is for another audience: aud must be {audience}")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise _invalid("the proof has no iat")
    now = time.time() if now is None else now
    if abs(now - iat) > IAT_SKEW:
        raise _invalid("the proof's iat is too far from now (sign a fresh proof)")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise Oid4vciError("invalid_nonce", "the proof has no nonce: get a c_nonce from the nonce endpoint")
    return Holder(did=did, jwk=jwk, nonce=nonce)
