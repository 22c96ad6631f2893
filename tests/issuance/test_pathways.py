"""Pathway credentials: awarded automatically when the last part is issued, exactly once
under concurrency, citing their parts, and flagged (never silently changed) when a part is revoked."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from plugin.domain.pathways import PathwayError
from plugin.issuance import pathways
from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_profile
from plugin.storage.models import AuditLog, IssuedCredential, PathwayAward
from plugin.verification.resolver import tool_resolver
from plugin.verification.verify import verify
from tests.pathway_helpers import award_part, make_pathway_world


def _pathway_credentials(s, world):
    return s.scalars(select(IssuedCredential).where(
        IssuedCredential.definition_id == world.target_definition_id)).all()


def test_the_last_part_awards_the_pathway_credential_citing_its_parts(services):
    world = make_pathway_world(services)
    award_part(services, world, 0)
    award_part(services, world, 1)
    with services.session() as s:
        assert _pathway_credentials(s, world) == []
        pathway = s.get(pathways.Pathway, world.pathway_id)
        prog, _rules = pathways.learner_progress(s, pathway, world.learner_id)
        assert (prog.done, prog.needed, prog.ects_earned, prog.ects_required) == (2, 3, 10, 15)
        assert prog.missing == (world.definition_public_ids[2],)
    award_part(services, world, 2)
    with services.session() as s:
        [target] = _pathway_credentials(s, world)
        parts = s.scalars(select(IssuedCredential).where(IssuedCredential.definition_id.in_(world.definitions))
                          .order_by(IssuedCredential.id)).all()
        doc = target.document
        cited = [e for e in doc["evidence"] if e.get("genre") == "Part credential"]
        assert [e["id"] for e in cited] == [p.credential_id for p in parts]
        assert [e["digestSRI"] for e in cited] == [pathways.document_digest(p.document) for p in parts]
        assert doc["credentialSubject"]["achievement"]["hasPart"] == [
            p.document["credentialSubject"]["achievement"]["id"] for p in parts]
        assert doc["credentialSubject"]["creditsEarned"] == 15
        award = s.scalars(select(PathwayAward)).one()
        assert award.credential_id == target.id and len(award.parts) == 3
        assert "pathway.award" in s.scalars(select(AuditLog.action)).all()
        token = target.jwt
    resolver = tool_resolver(services)
    assert verify(doc, resolver).status == "valid"
    assert verify(token, resolver).status == "valid"


def test_disabled_pathways_and_unmet_conditions_award_nothing(services):
    world = make_pathway_world(services, enabled=False)
    for i in range(3):
        award_part(services, world, i)
    with services.session() as s:
        assert _pathway_credentials(s, world) == []


def test_at_least_two_of_three_awards_on_the_second_part_when_no_ects_minimum(services):
    world = make_pathway_world(services, kind="at_least", min_ects=None)
    award_part(services, world, 2)
    award_part(services, world, 0)
    with services.session() as s:
        [target] = _pathway_credentials(s, world)
        assert len([e for e in target.document["evidence"] if e.get("genre") == "Part credential"]) == 2
    award_part(services, world, 1)  # a third part later changes nothing
    with services.session() as s:
        assert len(_pathway_credentials(s, world)) == 1


def test_fifty_concurrent_issuances_of_the_last_part_make_one_pathway_credential(services):
    world = make_pathway_world(services)
    award_part(services, world, 0)
    award_part(services, world, 1)
    barrier = threading.Barrier(50, timeout=60)
    outcomes, errors = [], []

    def racer():
        try:
            barrier.wait()
            outcomes.append(award_part(services, world, 2))
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=racer) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert sorted(created for _id, created in outcomes) == [False] * 49 + [True]
    with services.session() as s:
        assert len(_pathway_credentials(s, world)) == 1
        assert s.scalar(select(func.count()).select_from(PathwayAward)) == 1


def test_the_check_job_awards_when_the_last_parts_were_committed_apart(services):
    """Two different last parts committed by transactions that could not see each other:
    the pathway_check job queued by each evaluates again after the commit."""
    from plugin.jobs.queue import execute_job
    from plugin.storage.models import Job
    world = make_pathway_world(services)
    award_part(services, world, 0)
    # Simulate the race: the third part exists but the pathway was disabled when it was issued.
    with services.session() as s:
        s.get(pathways.Pathway, world.pathway_id).enabled = False
    award_part(services, world, 2)
    award_part(services, world, 1)
    with services.session() as s:
        s.get(pathways.Pathway, world.pathway_id).enabled = True
        assert _pathway_credentials(s, world) == []
        s.add(Job(kind="pathway_check", payload={"learner_id": world.learner_id, "pathways": [world.pathway_id]}))
        s.flush()
        job_id = s.scalars(select(Job.id).where(Job.kind == "pathway_check").order_by(Job.id.desc())).first()
    assert execute_job(services, job_id) == "done"
    with services.session() as s:
        assert len(_pathway_credentials(s, world)) == 1


def test_revoking_a_part_flags_the_pathway_credential_for_review(services):
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(3)]
    with services.session() as s:
        part = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == ids[1])).one()
        issuance.revoke(s, part, "exam fraud", "admin:alice")
    with services.session() as s:
        [award] = pathways.awards_needing_review(s)
        assert award.credential.status == "active"  # never changed silently
        assert award.review_reason == "exam fraud"
        assert pathways.revoked_part_name(award) == "Statistics for policy"
        pathways.decide_review(s, award, "keep", actor="admin:alice", reason="other evidence")
        assert award.review == "kept" and award.credential.status == "active"
        with pytest.raises(issuance.IssuanceError, match="not waiting"):
            pathways.decide_review(s, award, "revoke", actor="admin:alice")
    with services.session() as s:
        part = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == ids[0])).one()
        issuance.revoke(s, part, "duplicate account", "admin:alice")
        [award] = pathways.awards_needing_review(s)
        pathways.decide_review(s, award, "revoke", actor="admin:alice")
        assert award.credential.status == "revoked" and award.review == "revoked"


def test_parts_from_an_awarding_body_the_pathway_does_not_accept_are_refused(services):
    world = make_pathway_world(services)
    with services.session() as s:
        other = issuance.create_issuer(s, services, "other-univ", demo_profile(), actor="test")
        rules = {"name": "Foreign", "requirements": {"all": [{"credential": world.definition_public_ids[0]}]}}
        with pytest.raises(PathwayError, match="does not accept"):
            pathways.create_pathway(s, services, other, rules, __import__("tests.pathway_helpers").pathway_helpers
                                    .target_definition(), actor="admin:x")
        rules["accepted_issuers"] = ["acme"]
        pathway = pathways.create_pathway(s, services, other, rules,
                                          __import__("tests.pathway_helpers").pathway_helpers.target_definition(),
                                          actor="admin:x")
        assert pathway.current_version == 1
        with pytest.raises(PathwayError, match="no credential with the id"):
            pathways.update_pathway(s, pathway, {"name": "x", "requirements": {"credential": "nope"}}, actor="a")


def test_a_pathway_cannot_require_itself(services):
    world = make_pathway_world(services)
    with services.session() as s:
        pathway = s.get(pathways.Pathway, world.pathway_id)
        rules = {"name": "loop", "requirements": {"any": [{"credential": pathway.target.public_id}]}}
        with pytest.raises(PathwayError, match="its own credential"):
            pathways.update_pathway(s, pathway, rules, actor="admin:test")


def test_the_edc_export_relates_the_pathway_credential_and_its_parts(services):
    from plugin.issuance.edc import export
    from plugin.composition.edc import edc_id
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(3)]
    with services.session() as s:
        [target] = _pathway_credentials(s, world)
        doc = export(s, services, target)  # validated against the Commission's EDC shapes
        achievement = doc["credentialSubject"]["hasClaim"][0]
        parts = [s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == i)).one() for i in ids]
        assert [a["id"] for a in achievement["hasPart"]] == [edc_id(p.credential_id) + "#achievement" for p in parts]
        assert [q["id"] for q in achievement["specifiedBy"]["hasPart"]] == [
            edc_id(p.credential_id) + "#specification" for p in parts]
        part_doc = export(s, services, parts[0])
        spec = part_doc["credentialSubject"]["hasClaim"][0]["specifiedBy"]
        assert {"id": f"{services.settings.base_url.rstrip('/')}/pathways/{world.pathway_public_id}",
                "type": "Qualification", "title": {"en": "Certificate in Public Data"}} in spec["isPartOf"]
