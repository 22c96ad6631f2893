import copy
import hashlib
import json
from datetime import datetime, timezone

import pytest
from pyld import jsonld

from plugin.composition.credential import (CompositionError, EvidenceData, LearnerIdentity, compose,
                                           identity_hash, validate_ob3)
from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.issuer import IssuerProfile, LegalIdentifier
from plugin.signing import data_integrity as di
from plugin.signing.contexts import ContextStore
from plugin.signing.did import did_document, issuer_did
from plugin.signing.keys import generate_ed25519
from tests.conftest import CONTEXTS_DIR, FIXTURES, REPO

BASE = "http://tool.test"
ISSUER = issuer_did(BASE, "uni")
WHEN = datetime(2026, 3, 4, 10, 0, 0, tzinfo=timezone.utc)
ESCO = "http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9"
ELM = "http://data.europa.eu/snb/model/elm/"
MC = "https://w3id.org/microcred/vocab#"


@pytest.fixture(scope="module")
def store():
    return ContextStore(directory=CONTEXTS_DIR)


@pytest.fixture(scope="module")
def schema():
    return json.loads((REPO / "plugin" / "data" / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())


def profile():
    return IssuerProfile(legal_name="Université Exemple", url="https://u.example", email="contact@u.example",
                         country_code="FR", region="Bretagne", locality="Rennes",
                         legal_identifiers=[LegalIdentifier(scheme="SIREN", value="123456789")],
                         quality_assurance="Evaluated by HCERES", accreditation="Accredited by the Ministry")


def definition():
    return DefinitionData(
        title="Data literacy", description="An introduction to data.",
        learning_outcomes=[LearningOutcome(text="Analyse a data set", esco_uri=ESCO),
                           LearningOutcome(text="Explain a chart")],
        workload_hours=125, ects_credits=5, eqf_level=6, qf_ehea_cycle="first",
        assessment_type="Proctored online exam", participation="blended", quality_assurance="Internal review board",
        prerequisites="Secondary school maths", supervision="supervised-online-id", grading_scheme="Score out of 100",
        pass_mark="60", stackability="stackable", stackable_towards="Master in data science",
        languages=["en", "fr"], field_of_study="0613", field_of_study_label="Software development",
        further_information="See the syllabus", further_information_url="https://u.example/dl", validity_months=24)


def learner(**kw):
    return LearnerIdentity(**{"key": "learner-1", "email": "Ada@Example.org", "lti_issuer": "https://lms.example",
                              "lti_sub": "sub-42", "salt": "s4lt", **kw})


def make(**kw):
    args = dict(issuer_profile=profile(), issuer_id=ISSUER, definition=definition(), learner=learner(),
                evidence=EvidenceData(source="Open edX grades", observed_at=WHEN, score=85, score_max=100),
                credential_id="urn:uuid:3f1e0c8a-0000-4000-8000-000000000001", valid_from=WHEN,
                status_entries=[{"id": f"{BASE}/status/1#7", "type": "BitstringStatusListEntry",
                                 "statusPurpose": "revocation", "statusListIndex": "7",
                                 "statusListCredential": f"{BASE}/status/1"}], base_url=BASE)
    args.update(kw)
    return compose(**args)


def test_signed_credential_validates_against_the_ob3_schema(store, schema):
    key = generate_ed25519()
    signed = di.sign(make(), key, f"{ISSUER}#{key.key_id}", store=store)
    assert validate_ob3(signed, schema) == []
    assert di.verify(signed, documents={ISSUER: did_document(ISSUER, [key])}, store=store).ok
    broken = copy.deepcopy(signed)
    broken["proof"] = broken["proof"][0]
    assert any(e.startswith("proof") for e in validate_ob3(broken, schema))


def test_shape_contexts_and_types():
    c = make()
    assert c["@context"] == ["https://www.w3.org/ns/credentials/v2",
                             "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                             "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
                             f"{BASE}/contexts/microcred/v1.jsonld"]
    assert c["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert c["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
    assert c["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"
    no_schema = make(credential_schema=False)
    assert "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json" not in no_schema["@context"]
    assert "credentialSchema" not in no_schema


def _expanded_values(doc, store, prop):
    """All values of an expanded property IRI anywhere in the document."""
    out = []

    def walk(node):
        if isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k == prop:
                    for x in v:
                        out.append(x.get("@id", x.get("@value")) if isinstance(x, dict) else x)
                walk(v)
    walk(jsonld.expand(doc, {"documentLoader": store.loader}))
    return out


# Every Annex I element: (name, check on typed fields, text expected in the Markdown description)
def test_every_annex_element_is_in_typed_fields_and_in_the_description(store):
    c = make(learner=learner(name="Ada Lovelace"))
    subject = c["credentialSubject"]
    a = subject["achievement"]
    desc = a["description"]
    issuer = c["issuer"]
    ev = lambda iri: _expanded_values(c, store, iri)  # noqa: E731

    # 1. identification of the learner
    types = {i["identityType"]: i for i in subject["identifier"]}
    assert types["emailAddress"]["identityHash"] == identity_hash("ada@example.org", "s4lt")
    assert types["ltiUserId"]["identityHash"] == identity_hash("sub-42", "s4lt")
    assert types["ltiPlatformId"]["identityHash"] == "https://lms.example"
    assert types["name"]["identityHash"] == "Ada Lovelace" and subject["name"] == "Ada Lovelace"
    assert "**Learner:** Ada Lovelace" in desc
    # 2. title
    assert a["name"] == c["name"] == "Data literacy" and "**Title:** Data literacy" in desc
    # 3. country / region of the issuer
    assert issuer["address"]["addressCountryCode"] == "FR" and issuer["address"]["addressRegion"] == "Bretagne"
    assert "France (FR), Bretagne" in desc
    # 4. awarding body
    assert issuer["name"] == "Université Exemple" and issuer["id"] == ISSUER
    assert issuer["otherIdentifier"] == [{"type": "IdentifierEntry", "identifier": "123456789",
                                          "identifierType": "ext:SIREN"}]
    assert ev("http://www.w3.org/ns/regorg#legalName") == ["Université Exemple"]
    assert "**Awarding body:** Université Exemple" in desc
    # 5. date of issuing
    assert c["validFrom"] == c["awardedDate"] == "2026-03-04T10:00:00Z" and "**Date of issuing:** 2026-03-04" in desc
    # 6. learning outcomes (+ ESCO)
    assert [lo["title"] for lo in a["learningOutcome"]] == ["Analyse a data set", "Explain a chart"]
    assert ev(ELM + "relatedESCOSkill") == [ESCO]
    assert {"type": ["Alignment"], "targetName": "Analyse a data set", "targetUrl": ESCO, "targetFramework": "ESCO",
            "targetType": "ext:ESCOSkill"} in a["alignment"]
    assert "  - Analyse a data set (ESCO: " + ESCO + ")" in desc and "  - Explain a chart" in desc
    # 7. workload (hours, ECTS)
    assert a["creditsAvailable"] == 5 and subject["creditsEarned"] == 5
    assert ev(ELM + "workload") == ["PT125H"] and a["workloadHours"] == 125
    assert "**Notional workload:** 125 hours, 5 ECTS credits" in desc
    # 8. level (EQF, QF-EHEA)
    assert ev(ELM + "EQFLevel") == ["http://data.europa.eu/snb/eqf/6"]
    assert any(x["targetUrl"] == "http://data.europa.eu/snb/eqf/6" for x in a["alignment"])
    assert a["qfEheaCycle"] == "First cycle (Bachelor)"
    assert "**Level:** EQF level 6; QF-EHEA: First cycle (Bachelor)" in desc
    # 9. type of assessment
    assert ev(MC + "assessmentType") == ["Proctored online exam"]
    assert "**Type of assessment:** Proctored online exam" in desc
    # 10. form of participation
    assert ev(ELM + "mode") == ["http://data.europa.eu/snb/learning-assessment/e92d221e4d"]
    assert "**Form of participation:** Blended" in desc
    # 11. type of quality assurance
    assert ev(MC + "qualityAssurance") == ["Internal review board"]
    assert issuer["qualityAssuranceStatement"] == "Evaluated by HCERES"
    assert "**Type of quality assurance:** Internal review board" in desc
    assert "Evaluated by HCERES" in desc and "Accredited by the Ministry" in desc
    # optional: prerequisites
    assert ev(MC + "prerequisites") == ["Secondary school maths"] and "**Prerequisites:** Secondary school maths" in desc
    # optional: supervision and identity verification
    assert ev(ELM + "idVerification") == [f"{MC}supervised-online-id"]
    assert "**Supervision and identity verification:** Supervised online, with identity verification" in desc
    # optional: grade (scheme, pass mark, grade achieved)
    rd = a["resultDescription"][0]
    assert rd["requiredValue"] == "60" and rd["name"] == "Score out of 100"
    assert subject["result"] == [{"type": ["Result"], "resultDescription": rd["id"], "value": "85/100"}]
    assert "**Grading scheme:** Score out of 100; pass mark: 60" in desc and "**Grade achieved:** 85/100" in desc
    # optional: integration / stackability
    assert a["stackability"] == "Stackable towards another credential"
    assert a["stackableTowards"] == "Master in data science"
    assert "**Integration and stackability:** Stackable towards another credential: Master in data science" in desc
    # languages
    assert a["inLanguage"] == "en" and ev("http://purl.org/dc/terms/language") == [
        "http://publications.europa.eu/resource/authority/language/ENG",
        "http://publications.europa.eu/resource/authority/language/FRA"]
    assert "**Language(s):** English, French" in desc
    # field of study (ISCED-F)
    assert a["fieldOfStudy"] == "Software development"
    assert ev(ELM + "ISCEDFCode") == ["http://data.europa.eu/snb/isced-f/0613"]
    assert "**Field of study (ISCED-F):** 0613 Software development" in desc
    # optional: further information
    assert a["furtherInformation"] == "See the syllabus" and ev(MC + "furtherInformationUrl") == ["https://u.example/dl"]
    assert "**Further information:** See the syllabus https://u.example/dl" in desc
    # validity
    assert c["validUntil"] == "2028-03-04T10:00:00Z" and a["validityPeriod"] == "P24M"
    assert "**Validity:** valid until 2028-03-04" in desc
    # evidence (score, date, source)
    e = c["evidence"][0]
    assert e["assessmentScore"] == "85/100" and e["assessmentSource"] == "Open edX grades"
    assert ev(MC + "assessmentDate") == ["2026-03-04T10:00:00Z"]
    # status
    assert c["credentialStatus"]["type"] == "BitstringStatusListEntry"


def test_every_extension_term_is_defined(store):
    # canonicalize() refuses undefined terms and relative IRIs
    assert di.canonicalize(make(), store)


def test_name_only_when_given_and_subject_id_stable():
    c = make()
    subject = c["credentialSubject"]
    assert "name" not in subject and all(i["identityType"] != "name" for i in subject["identifier"])
    assert "Ada" not in json.dumps(c)
    assert subject["id"].startswith("urn:uuid:") and subject["id"] == make()["credentialSubject"]["id"]
    assert make(credential_id="urn:uuid:other")["credentialSubject"]["id"] != subject["id"]
    assert make(learner=learner(did="did:key:z6Mkabc"))["credentialSubject"]["id"] == "did:key:z6Mkabc"


def test_hashed_email_can_be_checked_by_someone_who_knows_it():
    obj = next(i for i in make()["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress")
    assert obj["hashed"] is True
    assert obj["identityHash"] == "sha256$" + hashlib.sha256(("ada@example.org" + obj["salt"]).encode()).hexdigest()


def test_incomplete_definition_or_issuer_is_refused_with_the_missing_elements():
    with pytest.raises(CompositionError, match="Learning outcomes: add at least one outcome"):
        make(definition=definition().model_copy(update={"learning_outcomes": []}))
    with pytest.raises(CompositionError, match="Country"):
        make(issuer_profile=profile().model_copy(update={"country_code": ""}))
    with pytest.raises(CompositionError, match="nothing identifies them"):
        make(learner=LearnerIdentity(key="k"))


def minimal_definition(**kw):
    return DefinitionData(**{"title": "Minimal", "learning_outcomes": [LearningOutcome(text="Do one thing")],
                             "workload_hours": 10, "eqf_not_applicable": True, "assessment_type": "Quiz",
                             "participation": "onsite", "quality_assurance": "Peer review", **kw})


@pytest.mark.parametrize("kw", [
    {},  # no ECTS, no EQF, no grading, no languages, no validity
    {"ects_credits": 1.5, "workload_hours": None, "eqf_level": 3, "eqf_not_applicable": False},
    {"grading_scheme": "Pass/fail", "stackability": "stand-alone", "languages": ["de"]},
])
@pytest.mark.parametrize("with_evidence", [True, False])
def test_minimal_and_partial_definitions_compose_sign_and_validate(store, schema, kw, with_evidence):
    key = generate_ed25519()
    c = make(definition=minimal_definition(**kw), status_entries=None, credential_schema=False,
             evidence=EvidenceData(source="LTI score", observed_at=WHEN, score=7) if with_evidence else None,
             learner=LearnerIdentity(key="k", lti_issuer="https://lms.example", lti_sub="1"))
    signed = di.sign(c, key, f"{ISSUER}#{key.key_id}", store=store)
    assert validate_ob3(signed, schema) == []
    assert di.verify(signed, documents={ISSUER: did_document(ISSUER, [key])}, store=store).ok
    desc = c["credentialSubject"]["achievement"]["description"]
    assert "**Level:** no EQF level applies" in desc or "EQF level" in desc
    assert "validUntil" not in c and "credentialStatus" not in c


def test_a_national_framework_level_is_a_typed_alignment_like_the_eqf_one(store, schema):
    d = definition().model_copy(update={"nqf_framework": "fr-cncp", "nqf_level": 6,
                                        "assessment_type": "Written examination — 2-hour exam"})
    c = make(definition=d)
    a = c["credentialSubject"]["achievement"]
    assert {"type": ["Alignment"], "targetName": "Level 6 of the French national framework of professional certifications",
            "targetCode": "6", "targetFramework": "French national framework of professional certifications",
            "targetType": "ext:NQFLevel", "targetUrl": "http://data.europa.eu/snb/qdr/c_5ad5d222",
            "targetDescription": "Level 6 of the French national framework of professional certifications (FR), "
                                 "at EQF level 6"} in a["alignment"]
    assert "national framework: Level 6 of the French national framework" in a["description"]
    # the type of assessment is text in the badge (the EDC carries its EU concept)
    assert a["assessmentType"] == "Written examination — 2-hour exam"
    key = generate_ed25519()
    signed = di.sign(c, key, f"{ISSUER}#{key.key_id}", store=store)
    assert validate_ob3(signed, schema) == []


def test_a_level_the_eu_list_lacks_points_at_the_framework_itself():
    c = make(definition=definition().model_copy(update={"nqf_framework": "fr-cncp", "nqf_level": 1}))
    nqf = [x for x in c["credentialSubject"]["achievement"]["alignment"] if x["targetType"] == "ext:NQFLevel"]
    assert [(x["targetCode"], x["targetUrl"]) for x in nqf] == [("1", "http://data.europa.eu/snb/qdr/c_c8bc1cb9")]
    assert "nqf" not in json.dumps(make()).lower()  # nothing when no national level is given


@pytest.mark.parametrize("kw, words", [
    ({"nqf_level": 3}, "choose the framework"),
    ({"nqf_framework": "fr-cncp"}, "choose the level"),
    ({"nqf_framework": "fr-cncp", "nqf_level": 9}, "levels 1 to 8"),
    ({"nqf_framework": "atlantis", "nqf_level": 3}, "unknown national framework"),
])
def test_a_national_level_needs_a_known_framework_and_level(kw, words):
    with pytest.raises(ValueError, match=words):
        definition().model_validate({**definition().model_dump(), **kw})
