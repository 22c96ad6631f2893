"""``microcred export edc`` and ``microcred verify`` on European Digital Credentials."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from plugin.cli import cli
from plugin.issuance import edc_sealing
from plugin.issuance import service as issuance
from plugin.storage.models import Issuer
from plugin.verification.shacl import validate_edc
from tests.edc_support import make_seal
from tests.engine_helpers import make_world


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def issued(services):
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Ada Lovelace")
        return world, row.public_id


def test_export_edc_to_stdout_and_to_a_file(issued, tmp_path):
    _world, public_id = issued
    result = run("export", "edc", public_id)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["type"][1] == "EuropeanDigitalCredential" and validate_edc(doc).conforms
    out = tmp_path / "x.edc.json"
    result = run("export", "edc", public_id, "--out", out)
    assert result.exit_code == 0 and json.loads(out.read_text()) == doc
    bare = run("verify", out)
    assert bare.exit_code == 1 and "result: unsealed" in bare.output


def test_export_sealed_and_verify_with_trust_anchors(services, issued, tmp_path):
    world, public_id = issued
    assert run("export", "edc", public_id, "--sealed").exit_code == 1  # the body does not seal (yet)
    m = make_seal()
    with services.session() as s:
        key, chain = edc_sealing.load_seal_material(m.pem_chain(), None, m.pem_key())
        edc_sealing.set_own_seal(s, services, s.get(Issuer, world.issuer_id), key, chain, actor="t")
    out = tmp_path / "x.edc.jades.json"
    assert run("export", "edc", public_id, "--sealed", "--out", out).exit_code == 0
    unknown = run("verify", out)
    assert unknown.exit_code == 1 and "result: unknown-authority" in unknown.output
    assert "unknown authority" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    anchors = tmp_path / "ca.pem"
    anchors.write_bytes(m.ca_pem())
    ok = run("verify", out, "--trust-anchors", anchors)
    assert ok.exit_code == 0 and "PASS  certificate" in ok.output, ok.output
    bad_anchor = tmp_path / "bad.pem"
    bad_anchor.write_text("nope")
    refused = run("verify", out, "--trust-anchors", bad_anchor)
    assert refused.exit_code == 1 and "cannot use" in refused.stderr


def test_export_of_an_unknown_credential_is_one_line(services):
    result = run("export", "edc", "no-such-credential")
    assert result.exit_code == 1 and result.stderr.strip() == "microcred: error: no credential 'no-such-credential'"
