"""The demo's awarding body and its complete, GRADEO-compatible micro-credential definition.

Used by ``microcred demo --headless`` and by tests that need a credential with every
Annex I element. GRADEO (the European MOOC Consortium's Common Microcredential
Framework): 100-150 hours (4-6 ECTS), EQF 6-7, a summative assessment awarding credit,
identity verified at the point of assessment, a transcript of outcomes, hours, level
and credits.
"""
from __future__ import annotations

from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.issuer import IssuerProfile

DEMO_SLUG = "demo-university"


def demo_profile() -> IssuerProfile:
    return IssuerProfile(
        legal_name="Université Démo de Lille",
        url="https://www.univ-demo.example",
        email="microcredentials@univ-demo.example",
        country_code="FR",
        region="Hauts-de-France",
        locality="Lille",
        legal_identifiers=[{"scheme": "SIREN", "value": "130000000"}, {"scheme": "UAI", "value": "0599999Z"}],
        quality_assurance="Internal quality assurance under the French Hcéres evaluation framework; "
                          "course approved by the university's pedagogical board.",
        accreditation="Hcéres evaluation, 2024 wave.",
        description="A public university (demonstration data).",
    )


def demo_definition() -> DefinitionData:
    return DefinitionData(
        title="Data Analysis for Public Policy",
        description="Use open data and basic statistics to inform public policy decisions.",
        learning_outcomes=[
            LearningOutcome(text="Clean and combine open public datasets with a spreadsheet or Python."),
            LearningOutcome(text="Choose and interpret descriptive statistics and charts for a policy question."),
            LearningOutcome(text="Write a short, evidence-based policy brief."),
        ],
        workload_hours=125,
        ects_credits=5,
        eqf_level=6,
        qf_ehea_cycle="first",
        assessment_type="Summative online examination with a graded written project",
        participation="online",
        quality_assurance="Internal quality assurance of the awarding university (Hcéres framework)",
        prerequisites="Secondary-school mathematics.",
        supervision="supervised-online-id",
        grading_scheme="Score out of 100",
        pass_mark="50/100",
        stackability="stackable",
        stackable_towards="Master in Public Policy Analysis (Université Démo de Lille)",
        languages=["en", "fr"],
        field_of_study="0542",
        field_of_study_label="Statistics",
        further_information="Part of the GRADEO (Common Microcredential Framework) catalogue.",
        further_information_url="https://www.univ-demo.example/microcredentials/data-policy",
        validity_months=None,
        criteria="Score at least 50/100 in the final proctored examination.",
    )


DEMO_PLATFORM = "https://sandbox.microcred.invalid"
DEMO_CONTEXT = "demo-course-data-policy"


def run_headless(services, out_dir, *, actor: str = "demo") -> dict:
    """The whole issuing story on the services, without a browser: a demo issuer, a course
    with a complete enabled definition, a passing learner, the award, and the files.

    Safe to run again: it reuses what an earlier run created (and the learner keeps the
    credential already awarded). Returns a summary for the command to print.
    """
    from datetime import datetime, timezone

    from sqlalchemy import select

    from plugin.delivery.export import write_credential_files
    from plugin.issuance import service as issuance
    from plugin.issuance.keys import issuer_identifier
    from plugin.storage.models import Course, Learner, PassEvidence
    from plugin.verification.resolver import documents_for

    with services.session() as s:
        issuer = issuance.issuer_by_slug(s, DEMO_SLUG) or issuance.create_issuer(
            s, services, DEMO_SLUG, demo_profile(), actor=actor)
        course = s.scalars(select(Course).where(Course.platform_issuer == DEMO_PLATFORM,
                                                Course.context_id == DEMO_CONTEXT)).first()
        if course is None:
            course = Course(platform_issuer=DEMO_PLATFORM, context_id=DEMO_CONTEXT,
                            title="Data Analysis for Public Policy", label="DATA-POL")
            s.add(course)
            s.flush()
        version = issuance.save_definition(s, course, demo_definition(), actor, issuer,
                                           policy={"source": "demo", "rule": "score >= pass mark", "threshold": 50})
        definition = version.definition
        issuance.set_enabled(s, definition, True, actor=actor)
        learner = s.scalars(select(Learner).where(Learner.platform_issuer == DEMO_PLATFORM,
                                                  Learner.sub == "demo-learner-1")).first()
        if learner is None:
            learner = Learner(platform_issuer=DEMO_PLATFORM, sub="demo-learner-1", name="Camille Martin",
                              given_name="Camille", family_name="Martin", email="camille.martin@example.org",
                              locale="fr")
            s.add(learner)
            s.flush()
        evidence = s.scalars(select(PassEvidence).where(PassEvidence.source == "demo",
                                                        PassEvidence.dedup_key == f"{definition.id}:{learner.id}")).first()
        if evidence is None:
            evidence = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="demo",
                                    dedup_key=f"{definition.id}:{learner.id}", passed=True, score=78.0,
                                    pass_mark=50.0, observed_at=datetime.now(timezone.utc).replace(microsecond=0),
                                    details={"score_max": 100, "source_label": "Final proctored exam (demo)"})
            s.add(evidence)
            s.flush()
        cred, created = issuance.award(s, services, definition_id=definition.id, learner_id=learner.id,
                                       evidence_id=evidence.id, display_name=learner.name, actor=actor)
        documents = documents_for(s, services, [cred.document])
        paths = write_credential_files(out_dir, [cred], documents)
        return {"issuer": issuer_identifier(services, issuer), "definition": definition.public_id,
                "learner": learner.public_id, "credential": cred.public_id, "created": created,
                "files": [str(p) for p in paths]}
