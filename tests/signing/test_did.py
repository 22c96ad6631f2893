from dataclasses import dataclass

import pytest

from plugin.signing import did
from plugin.signing.did import ResolutionError, did_document, issuer_did, resolve_verification_method
from plugin.signing.keys import generate_ed25519, generate_rsa, public_jwk


def test_issuer_did_encodes_port_and_path():
    assert issuer_did("https://tool.example", "uni") == "did:web:tool.example:issuers:uni"
    assert issuer_did("http://127.0.0.1:5000", "uni") == "did:web:127.0.0.1%3A5000:issuers:uni"
    assert issuer_did("https://host.eu/mc/", "u-x") == "did:web:host.eu:mc:issuers:u-x"


def test_did_web_url_is_where_the_tool_serves_the_document():
    for base in ("https://tool.example", "http://127.0.0.1:5000", "https://host.eu/mc", "http://tool.test"):
        d = issuer_did(base, "uni")
        assert did.did_web_url(d) == did.issuer_did_document_url(base, "uni") == f"{base}/issuers/uni/did.json"
    assert did.did_web_url("did:web:example.com") == "https://example.com/.well-known/did.json"


@dataclass
class Row:  # what an IssuerKey row looks like
    key_id: str
    algorithm: str
    public_multibase: str | None
    public_jwk: dict


def test_document_lists_every_key_for_assertions_with_the_did_as_controller():
    d = issuer_did("https://tool.example", "uni")
    old, new, rsa = generate_ed25519(), generate_ed25519(), generate_rsa(key_id="rsa-1")
    rows = [Row(old.key_id, "Ed25519", old.public_multibase, old.public_jwk),  # retired, still listed
            Row(new.key_id, "Ed25519", None, new.public_jwk),
            Row(rsa.key_id, "RS256", None, rsa.public_jwk)]
    doc = did_document(d, rows)
    assert doc["id"] == d
    ids = [m["id"] for m in doc["verificationMethod"]]
    assert ids == [f"{d}#{old.key_id}", f"{d}#{new.key_id}", f"{d}#rsa-1"]
    assert doc["assertionMethod"] == ids
    assert all(m["controller"] == d for m in doc["verificationMethod"])
    assert doc["verificationMethod"][1]["publicKeyMultibase"] == new.public_multibase
    assert doc["verificationMethod"][2]["type"] == "JsonWebKey"
    for key in (old, new, rsa):
        public, controller = resolve_verification_method(f"{d}#{key.key_id}", {d: doc})
        assert controller == d and public_jwk(public) == key.public_jwk


def test_resolution_by_url_and_by_source():
    d = issuer_did("http://127.0.0.1:5000", "uni")
    key = generate_ed25519()
    doc = did_document(d, [key])
    url = did.did_web_url(d)
    assert resolve_verification_method(f"{d}#{key.key_id}", {url: doc})[1] == d
    asked = []

    def source(ref):
        asked.append(ref)
        return doc if ref == url else None
    assert resolve_verification_method(f"{d}#{key.key_id}", None, [source])[1] == d
    assert asked == [d, url]


def test_did_key_resolves_without_documents():
    key = generate_ed25519()
    vm = f"did:key:{key.public_multibase}#{key.public_multibase}"
    public, controller = resolve_verification_method(vm)
    assert controller == f"did:key:{key.public_multibase}"
    assert public_jwk(public) == key.public_jwk


def test_unknown_and_unauthorised_methods_are_refused():
    d = issuer_did("https://tool.example", "uni")
    key = generate_ed25519()
    doc = did_document(d, [key])
    with pytest.raises(ResolutionError, match="not among the known documents"):
        resolve_verification_method(f"{d}#{key.key_id}", {})
    with pytest.raises(ResolutionError, match="not listed"):
        resolve_verification_method(f"{d}#other", {d: doc})
    no_assert = dict(doc, assertionMethod=[])
    with pytest.raises(ResolutionError, match="not authorised for assertionMethod"):
        resolve_verification_method(f"{d}#{key.key_id}", {d: no_assert})
    foreign = dict(doc, verificationMethod=[dict(doc["verificationMethod"][0], controller="did:web:evil.example")])
    with pytest.raises(ResolutionError, match="controlled by did:web:evil.example"):
        resolve_verification_method(f"{d}#{key.key_id}", {d: foreign})
