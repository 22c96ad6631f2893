"""``verify`` on European Digital Credentials: sealed, bare, tampered, by unknown authorities."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from plugin.signing import jades
from plugin.verification.verify import Resolver, verify
from tests.composition.test_edc import compose
from tests.edc_support import make_seal

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "elm" / "Sample-MC-Annex1-signed.jsonld"


def checks(report) -> dict:
    return {c.name: c.ok for c in report.checks}


def test_a_sealed_edc_under_a_trust_anchor_is_valid():
    m = make_seal()
    sealed = jades.seal(compose(), m.key, m.chain)
    report = verify(json.dumps(sealed).encode(), Resolver(edc_anchors=[m.ca]))
    assert report.ok and report.status == "valid" and report.format == "edc-jades"
    assert checks(report) == {"format": True, "seal": True, "certificate": True, "shapes": True, "validity_dates": True}
    assert report.proof_type == "JAdES/RS256"


def test_unknown_authority_tampering_and_no_seal_are_told_apart():
    m = make_seal("ec")
    sealed = jades.seal(compose(), m.key, m.chain)
    unknown = verify(sealed, Resolver())
    assert not unknown.ok and unknown.status == "unknown-authority"
    assert "not a qualified seal we can vouch for: unknown authority" in unknown.check("certificate").message
    tampered = copy.deepcopy(sealed)
    tampered["payload"] = tampered["payload"].replace("Grace Hopper", "Grace Hoppet")
    bad = verify(tampered, Resolver(edc_anchors=[m.ca]))
    assert bad.status == "invalid" and bad.check("seal").ok is False and bad.check("certificate").ok is None
    bare = verify(compose(), Resolver())
    assert bare.status == "unsealed" and bare.check("seal").ok is False and bare.check("shapes").ok


def test_the_commission_sealed_sample_verifies_its_signature_and_a_tampered_copy_does_not():
    data = SAMPLE.read_bytes()
    report = verify(data, Resolver())
    assert report.check("seal").ok and report.check("shapes").ok and report.check("format").ok
    assert report.status == "unknown-authority"  # its test CA is not among our anchors
    doc = json.loads(data)
    doc["payload"] = doc["payload"].replace("Digital micro-credential creation", "Digital micro-credential creatioN")
    tampered = verify(json.dumps(doc).encode(), Resolver())
    assert tampered.status == "invalid" and tampered.check("seal").ok is False


def test_a_sealed_edc_whose_content_breaks_the_shapes_is_invalid():
    m = make_seal()
    doc = compose()
    del doc["issued"]
    report = verify(jades.seal(doc, m.key, m.chain), Resolver(edc_anchors=[m.ca]))
    assert report.status == "invalid" and report.check("seal").ok and report.check("shapes").ok is False
    assert "issued is missing" in report.check("shapes").message
