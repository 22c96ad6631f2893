"""JAdES seals: made by us, verified by us and by two independent JOSE implementations
(jwcrypto, npm jose); any changed byte refused; the Commission's sealed sample verifies."""
from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.signing import jades
from tests.edc_support import ORG_ID, make_seal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "elm"
DOC = {"@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:uuid:1",
       "type": ["VerifiableCredential", "EuropeanDigitalCredential"], "title": {"fr": "Données publiques — été"}}


def commission_sample() -> dict:
    return json.loads((FIXTURES / "Sample-MC-Annex1-signed.jsonld").read_text(encoding="utf-8"))


def header_of(sealed: dict) -> dict:
    return json.loads(jades.b64url_decode(sealed["signatures"][0]["protected"]))


@pytest.fixture(scope="module", params=["rsa", "ec"])
def material(request):
    return make_seal(request.param)


def test_seal_header_has_the_jades_baseline_b_parameters(material):
    when = datetime.now(timezone.utc).replace(microsecond=0)
    sealed = jades.seal(DOC, material.key, material.chain, signing_time=when)
    h = header_of(sealed)
    assert h["alg"] == ("RS256" if isinstance(material.key, rsa.RSAPrivateKey) else "ES256")
    assert h["b64"] is False and h["crit"] == ["b64", "sigT"] and h["sigT"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert h["typ"] == "jose+json"
    assert len(h["x5c"]) == 2 and x509.load_der_x509_certificate(base64.b64decode(h["x5c"][0])) == material.cert
    assert h["x5t#S256"] == jades.x5t_s256(material.cert)
    assert h["kid"] == jades.issuer_serial_kid(material.cert)
    assert json.loads(sealed["payload"]) == DOC  # unencoded: the payload member is the JSON text itself
    report = jades.verify(sealed, anchors=[material.ca])
    assert report.signature_ok and report.trusted, (report.signature_message, report.chain_message)
    assert report.organization_identifier == ORG_ID and report.payload == DOC


def jwcrypto_token(sealed: dict):
    """jwcrypto knows b64 (RFC 7797); JAdES's sigT is declared understood as an extra header."""
    from jwcrypto import jws
    from jwcrypto.common import JWSEHeaderParameter
    token = jws.JWS(header_registry={"sigT": JWSEHeaderParameter("Claimed signing time", True, True, None)})
    token.deserialize(json.dumps(sealed))
    token.allowed_algs = [header_of(sealed)["alg"]]
    return token


def test_our_seal_verifies_with_jwcrypto(material):
    from jwcrypto import jwk
    sealed = jades.seal(DOC, material.key, material.chain)
    key = jwk.JWK.from_pem(material.cert.public_bytes(jades.serialization.Encoding.PEM))
    token = jwcrypto_token(sealed)
    token.verify(key)
    payload = token.payload
    assert (payload.decode("utf-8") if isinstance(payload, bytes) else payload) == sealed["payload"]


def _tampered_payload(sealed: dict) -> dict:
    t = copy.deepcopy(sealed)
    t["payload"] = t["payload"].replace("été", "étè", 1)
    assert t["payload"] != sealed["payload"]
    return t


def _tampered_header(sealed: dict) -> dict:
    t = copy.deepcopy(sealed)
    h = header_of(sealed)
    h["sigT"] = h["sigT"][:-2] + ("1Z" if h["sigT"][-2] != "1" else "2Z")  # one character of the header
    t["signatures"][0]["protected"] = jades.b64url(json.dumps(h, separators=(",", ":")).encode())
    return t


def test_one_changed_byte_of_payload_or_header_is_refused_by_us_and_by_jwcrypto(material):
    from jwcrypto import jwk
    from jwcrypto.common import JWException
    sealed = jades.seal(DOC, material.key, material.chain)
    key = jwk.JWK.from_pem(material.cert.public_bytes(jades.serialization.Encoding.PEM))
    for bad in (_tampered_payload(sealed), _tampered_header(sealed)):
        report = jades.verify(bad, anchors=[material.ca])
        assert not report.signature_ok and "changed" in report.signature_message
        token = jwcrypto_token(bad)
        with pytest.raises(JWException):
            token.verify(key)


def test_seals_checked_by_npm_jose(jose_js):
    rsa, ec_ = make_seal("rsa"), make_seal("ec")
    good = [jades.seal(DOC, m.key, m.chain) for m in (rsa, ec_)]
    bad = [_tampered_payload(good[0]), _tampered_header(good[1])]
    results = jose_js(good + bad + [commission_sample()])
    assert [r["verified"] for r in results] == [True, True, False, False, True], results
    assert results[0]["payloadMatches"] and results[1]["alg"] == "ES256"


def test_the_commission_sealed_sample_verifies_and_a_tampered_copy_does_not():
    sample = commission_sample()
    report = jades.verify(sample)
    assert report.signature_ok, report.signature_message
    assert report.algorithm == "RS256" and report.organization_identifier == "VATES-A00000000"
    assert report.qualified_claim and report.eseal_claim  # its certificate says: qualified, for e-seals
    assert report.chain_status == "untrusted" and "unknown authority" in report.chain_message
    assert "timestamp on the signed data" in report.not_checked  # adoTst is recognised, not checked
    tampered = copy.deepcopy(sample)
    tampered["payload"] = tampered["payload"].replace("Ana Andromeda", "Ana Andromedb", 1)
    assert not jades.verify(tampered).signature_ok


def test_our_kid_encoding_is_the_one_the_commission_writes():
    sample = commission_sample()
    h = header_of(sample)
    cert = x509.load_der_x509_certificate(base64.b64decode(h["x5c"][0]))
    assert jades.issuer_serial_kid(cert) == h["kid"]


def test_the_commission_sample_chain_is_trusted_once_its_ca_is_an_anchor():
    sample = commission_sample()
    extra = jades._extra_certificates(sample["signatures"][0])  # the etsiU xVals certificates
    ca = next(c for c in extra if c.subject.rfc4514_string().startswith("CN=ANF AC Qualified Certificates for eSeal,"))
    report = jades.verify(sample, anchors=[ca])
    assert report.trusted, report.chain_message


def test_chain_problems_are_named(material):
    other = make_seal("ec", ca_name="Another CA")
    sealed = jades.seal(DOC, material.key, [material.cert])
    assert jades.verify(sealed, anchors=[other.ca]).chain_status == "untrusted"
    assert jades.verify(sealed, anchors=[material.ca]).trusted  # the anchor completes a one-certificate x5c
    late = jades.seal(DOC, material.key, material.chain, signing_time=datetime.now(timezone.utc) + timedelta(days=4000))
    report = jades.verify(late, anchors=[material.ca])
    assert report.signature_ok and report.chain_status == "invalid" and "not valid at the signing time" in report.chain_message


def test_unknown_critical_parameters_and_lies_about_the_certificate_are_refused(material):
    sealed = jades.seal(DOC, material.key, material.chain)
    h = header_of(sealed)
    for change in ({"crit": ["b64", "sigT", "x-unknown"], "x-unknown": 1}, {"x5t#S256": jades.x5t_s256(material.ca)},
                   {"crit": ["sigT"]}):
        forged = dict(h, **change)
        protected = jades.b64url(json.dumps(forged, separators=(",", ":")).encode())
        signature = jades._sign(material.key, h["alg"], protected.encode() + b"." + sealed["payload"].encode())
        doc = {"payload": sealed["payload"], "signatures": [{"protected": protected, "signature": jades.b64url(signature)}]}
        assert not jades.verify(doc).signature_ok


def test_a_key_that_is_not_the_certificates_is_refused():
    a, b = make_seal("ec"), make_seal("ec")
    with pytest.raises(jades.JadesError):
        jades.seal(DOC, a.key, [b.cert])


@pytest.mark.parametrize("bad", [{}, {"payload": "x"}, {"payload": 1, "signatures": []},
                                 {"payload": "{}", "signatures": [{"protected": "!!", "signature": "x"}]}])
def test_unreadable_documents_raise_a_clear_error(bad):
    with pytest.raises(jades.JadesError):
        jades.verify(bad)
