"""The demo's awarding body and its complete, GRADEO-compatible micro-credential definition.

Used by ``microcred demo`` (:func:`plugin.sandbox.demo.prepare_demo`) and by tests that need a credential with every
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
        qa_type="institutional-qa",
        qa_agency="Haut Conseil de l'évaluation de la recherche et de l'enseignement supérieur (Hcéres)",
        qa_agency_country="FR",
        qa_agency_url="https://www.hceres.fr",
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
