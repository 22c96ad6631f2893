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


DEMO_SEAL_ORG_ID = "NTRFR-130000000"


def ensure_demo_seal(session, services, issuer) -> None:
    """The demo awarding body seals its European Digital Credentials with a **test** seal:
    a certificate made here under a demo CA (not a qualified trust service), which the demo
    admin adds as a trust anchor so the story's sealed EDC verifies end to end."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from plugin.issuance import edc_sealing
    if edc_sealing.mode_of(session, issuer) != "unsealed":
        return
    now = datetime.now(timezone.utc) - timedelta(minutes=5)

    def name(cn: str, org_id: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer.name),
                 x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org_id:
            attrs.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), org_id))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("microcred demo seal CA (not a trust service)"))
          .issuer_name(name("microcred demo seal CA (not a trust service)")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("Demo electronic seal", DEMO_SEAL_ORG_ID))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    edc_sealing.set_own_seal(session, services, issuer, key, [cert, ca], actor="admin:demo")
    edc_sealing.add_trust_anchor(session, ca.public_bytes(serialization.Encoding.PEM),
                                 name="microcred demo seal CA (not a trust service)", actor="admin:demo")
