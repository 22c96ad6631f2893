"""The batched bulk pipeline does what ``award()`` does around a credential: the labels the
definition meets are in every credential it signs, and the pathways its credentials complete
are awarded (both were added to ``award()`` by other work and must not be lost in bulk)."""
from __future__ import annotations

from sqlalchemy import select

from plugin.domain.frameworks import parse_lines
from plugin.issuance import bulk
from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import Course, CredentialDefinition, IssuedCredential, Job, PathwayAward
from tests.engine_helpers import make_world
from tests.pathway_helpers import award_part, make_pathway_world


def _bulk(services, definition_id: int, csv_text: str) -> dict:
    with services.session() as s:
        job_id = bulk.start_bulk_issue(s, services, s.get(CredentialDefinition, definition_id), csv_text.encode(),
                                       actor="lti:teacher", filename="passed.csv")
    assert EmbeddedWorker(services).run_until_empty() >= 1
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.last_error
        return job.result


def test_bulk_credentials_carry_the_labels_and_alignments_award_would_give(services):
    world = make_world(services)
    with services.session() as s:
        definition = s.get(CredentialDefinition, world.definition_id)
        definition.labels = ["gradeo"]
        data = demo_definition().model_copy(update={"framework_alignments": parse_lines(
            "RNCP34826BC01 — Analyser des données")[0]})
        issuance.save_definition(s, s.get(Course, definition.course_id), data, "test")
    result = _bulk(services, world.definition_id, "sub,name\nbulk-1,Ada\nbulk-2,Grace\n")
    assert result["counts"]["issued"] == 2
    with services.session() as s:
        documents = s.scalars(select(IssuedCredential.document).where(
            IssuedCredential.definition_id == world.definition_id)).all()
    assert len(documents) == 2
    for document in documents:
        kinds = {a.get("targetType") for a in document["credentialSubject"]["achievement"].get("alignment", [])}
        assert {"ext:Label", "ext:RNCPBlock"} <= kinds, kinds


def test_a_bulk_issue_of_the_last_part_awards_the_pathway(services):
    world = make_pathway_world(services)
    award_part(services, world, 0)
    award_part(services, world, 1)
    with services.session() as s:
        assert s.scalars(select(PathwayAward)).first() is None
    result = _bulk(services, world.definitions[2], "sub\npath-learner\n")
    assert result["counts"]["issued"] == 1
    with services.session() as s:
        awards = s.scalars(select(PathwayAward).where(PathwayAward.pathway_id == world.pathway_id)).all()
        assert len(awards) == 1
        target = s.get(IssuedCredential, awards[0].credential_id)
        assert target.definition_id == world.target_definition_id and target.status == "active"
