"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (Ed25519 over RDFC-1.0).

hash = sha256(canonical proof configuration) || sha256(canonical document);
``proofValue = "z" + base58btc(Ed25519 signature)``. Canonicalization is pyld's
URDNA2015 (= RDFC-1.0) over contexts from the pinned store only.

Safety checks, applied when signing and when verifying (a verifier that skipped them
would accept a credential whose unsigned parts were edited):

* a property that no context defines, or a ``@type`` no context defines, is refused
  (pyld drops it silently, so it would not be signed): the error names it;
* a relative IRI (``id``, ``@type`` or an ``@id``-typed value) is refused;
* literal text with control characters other than tab, LF and CR is refused: pyld
  3.3.0 writes them raw into N-Quads where RDFC-1.0 escapes them, so other verifiers
  would compute a different hash.

Speed (see ``docs/performance.md``): contexts are cached by pyld (the store marks
them static); the document is expanded once (the checks ride on that expansion) and
turned into RDF without pyld re-expanding it; the proof configuration, whose
expansion is fixed by the protected VC 2.0 context, is written as N-Quads directly
(``tests/signing/test_data_integrity.py`` compares it with pyld on varied inputs).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer

from plugin.signing import contexts as ctx
from plugin.signing.fastcanon import TemplateCache
from plugin.signing.keys import ED25519, SigningKey, multibase_decode, multibase_encode, verify_raw

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

# Sentinels: a term no context defines expands against UNDEFINED_VOCAB, a relative IRI
# resolves against RELATIVE_BASE. Neither can occur in a document that passes the checks,
# so the expansion then equals the one without sentinels.
UNDEFINED_VOCAB = "urn:microcred:undefined-term:"
RELATIVE_BASE = "https://relative-iri.invalid/"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

SEC = "https://w3id.org/security#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


class SigningError(ValueError):
    """The document cannot be signed as it is; the message says which term or value."""


class CanonicalizationError(SigningError):
    pass


# --------------------------------------------------------------------------- canonicalization
def _loader(store: ctx.ContextStore | None):
    return (store or ctx.default_store()).loader


def _check_strings(node: Any, path: str = "") -> None:
    if isinstance(node, str):
        m = _CONTROL.search(node)
        if m:
            raise CanonicalizationError(
                f"{path or 'value'} contains the control character U+{ord(m.group()):04X}; remove it "
                "(it would be serialised differently by other verifiers)")
    elif isinstance(node, dict):
        for k, v in node.items():
            _check_strings(k, f"{path}.{k}" if path else k)
            _check_strings(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_strings(v, f"{path}[{i}]")


def _undefined(expanded: Any, found: list[str]) -> None:
    if isinstance(expanded, list):
        for x in expanded:
            _undefined(x, found)
        return
    if not isinstance(expanded, dict):
        return
    for key, value in expanded.items():
        if key.startswith(UNDEFINED_VOCAB):
            found.append(f"property {key[len(UNDEFINED_VOCAB):]!r} is not defined by any @context")
        elif key.startswith(RELATIVE_BASE):
            found.append(f"property {key[len(RELATIVE_BASE):]!r} is a relative IRI")
        if key == "@type":
            for t in value if isinstance(value, list) else [value]:
                if isinstance(t, str) and t.startswith(UNDEFINED_VOCAB):
                    found.append(f"type {t[len(UNDEFINED_VOCAB):]!r} is not defined by any @context")
                elif isinstance(t, str) and t.startswith(RELATIVE_BASE):
                    found.append(f"type {t[len(RELATIVE_BASE):]!r} is a relative IRI")
        elif key == "@id" and isinstance(value, str):
            if value.startswith(RELATIVE_BASE):
                found.append(f"identifier {value[len(RELATIVE_BASE):]!r} is a relative IRI")
            elif value.startswith(UNDEFINED_VOCAB):
                found.append(f"value {value[len(UNDEFINED_VOCAB):]!r} is not an absolute IRI")
        elif key == "@value":
            continue
        else:
            _undefined(value, found)


def expand_checked(document: dict[str, Any], store: ctx.ContextStore | None = None) -> list:
    """Expand ``document`` with the pinned contexts; refuse undefined terms and relative IRIs."""
    _check_strings(document)
    options = {"documentLoader": _loader(store), "base": RELATIVE_BASE,
               "expandContext": {"@vocab": UNDEFINED_VOCAB}}
    try:
        expanded = jsonld.expand(document, options)
    except jsonld.JsonLdError as exc:
        raise CanonicalizationError(f"JSON-LD expansion failed: {_jsonld_reason(exc)}") from None
    problems: list[str] = []
    _undefined(expanded, problems)
    if problems:
        raise CanonicalizationError("refusing to sign: " + "; ".join(dict.fromkeys(problems)))
    return expanded


def _jsonld_reason(exc: Exception) -> str:
    parts = []
    while exc is not None:
        details = getattr(exc, "details", None)
        msg = str(getattr(exc, "message", "") or exc).splitlines()[0]
        if details and isinstance(details, dict) and details.get("url"):
            msg += f" ({details['url']})"
        parts.append(msg)
        exc = exc.__cause__
    return ": ".join(dict.fromkeys(parts))


def _dataset(expanded: list) -> dict:
    """The RDF dataset of an already expanded document (pyld's to_rdf minus its re-expansion)."""
    proc = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, dict] = {"@default": {}}
    proc._create_node_map(expanded, node_map, "@default", issuer)
    options = {"produceGeneralizedRdf": False, "rdfDirection": None, "processingMode": "json-ld-1.1"}
    dataset = {}
    for graph_name, graph in sorted(node_map.items()):
        if graph_name == "@default" or jsonld._is_absolute_iri(graph_name):
            dataset[graph_name] = proc._graph_to_rdf(graph, issuer, options)
    return dataset


def _expanded_to_nquads(expanded: list) -> str:
    """RDFC-1.0 canonical N-Quads of an already expanded document."""
    return URDNA2015().main(_dataset(expanded), {"format": "application/n-quads"})


def _templates(store: ctx.ContextStore) -> TemplateCache:
    cache = store.derived.get("canonicalization-templates")
    if cache is None:
        cache = store.derived.setdefault("canonicalization-templates", TemplateCache())
    return cache


def canonicalize(document: dict[str, Any], store: ctx.ContextStore | None = None, *,
                 fast: bool = True) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, with the safety checks.

    ``fast`` uses the shape templates of :mod:`plugin.signing.fastcanon` (same bytes as pyld).
    """
    store = store or ctx.default_store()
    if fast:
        try:
            result = _templates(store).canonicalize(document, store, expand_checked)
        except jsonld.JsonLdError:
            result = None
        if result is not None:
            return result
    return _expanded_to_nquads(expand_checked(document, store))


def canonicalize_pyld(document: dict[str, Any], store: ctx.ContextStore | None = None) -> str:
    """The plain pyld path (``jsonld.normalize``), without checks: the reference for tests."""
    return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": _loader(store)})


def _iri_ok(value: str) -> bool:
    return jsonld._is_absolute_iri(value) and not value.startswith("_:") \
        and not any(c in value for c in '<>"{}|^`\\ \t\n\r') and not _CONTROL.search(value)


def canonical_proof_config(config: dict[str, Any], store: ctx.ContextStore | None = None) -> str:
    """Canonical N-Quads of a proof configuration.

    When the first context is VC 2.0 (whose protected ``DataIntegrityProof`` fixes how
    ``type``, ``cryptosuite``, ``created``, ``verificationMethod`` and ``proofPurpose``
    expand) and the configuration has exactly those members, the five quads are written
    directly; anything else goes through pyld.
    """
    contexts = config.get("@context")
    keys = set(config) - {"@context"}
    if (isinstance(contexts, list) and contexts and contexts[0] == ctx.CREDENTIALS_V2
            and all(isinstance(c, str) for c in contexts)
            and keys == {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose"}
            and config["type"] == PROOF_TYPE and config["proofPurpose"] == "assertionMethod"
            and config["cryptosuite"] == CRYPTOSUITE
            and isinstance(config["created"], str) and isinstance(config["verificationMethod"], str)
            and _iri_ok(config["verificationMethod"]) and not _CONTROL.search(config["created"])
            and '"' not in config["created"] and "\\" not in config["created"]
            and not any(c in config["created"] for c in "\t\n\r")):
        s = store or ctx.default_store()
        for url in contexts:  # every context must still be pinned and loadable
            try:
                s.get(url)
            except ctx.ContextError as exc:
                raise CanonicalizationError(str(exc)) from None
        return (f'_:c14n0 <http://purl.org/dc/terms/created> "{config["created"]}"^^<{XSD_DATETIME}> .\n'
                f"_:c14n0 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SEC}DataIntegrityProof> .\n"
                f'_:c14n0 <{SEC}cryptosuite> "{CRYPTOSUITE}"^^<{SEC}cryptosuiteString> .\n'
                f"_:c14n0 <{SEC}proofPurpose> <{SEC}assertionMethod> .\n"
                f"_:c14n0 <{SEC}verificationMethod> <{config['verificationMethod']}> .\n")
    return canonicalize(config, store)


# --------------------------------------------------------------------------- sign / verify
def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _created(created: str | datetime | None) -> str:
    if created is None:
        return _now()
    if isinstance(created, datetime):
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return created.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return created


def proof_config(document: dict[str, Any], verification_method: str, created: str,
                 proof_purpose: str = "assertionMethod") -> dict[str, Any]:
    return {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "created": created,
            "verificationMethod": verification_method, "proofPurpose": proof_purpose,
            "@context": document["@context"]}


def hash_data(document: dict[str, Any], config: dict[str, Any],
              store: ctx.ContextStore | None = None) -> bytes:
    """sha256(canonical proof config) || sha256(canonical document)."""
    return (hashlib.sha256(canonical_proof_config(config, store).encode()).digest()
            + hashlib.sha256(canonicalize(document, store).encode()).digest())


def sign(document: dict[str, Any], key: SigningKey, verification_method: str, *,
         created: str | datetime | None = None, store: ctx.ContextStore | None = None,
         proof_purpose: str = "assertionMethod", proof_as_array: bool = True) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` proof by ``key``.

    ``verification_method`` is the full id (``did:web:...#key``); ``created`` defaults to now
    (UTC, seconds). ``proof`` is a one-element array by default (the OB 3.0 schema wants an
    array); ``proof_as_array=False`` writes a single object (as in the W3C vectors).
    Raises :class:`SigningError` naming any undefined term, relative IRI or control character.
    """
    if key.algorithm != ED25519:
        raise SigningError(f"eddsa-rdfc-2022 needs an Ed25519 key, not {key.algorithm}")
    if "@context" not in document:
        raise SigningError("the document has no @context")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = proof_config(unsecured, verification_method, _created(created), proof_purpose)
    signature = key.sign(hash_data(unsecured, config, store))
    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = multibase_encode(signature)
    signed = dict(unsecured)
    signed["proof"] = [proof] if proof_as_array else proof
    return signed


@dataclass
class VerificationResult:
    ok: bool
    reason: str = ""
    verification_method: str | None = None
    controller: str | None = None
    created: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def _eddsa_proofs(document: dict[str, Any]) -> list[dict[str, Any]]:
    proofs = document.get("proof")
    if proofs is None:
        return []
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return [p for p in proofs if isinstance(p, dict) and p.get("type") == PROOF_TYPE
            and p.get("cryptosuite") == CRYPTOSUITE]


def verify(document: dict[str, Any], *, public_key=None, documents: Mapping[str, Any] | None = None,
           sources: Iterable = (), store: ctx.ContextStore | None = None,
           expected_purpose: str = "assertionMethod") -> VerificationResult:
    """Check the ``eddsa-rdfc-2022`` proof(s) of ``document``; never raises for a bad credential.

    The key comes from ``public_key`` when given, otherwise from the verification method,
    resolved offline through ``documents``/``sources`` (see :mod:`plugin.signing.did`).
    ``controller`` in the result is who controls the key: the caller checks it is the issuer.
    """
    from plugin.signing.did import ResolutionError, resolve_verification_method

    if not isinstance(document, dict) or "@context" not in document:
        return VerificationResult(False, "not a JSON-LD document (no @context)")
    proofs = _eddsa_proofs(document)
    if not proofs:
        return VerificationResult(False, f"no {PROOF_TYPE} proof with cryptosuite {CRYPTOSUITE}")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        doc_hash = hashlib.sha256(canonicalize(unsecured, store).encode()).digest()
    except (SigningError, ctx.ContextError) as exc:
        return VerificationResult(False, str(exc).replace("refusing to sign", "refusing to verify"))
    result = VerificationResult(False, "no proof checked")
    for proof in proofs:
        vm = proof.get("verificationMethod")
        value = proof.get("proofValue")
        purpose = proof.get("proofPurpose")
        if not isinstance(vm, str) or not isinstance(value, str):
            return VerificationResult(False, "the proof has no verificationMethod or proofValue")
        if purpose != expected_purpose:
            return VerificationResult(False, f"proof purpose is {purpose!r}, expected {expected_purpose!r}", vm)
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        config["@context"] = proof.get("@context", document["@context"])
        try:
            proof_hash = hashlib.sha256(canonical_proof_config(config, store).encode()).digest()
            signature = multibase_decode(value)
        except (SigningError, ctx.ContextError, ValueError) as exc:
            return VerificationResult(False, f"bad proof: {exc}", vm)
        controller = None
        key = public_key
        if key is None:
            try:
                key, controller = resolve_verification_method(vm, documents, sources)
            except (ResolutionError, ValueError) as exc:
                return VerificationResult(False, str(exc), vm)
        if not isinstance(key, Ed25519PublicKey):
            return VerificationResult(False, f"the key of {vm} is not an Ed25519 key, which "
                                             f"{CRYPTOSUITE} requires", vm, controller)
        if not verify_raw(key, signature, proof_hash + doc_hash):
            return VerificationResult(False, "the signature does not match the credential (it was changed "
                                             "after signing, or signed by another key)", vm, controller)
        result = VerificationResult(True, "", vm, controller, proof.get("created"))
    return result
