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
from tests.clr_schema import assert_valid_clr, clr_schema_problems
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
    assert_valid_clr(record)  # the official 1EdTech CLR 2.0 schema
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
    assert_valid_clr(json.loads(out.read_text()))
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


def test_a_record_of_one_credential_meets_the_official_schema(services):
    """One credential, no pathway: no association, one achievement; still a valid ClrCredential."""
    world = make_pathway_world(services)
    award_part(services, world, 1)
    with services.session() as s:
        record = learner_record(s, services, s.get(Learner, world.learner_id))
    subject = record["credentialSubject"]
    assert len(subject["verifiableCredential"]) == 1 and "association" not in subject
    assert_valid_clr(record)


def test_a_record_across_two_linked_platform_accounts_meets_the_official_schema(services):
    """Several credentials held under two identities (two platforms), linked by the learner: the
    pathway awarded on linking, every credential in one record, each part related to the pathway."""
    from datetime import datetime, timezone

    from plugin.issuance import pathways
    from plugin.issuance import service as issuance
    from plugin.storage.models import PassEvidence
    world = make_pathway_world(services)
    award_part(services, world, 0)
    award_part(services, world, 1)
    with services.session() as s:
        other = Learner(platform_issuer="https://lms2.example", sub="ada-elsewhere", name="Ada", email="ada@lms2.example")
        s.add(other)
        s.flush()
        ev = PassEvidence(definition_id=world.definitions[2], learner_id=other.id, source="test", dedup_key="t:elsewhere",
                          passed=True, score=90, details={}, observed_at=datetime(2026, 5, 3, tzinfo=timezone.utc))
        s.add(ev)
        s.flush()
        issuance.award(s, services, definition_id=world.definitions[2], learner_id=other.id, evidence_id=ev.id)
        awarded = pathways.link_identities(s, services, s.get(Learner, world.learner_id), other, method="launch",
                                           actor="learner:test")
        assert len(awarded) == 1
        other_id = other.id
    with services.session() as s:
        record = learner_record(s, services, s.get(Learner, other_id))  # asked from either identity
        held = s.scalars(select(IssuedCredential).where(IssuedCredential.status == "active")).all()
    subject = record["credentialSubject"]
    assert sorted(c["id"] for c in subject["verifiableCredential"]) == sorted(c.credential_id for c in held)
    assert len(held) == 4 and len(subject["achievement"]) == 4
    assert len(subject["association"]) == 6  # three parts, isPartOf and isChildOf each
    assert_valid_clr(record)
    assert verify(record, tool_resolver(services)).status == "valid"


def test_the_schema_check_catches_a_broken_record(services):
    """The check has teeth: what a displayer would refuse is named, field by field."""
    world = make_pathway_world(services)
    for i in range(3):
        award_part(services, world, i)
    with services.session() as s:
        record = learner_record(s, services, s.get(Learner, world.learner_id))
    assert clr_schema_problems(record) == []

    def broken(change):
        copy = json.loads(json.dumps(record))
        change(copy)
        return " | ".join(clr_schema_problems(copy))
    assert "'validFrom' is a required property" in broken(lambda r: r.pop("validFrom"))
    assert "validFrom" in broken(lambda r: r.update(validFrom="yesterday"))
    assert "credentialSubject/association/0/associationType" in broken(
        lambda r: r["credentialSubject"]["association"][0].update(associationType="partOf"))
    assert "credentialSubject/achievement/0" in broken(lambda r: r["credentialSubject"]["achievement"][0].pop("criteria"))
    assert "type" in broken(lambda r: r.update(type=["VerifiableCredential", "LearnerRecord"]))


def test_the_schema_copy_accepts_1edtechs_own_sample_record():
    """A control on the fixture itself: 1EdTech's sample CLR 2.0 (from its validator's tests) meets it."""
    from pathlib import Path
    sample = json.loads((Path(__file__).parents[1] / "fixtures" / "clr" / "1edtech-validator-clr20-simple.json").read_text())
    assert "ClrCredential" in sample["type"]
    assert_valid_clr(sample)
