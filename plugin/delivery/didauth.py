"""Checking a wallet's DID Authentication presentation (VC-API exchanges).

The Learner Credential Wallet answers a ``DIDAuthentication`` query with a
VerifiablePresentation signed by its ``did:key`` (Ed25519), using either
``Ed25519Signature2020`` or a ``DataIntegrityProof`` with ``eddsa-rdfc-2022``. Both sign
``sha256(RDFC-1.0(proof options)) || sha256(RDFC-1.0(document without proof))`` with
Ed25519 and encode the signature as ``"z" + base58btc``; they differ only in the
proof type. The canonicalization is pyld's (the JSON-LD library the engine signs with),
fed by a document loader that never reaches the network.

Pure code: no Flask.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

ED25519_MULTICODEC = b"\xed\x01"
SUITES = {("Ed25519Signature2020", None), ("DataIntegrityProof", "eddsa-rdfc-2022")}


class DidAuthError(ValueError):
    """The presentation does not prove control of the DID; the message says why."""


def did_key_public(did: str) -> Ed25519PublicKey:
    if not isinstance(did, str) or not did.startswith("did:key:z"):
        raise DidAuthError("only did:key holders are accepted")
    try:
        raw = base58.b58decode(did[len("did:key:z"):])
    except ValueError:
        raise DidAuthError("the did:key is not base58btc") from None
    if not raw.startswith(ED25519_MULTICODEC) or len(raw) != 34:
        raise DidAuthError("the did:key is not an Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def _canon(doc: dict, loader: Callable) -> bytes:
    nquads = jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                    "documentLoader": loader, "safe": True})
    return nquads.encode("utf-8")


def proof_hash(document: dict, proof: dict, loader: Callable) -> bytes:
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options.setdefault("@context", document.get("@context"))
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return hashlib.sha256(_canon(options, loader)).digest() + hashlib.sha256(_canon(unsigned, loader)).digest()


def verify_ed25519_proof(document: dict, proof: dict, loader: Callable) -> str:
    """Check one Ed25519 proof over ``document``; returns the signer's DID."""
    suite = (proof.get("type"), proof.get("cryptosuite"))
    if suite not in SUITES and (proof.get("type"), None) not in SUITES:
        raise DidAuthError(f"unsupported proof type {proof.get('type')!r}")
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or "#" not in vm:
        raise DidAuthError("the proof names no verification method")
    did, fragment = vm.split("#", 1)
    public = did_key_public(did)
    if fragment != did[len("did:key:"):]:
        raise DidAuthError("the verification method is not the did:key's own key")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise DidAuthError("the proof value is not multibase base58btc")
    try:
        signature = base58.b58decode(value[1:])
        data = proof_hash(document, proof, loader)
    except DidAuthError:
        raise
    except Exception as exc:  # pyld raises its own errors for broken JSON-LD
        raise DidAuthError(f"the presentation cannot be canonicalized: {type(exc).__name__}") from None
    try:
        public.verify(signature, data)
    except InvalidSignature:
        raise DidAuthError("the signature does not match") from None
    return did


def verify_did_auth(presentation: Any, *, challenge: str, domain: str, loader: Callable) -> str:
    """Verify a DID Authentication presentation; returns the holder's DID."""
    if not isinstance(presentation, dict):
        raise DidAuthError("the presentation is not a JSON object")
    proofs = presentation.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs]
    proofs = [p for p in proofs if isinstance(p, dict)]
    if not proofs:
        raise DidAuthError("the presentation is not signed")
    errors = []
    for proof in proofs:
        if proof.get("proofPurpose") != "authentication":
            errors.append("proof purpose is not authentication")
            continue
        if proof.get("challenge") != challenge:
            errors.append("the challenge does not match")
            continue
        if domain and proof.get("domain") not in (domain, [domain]):
            errors.append("the domain does not match")
            continue
        try:
            did = verify_ed25519_proof(presentation, proof, loader)
        except DidAuthError as exc:
            errors.append(str(exc))
            continue
        holder = presentation.get("holder")
        holder = holder.get("id") if isinstance(holder, dict) else holder
        if holder and holder != did:
            errors.append("the holder is not the signer")
            continue
        return did
    raise DidAuthError("; ".join(errors))
