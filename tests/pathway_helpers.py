"""A pathway of three course credentials (5 ECTS each) towards a 15-ECTS certificate."""
from __future__ import annotations

from dataclasses import dataclass

from plugin.issuance import pathways
from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition, demo_profile
from plugin.storage.models import Course
from tests.engine_helpers import add_learner


@dataclass
class PathwayWorld:
    issuer_id: int
    pathway_id: int
    pathway_public_id: str
    target_definition_id: int
    definitions: list[int]          # the three parts
    definition_public_ids: list[str]
    learner_id: int
    evidence: list[int]             # the learner's pass evidence for each part


def target_definition():
    return demo_definition().model_copy(update={
        "title": "Certificate in Public Data", "ects_credits": 15, "workload_hours": 375,
        "stackable_towards": "Master in Public Policy Analysis (Université Démo de Lille)"})


def make_pathway_world(services, slug: str = "acme", *, kind: str = "all", min_ects: float | None = 15,
                       enabled: bool = True) -> PathwayWorld:
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, slug, demo_profile(), actor="test")
        ids, public_ids = [], []
        for i, title in enumerate(["Open data", "Statistics for policy", "Policy briefs"], start=1):
            course = Course(platform_issuer="https://lms.example", context_id=f"{slug}-c{i}", title=title)
            s.add(course)
            s.flush()
            version = issuance.save_definition(s, course, demo_definition().model_copy(update={"title": title}),
                                               "test", issuer)
            issuance.set_enabled(s, version.definition, True, actor="test")
            ids.append(version.definition.id)
            public_ids.append(version.definition.public_id)
        leaves = [{"credential": p} for p in public_ids]
        tree = {"all": leaves} if kind == "all" else {"at_least": 2, "of": leaves}
        rules = {"name": "Certificate in Public Data", "requirements": tree, "min_ects": min_ects}
        pathway = pathways.create_pathway(s, services, issuer, rules, target_definition(), actor="admin:test")
        if enabled:
            pathways.set_pathway_enabled(s, pathway, True, actor="admin:test")
        learner_id, ev0 = add_learner(s, ids[0], sub="path-learner")
        evidence = [ev0]
        from datetime import datetime, timezone

        from plugin.storage.models import PassEvidence
        for did in ids[1:]:
            ev = PassEvidence(definition_id=did, learner_id=learner_id, source="test", dedup_key=f"test:{did}",
                              passed=True, score=80, pass_mark=50, details={"score_max": 100},
                              observed_at=datetime(2026, 5, 2, tzinfo=timezone.utc))
            s.add(ev)
            s.flush()
            evidence.append(ev.id)
        return PathwayWorld(issuer.id, pathway.id, pathway.public_id, pathway.target_definition_id, ids, public_ids,
                            learner_id, evidence)


def award_part(services, world: PathwayWorld, index: int):
    with services.session() as s:
        row, created = issuance.award(s, services, definition_id=world.definitions[index],
                                      learner_id=world.learner_id, evidence_id=world.evidence[index])
        return row.public_id, created
