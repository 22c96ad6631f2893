"""The learner record (CLR 2.0): every active credential of the person, signed, with the
pathway's parts related to it; it verifies like any credential."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from plugin.cli import cli
from plugin.issuance.clr import learner_record
from plugin.storage.models import IssuedCredential, Learner
from plugin.verification.resolver import tool_resolver
from plugin.verification.verify import verify
from tests.pathway_helpers import award_part, make_pathway_world


def test_the_record_holds_every_credential_and_the_pathway_associations(services):
    world = make_pathway_world(services)
    for i in range(3):
        award_part(services, world, i)
    with services.session() as s:
        learner = s.get(Learner, world.learner_id)
        record = learner_record(s, services, learner)
        creds = s.scalars(select(IssuedCredential).order_by(IssuedCredential.id)).all()
        parts = [c for c in creds if c.definition_id in world.definitions]
        target = next(c for c in creds if c.definition_id == world.target_definition_id)
    subject = record["credentialSubject"]
    assert record["type"] == ["VerifiableCredential", "ClrCredential"]
    assert [c["id"] for c in subject["verifiableCredential"]] == [c.credential_id for c in creds]
    assert subject["verifiableCredential"][0]["proof"] == creds[0].document["proof"]  # embedded as signed
    target_achievement = target.document["credentialSubject"]["achievement"]["id"]
    for kind in ("isPartOf", "isChildOf"):
        assert sorted(a["sourceId"] for a in subject["association"]
                      if a["associationType"] == kind and a["targetId"] == target_achievement) == sorted(
            p.document["credentialSubject"]["achievement"]["id"] for p in parts)
    report = verify(record, tool_resolver(services))
    assert report.status == "valid", [(c.name, c.ok, str(c.message)[:300]) for c in report.checks]
    tampered = json.loads(json.dumps(record))
    tampered["credentialSubject"]["verifiableCredential"].pop()
    assert verify(tampered, tool_resolver(services)).status == "invalid"


def test_export_clr_command(services, settings, tmp_path):
    world = make_pathway_world(services)
    award_part(services, world, 0)
    with services.session() as s:
        learner_id = s.get(Learner, world.learner_id).public_id
    out = tmp_path / "record.json"
    result = CliRunner().invoke(cli, ["export", "clr", learner_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    check = CliRunner().invoke(cli, ["verify", str(out)])
    assert check.exit_code == 0 and "result: valid" in check.output, check.output
    missing = CliRunner().invoke(cli, ["export", "clr", "nobody"])
    assert missing.exit_code == 1 and "no learner 'nobody'" in missing.output


def test_digitalbazaar_verifies_the_record(services, js_verify):
    from plugin.verification.resolver import documents_for
    world = make_pathway_world(services)
    for i in range(3):
        award_part(services, world, i)
    with services.session() as s:
        record = learner_record(s, services, s.get(Learner, world.learner_id))
        documents = documents_for(s, services, [record] + record["credentialSubject"]["verifiableCredential"])
    [result] = js_verify([record], documents, verifiers=["digitalbazaar"])
    assert result["digitalbazaar"]["verified"] is True, result
