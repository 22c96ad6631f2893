"""DIDs of our issuers (did:web), did:key for tests, DID documents and key resolution.

An issuer ``slug`` on a tool at ``https://tool.example:8443/mc`` is
``did:web:tool.example%3A8443:mc:issuers:<slug>``, whose document is served at
``https://tool.example:8443/mc/issuers/<slug>/did.json``. The document lists
**every** key of the issuer, retired ones included, so credentials signed before a
rotation keep verifying: retiring a key only means "no longer used to sign".

Resolution works offline: :func:`resolve_verification_method` looks the controller
document up in a ``documents`` mapping (URL or DID -> JSON, e.g. the ``documents.json``
written next to demo credentials) and in any ``sources`` (callables ``url_or_did ->
document | None``; the application adds one backed by its database for its own base URL).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol
from urllib.parse import quote, unquote, urlsplit

from plugin.signing import contexts as ctx
from plugin.signing.keys import (ED25519, ed25519_public_from_multibase, ed25519_public_multibase,
                                 public_key_from_jwk)


class ResolutionError(ValueError):
    """A verification method cannot be resolved, or is not usable for assertions."""


class PublicKeyInfo(Protocol):
    """What :func:`did_document` needs of a key (``IssuerKey`` rows and ``SigningKey`` both fit)."""
    key_id: str
    algorithm: str
    public_multibase: str | None
    public_jwk: dict[str, Any]


DocumentSource = Callable[[str], "dict[str, Any] | None"]


# --------------------------------------------------------------------------- did:web
def issuer_did(base_url: str, slug: str) -> str:
    """``did:web:<host>[%3Aport][:path...]:issuers:<slug>`` for an issuer of the tool at ``base_url``."""
    parts = urlsplit(base_url.rstrip("/"))
    host = quote(parts.netloc, safe="")  # the port's colon becomes %3A
    segments = [s for s in parts.path.split("/") if s]
    return ":".join(["did", "web", host, *map(lambda s: quote(s, safe=""), segments), "issuers", slug])


def did_web_url(did: str) -> str:
    """The https URL of a did:web document (``.../did.json``; ``/.well-known/did.json`` for a bare host).

    ``http`` is used for ``localhost``/``127.0.0.1`` hosts and ``*.test`` (development and tests).
    """
    if not did.startswith("did:web:"):
        raise ResolutionError(f"not a did:web identifier: {did}")
    parts = did[len("did:web:"):].split("#", 1)[0].split(":")
    host = unquote(parts[0])
    hostname = host.split(":")[0]
    scheme = "http" if hostname in ("localhost", "127.0.0.1") or hostname.endswith(".test") else "https"
    path = "/".join(unquote(p) for p in parts[1:])
    return f"{scheme}://{host}/{path}/did.json" if path else f"{scheme}://{host}/.well-known/did.json"


def issuer_did_document_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/issuers/{slug}/did.json"


def verification_method_entry(controller: str, key: PublicKeyInfo) -> dict[str, Any]:
    vm_id = f"{controller}#{key.key_id}"
    if key.algorithm == ED25519:
        multibase = key.public_multibase or ed25519_public_multibase(public_key_from_jwk(key.public_jwk))
        return {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": multibase}
    return {"id": vm_id, "type": "JsonWebKey", "controller": controller,
            "publicKeyJwk": {k: v for k, v in key.public_jwk.items() if k in ("kty", "crv", "x", "n", "e")}}


def did_document(did: str, keys: Iterable[PublicKeyInfo], *, also_known_as: Iterable[str] = ()) -> dict[str, Any]:
    """The DID document of ``did`` listing every key (retired included) under ``assertionMethod``.

    Ed25519 keys are ``Multikey`` (``publicKeyMultibase``), RSA keys ``JsonWebKey``
    (``publicKeyJwk``); ``controller`` of each is the DID itself.
    """
    methods = [verification_method_entry(did, k) for k in keys]
    doc: dict[str, Any] = {
        "@context": [ctx.DID_V1, ctx.MULTIKEY_V1, "https://w3id.org/security/jwk/v1"]
        if any(m["type"] == "JsonWebKey" for m in methods) else [ctx.DID_V1, ctx.MULTIKEY_V1],
        "id": did,
    }
    aka = list(also_known_as)
    if aka:
        doc["alsoKnownAs"] = aka
    doc["verificationMethod"] = methods
    doc["assertionMethod"] = [m["id"] for m in methods]
    doc["authentication"] = [m["id"] for m in methods]
    return doc


# --------------------------------------------------------------------------- did:key
def did_key(public_multibase: str) -> str:
    return f"did:key:{public_multibase}"


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 ``did:key`` (one Multikey, used for everything)."""
    mb = did.split("#", 1)[0][len("did:key:"):]
    ed25519_public_from_multibase(mb)  # validates
    base = f"did:key:{mb}"
    vm = {"id": f"{base}#{mb}", "type": "Multikey", "controller": base, "publicKeyMultibase": mb}
    return {"@context": [ctx.DID_V1, ctx.MULTIKEY_V1], "id": base, "verificationMethod": [vm],
            "assertionMethod": [vm["id"]], "authentication": [vm["id"]],
            "capabilityInvocation": [vm["id"]], "capabilityDelegation": [vm["id"]]}


# --------------------------------------------------------------------------- resolution
@dataclass
class ResolvedMethod:
    public_key: Any
    controller: str
    method: dict[str, Any]


def _lookup(ref: str, documents: Mapping[str, Any] | None, sources: Iterable[DocumentSource]) -> dict | None:
    candidates = [ref]
    if ref.startswith("did:web:"):
        candidates.append(did_web_url(ref))
    for cand in candidates:
        if documents and cand in documents:
            return documents[cand]
        for source in sources:
            doc = source(cand)
            if doc is not None:
                return doc
    return None


def _public_key(method: dict[str, Any]):
    if "publicKeyMultibase" in method:
        return ed25519_public_from_multibase(method["publicKeyMultibase"])
    if "publicKeyJwk" in method:
        return public_key_from_jwk(method["publicKeyJwk"])
    raise ResolutionError(f"verification method {method.get('id')} has no publicKeyMultibase or publicKeyJwk")


def resolve(vm_id: str, documents: Mapping[str, Any] | None = None,
            sources: Iterable[DocumentSource] = (), purpose: str = "assertionMethod") -> ResolvedMethod:
    """Find verification method ``vm_id``; it must be listed under ``purpose`` by its controller."""
    sources = list(sources)
    base = vm_id.split("#", 1)[0]
    if base.startswith("did:key:"):
        doc = did_key_document(base)
    else:
        doc = _lookup(base, documents, sources)
        if doc is None:
            raise ResolutionError(f"cannot resolve {base}: it is not among the known documents "
                                  "(this verifier does not use the network)")
    method = None
    for entry in list(doc.get("verificationMethod") or []) + [m for m in doc.get(purpose) or [] if isinstance(m, dict)]:
        if isinstance(entry, dict) and _same_id(entry.get("id"), vm_id, base):
            method = entry
            break
    if method is None and doc.get("id") == vm_id and ("publicKeyMultibase" in doc or "publicKeyJwk" in doc):
        method = doc  # the verification method is a document of its own
    if method is None:
        raise ResolutionError(f"verification method {vm_id} is not listed in {base}")
    controller = method.get("controller") or doc.get("id")
    if method is not doc:
        listed = [m if isinstance(m, str) else m.get("id") for m in doc.get(purpose) or []]
        if not any(_same_id(x, vm_id, base) for x in listed):
            raise ResolutionError(f"verification method {vm_id} is not authorised for {purpose} by {base}")
        if doc.get("id") and controller != doc.get("id"):
            raise ResolutionError(f"verification method {vm_id} is controlled by {controller}, "
                                  f"not by the document {doc.get('id')} that lists it")
    return ResolvedMethod(_public_key(method), controller, method)


def _same_id(candidate: str | None, vm_id: str, base: str) -> bool:
    if not candidate:
        return False
    if candidate == vm_id:
        return True
    return candidate.startswith("#") and base + candidate == vm_id


def resolve_verification_method(vm_id: str, documents: Mapping[str, Any] | None = None,
                                sources: Iterable[DocumentSource] = ()) -> tuple[Any, str]:
    """``(public key, controller)`` of an ``assertionMethod`` verification method, offline.

    ``documents`` maps URLs or DIDs to their documents; ``sources`` are callables tried in
    order (``url_or_did -> document | None``), e.g. the database-backed one for our own
    base URL. ``did:key`` needs neither. Raises :class:`ResolutionError` with a message.
    """
    r = resolve(vm_id, documents, sources)
    return r.public_key, r.controller
