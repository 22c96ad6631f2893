"""Builds an issuer, a course with a complete enabled definition, a learner and pass evidence."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from plugin.issuance import service as issuance
from plugin.issuance.demo_data import demo_definition, demo_profile
from plugin.storage.models import Course, Learner, PassEvidence


@dataclass
class World:
    issuer_id: int
    definition_id: int
    learner_id: int
    evidence_id: int


def add_learner(session, definition_id: int, sub: str = "learner-1", email: str = "ada@example.org",
                score: float = 82.0) -> tuple[int, int]:
    learner = Learner(platform_issuer="https://lms.example", sub=sub, name="Ada Lovelace", email=email)
    session.add(learner)
    session.flush()
    evidence = PassEvidence(definition_id=definition_id, learner_id=learner.id, source="test",
                            dedup_key=f"test:{sub}", passed=True, score=score, pass_mark=50.0,
                            details={"score_max": 100, "source_label": "Final exam (test platform)"},
                            observed_at=datetime(2026, 5, 2, 10, 0, tzinfo=timezone.utc))
    session.add(evidence)
    session.flush()
    return learner.id, evidence.id


def make_world(services, slug: str = "acme", learner_sub: str = "learner-1") -> World:
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, slug, demo_profile(), actor="test")
        course = Course(platform_issuer="https://lms.example", context_id=f"course-{slug}", title="Data policy")
        s.add(course)
        s.flush()
        version = issuance.save_definition(s, course, demo_definition(), "test", issuer)
        definition = version.definition
        issuance.set_enabled(s, definition, True, actor="test")
        learner_id, evidence_id = add_learner(s, definition.id, sub=learner_sub)
        return World(issuer.id, definition.id, learner_id, evidence_id)
