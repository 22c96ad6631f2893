"""The European Digital Credential: every Annex I element is in it, it passes the
Commission's shapes, and removing a mandatory element fails with that element named."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
import rdflib

from plugin.composition.credential import CompositionError, EvidenceData
from plugin.composition.edc import EdcLearner, compose_edc, edc_id
from plugin.domain import vocab
from plugin.issuance.demo_data import demo_definition, demo_profile
from plugin.issuance.edc import readiness_problems
from plugin.verification.shacl import to_graph, validate_edc

ELM = rdflib.Namespace("http://data.europa.eu/snb/model/elm/")
DC = rdflib.Namespace("http://purl.org/dc/terms/")
CRED = rdflib.Namespace("https://www.w3.org/2018/credentials#")
ISSUED = datetime(2026, 5, 3, 9, 30, tzinfo=timezone.utc)
OB_ID = "https://tool.example/credentials/3f1d2a4b-0000-4000-8000-000000000001"
LEARNER = EdcLearner(subject_id="urn:uuid:5b0b5f4e-1111-4222-8333-444455556666", name="Grace Hopper",
                     identifiers=[{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                                   "identityHash": "sha256$" + "ab" * 32, "salt": "c0ffee"},
                                  {"type": "IdentityObject", "identityType": "ltiPlatformId", "hashed": False,
                                   "identityHash": "https://lms.example"}])
EVIDENCE = EvidenceData(source="Final exam (Open edX)", observed_at=datetime(2026, 5, 2, 10, tzinfo=timezone.utc),
                        score=82, score_max=100)


def compose(profile=None, definition=None, learner=LEARNER, evidence=EVIDENCE, **kwargs):
    return compose_edc(profile or demo_profile(), definition or demo_definition(), learner, evidence,
                       credential_id=OB_ID, issued=ISSUED, image_png=b"\x89PNG\r\n\x1a\nfake",
                       verification_url="https://tool.example/verify/3f1d2a4b", **kwargs)


@pytest.fixture(scope="module")
def edc():
    return compose()


@pytest.fixture(scope="module")
def claim(edc):
    return edc["credentialSubject"]["hasClaim"][0]


@pytest.fixture(scope="module")
def spec(claim):
    return claim["specifiedBy"]


def test_the_demo_edc_passes_both_edc_shapes(edc):
    report = validate_edc(edc)
    assert report.conforms, [str(m) for m in report.messages]
    assert report.shapes == ("edc-generic-no-cv.ttl", "edc-generic-full.ttl")


def test_envelope_is_the_edc_of_the_commission(edc):
    assert edc["@context"] == ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap"]
    assert edc["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert edc["credentialSchema"] == [{"id": "http://data.europa.eu/snb/model/ap/edc-generic-full",
                                        "type": "ShaclValidator2017"}]
    assert edc["credentialProfiles"][0]["id"] == "http://data.europa.eu/snb/credential/e34929035b"
    assert edc["id"] == edc_id(OB_ID) and edc["identifier"][0]["notation"] == OB_ID  # the same award as the OB 3.0 one
    image = edc["displayParameter"]["individualDisplay"][0]["displayDetail"][0]["image"]
    assert image["contentType"]["id"].endswith("/file-type/PNG") and image["content"]


# ---------------------------------------------------------------- one test per Annex I element
def test_annex_1_learner(edc):
    person = edc["credentialSubject"]
    assert person["id"] == LEARNER.subject_id and person["fullName"] == {"en": "Grace Hopper"}
    notations = {i["notation"]: i["schemeName"] for i in person["identifier"]}
    assert "salt c0ffee" in notations["sha256$" + "ab" * 32] and "e-mail" in notations["sha256$" + "ab" * 32]
    assert "https://lms.example" in notations


def test_annex_2_title(claim, spec):
    assert claim["title"] == {"en": "Data Analysis for Public Policy"} == spec["title"]


def test_annex_3_country_and_region_of_the_awarding_body(edc):
    address = edc["issuer"]["location"][0]["address"]
    assert address["countryCode"]["id"] == "http://publications.europa.eu/resource/authority/country/FRA"
    assert address["countryCode"]["inScheme"]["id"] == vocab.COUNTRY_AUTHORITY
    assert "Hauts-de-France" in address["fullAddress"]["noteLiteral"]["en"]


def test_annex_4_awarding_body(edc, claim):
    body = claim["awardedBy"]["awardingBody"][0]
    assert body == edc["issuer"] and body["legalName"] == {"en": "Université Démo de Lille"}
    assert body["eIDASIdentifier"]["notation"] == "130000000"  # SIREN: the first legal identifier in preference order
    assert body["homepage"][0]["contentURL"] == "https://www.univ-demo.example"


def test_annex_5_date_of_issuing(edc, claim):
    assert edc["issued"] == edc["issuanceDate"] == edc["validFrom"] == "2026-05-03T09:30:00Z"
    assert claim["awardedBy"]["awardingDate"] == "2026-05-03T09:30:00Z"


def test_annex_6_learning_outcomes(spec):
    titles = [o["title"]["en"] for o in spec["learningOutcome"]]
    assert titles[0].startswith("Clean and combine open public datasets") and len(titles) == 3
    definition = demo_definition()
    definition.learning_outcomes[0].esco_uri = "http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9"
    outcome = compose(definition=definition)["credentialSubject"]["hasClaim"][0]["specifiedBy"]["learningOutcome"][0]
    assert outcome["relatedESCOSkill"][0]["id"].endswith("ccdf3597-5c80-410f-896d-e1bdfa223de9")
    assert outcome["relatedESCOSkill"][0]["inScheme"]["id"] == "http://data.europa.eu/esco/concept-scheme/skills"


def test_annex_7_notional_workload(spec, claim):
    assert spec["volumeOfLearning"] == "PT125H"
    assert spec["creditPoint"][0]["point"] == "5" and spec["creditPoint"][0]["framework"]["id"] == vocab.ECTS_FRAMEWORK
    assert claim["creditReceived"][0]["point"] == "5"


def test_annex_8_level(spec):
    assert spec["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    assert spec["eqfLevel"]["inScheme"]["id"] == vocab.EQF_SCHEME
    assert any("QF-EHEA cycle: First cycle" in n["noteLiteral"]["en"] for n in spec["additionalNote"])


def test_annex_9_type_of_assessment(claim):
    assessment_spec = claim["provenBy"][0]["specifiedBy"]
    assert assessment_spec["type"] == "LearningAssessmentSpecification"
    assert assessment_spec["title"] == {"en": "Summative online examination with a graded written project"}


def test_annex_10_form_of_participation(spec, claim):
    assert spec["mode"][0]["id"] == vocab.PARTICIPATION["online"][0]
    assert claim["influencedBy"][0]["specifiedBy"]["mode"][0]["id"] == vocab.PARTICIPATION["online"][0]
    assert spec["learningSetting"]["id"] == vocab.LEARNING_SETTING_NON_FORMAL


def test_annex_11_type_of_quality_assurance_is_machine_readable(spec):
    acc = spec["accreditation"][0]
    assert acc["type"] == "Accreditation"
    assert acc["dcType"]["id"] == "http://data.europa.eu/snb/accreditation/bb4618238e"  # Institutional Quality Assurance
    assert acc["dcType"]["inScheme"]["id"] == vocab.ACCREDITATION_SCHEME
    assert acc["title"]["en"].startswith("Internal quality assurance of the awarding university")
    assert "Hcéres" in acc["accreditingAgent"]["legalName"]["en"]
    assert acc["accreditingAgent"]["location"][0]["address"]["countryCode"]["id"].endswith("/FRA")


def test_annex_optional_prerequisites(spec):
    assert spec["entryRequirement"]["noteLiteral"] == {"en": "Secondary-school mathematics."}


def test_annex_optional_supervision_and_identity_verification(claim):
    concept = claim["provenBy"][0]["idVerification"]
    assert concept["id"] == vocab.SUPERVISION["supervised-online-id"][0]
    definition = demo_definition()
    definition.supervision = "unsupervised-no-id"
    eu = compose(definition=definition)["credentialSubject"]["hasClaim"][0]["provenBy"][0]["idVerification"]
    assert eu["id"] == "http://data.europa.eu/snb/supervision-verification/c598449d64"
    assert eu["inScheme"]["id"] == vocab.SUPERVISION_SCHEME


def test_annex_optional_grade(claim):
    assessment = claim["provenBy"][0]
    assert assessment["grade"]["noteLiteral"] == {"en": "82/100"}
    assert assessment["specifiedBy"]["gradingScheme"]["title"] == {"en": "Score out of 100"}
    assert "50/100" in assessment["specifiedBy"]["gradingScheme"]["description"]["en"]


def test_annex_optional_integration_and_stackability(spec):
    assert spec["isPartialQualification"] is True
    assert spec["isPartOf"][0]["title"] == {"en": "Master in Public Policy Analysis (Université Démo de Lille)"}


def test_annex_optional_further_information(spec):
    assert spec["homepage"][0]["contentURL"] == "https://www.univ-demo.example/microcredentials/data-policy"
    assert any(n["noteLiteral"]["en"].startswith("Further information: Part of the GRADEO") for n in spec["additionalNote"])


def test_languages_and_field_of_study(spec):
    assert [c["id"] for c in spec["language"]] == [vocab.language_uri("en"), vocab.language_uri("fr")]
    assert spec["thematicArea"][0]["id"] == "http://data.europa.eu/snb/isced-f/0542"


def test_elements_are_meaningful_rdf_not_just_json(edc):
    """The EDC's properties expand to the ELM IRIs (nothing dropped by the context)."""
    g = to_graph(edc)
    spec = rdflib.URIRef(edc["id"] + "#specification")
    assert (spec, ELM.EQFLevel, rdflib.URIRef("http://data.europa.eu/snb/eqf/6")) in g
    assert (spec, ELM.accreditation, rdflib.URIRef(edc["id"] + "#quality-assurance")) in g
    assert (rdflib.URIRef(edc["id"]), CRED.issued, None) in g


def test_a_learner_who_chose_to_be_hashed_has_no_name():
    edc = compose(learner=EdcLearner(subject_id=LEARNER.subject_id, identifiers=LEARNER.identifiers))
    assert "fullName" not in edc["credentialSubject"] and validate_edc(edc).conforms


# ---------------------------------------------------------------- failing shapes name the element
def _without(doc, role: str, key: str):
    """Remove ``key`` from every copy of the node ``<id>#role`` (the JSON repeats embedded nodes)."""
    out = copy.deepcopy(doc)
    target = f"{doc['id']}#{role}" if role else doc["id"]

    def walk(node):
        if isinstance(node, dict):
            if node.get("id") == target:
                node.pop(key, None)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(out)
    return out


@pytest.mark.parametrize("role,key,words", [
    ("", "issued", ["issued is missing"]),
    ("", "credentialSchema", ["credential schema is missing"]),
    ("", "displayParameter", ["display is missing"]),
    ("awarding-body", "eIDASIdentifier", ["the awarding body", "legal identifier is missing"]),
    ("awarding-body", "legalName", ["the awarding body", "legal name is missing"]),
    ("awarding-body", "location", ["the awarding body", "location is missing"]),
    ("achievement", "title", ["the achievement", "title is missing"]),
    ("awarding", "awardingBody", ["the awarding", "awarding body is missing"]),
    ("assessment", "grade", ["the assessment", "grade is missing"]),
    ("specification", "title", ["the micro-credential's description", "title is missing"]),
    ("credits", "point", ["the ECTS credits", "is missing"]),
    ("quality-assurance", "dcType", ["the type of quality assurance", "is missing"]),
    ("quality-assurance-agent", "legalName", ["the quality-assuring authority", "legal name is missing"]),
])
def test_removing_a_mandatory_element_fails_with_the_element_named(edc, role, key, words):
    report = validate_edc(_without(edc, role, key))
    assert not report.conforms
    text = " | ".join(str(m) for m in report.messages)
    for w in words:
        assert w in text, text


def test_a_value_from_the_wrong_eu_list_is_named(edc):
    bad = copy.deepcopy(edc)
    bad["credentialSubject"]["hasClaim"][0]["specifiedBy"]["eqfLevel"]["inScheme"]["id"] = "http://example.org/levels"
    text = " | ".join(str(m) for m in validate_edc(bad).messages)
    assert "the micro-credential's description" in text and "EU list" in text


def test_an_undefined_term_is_reported_not_dropped(edc):
    bad = copy.deepcopy(edc)
    bad["credentialSubject"]["hasClaim"][0]["favouriteColour"] = "blue"
    report = validate_edc(bad)
    assert not report.conforms and "favouriteColour" in str(report.messages[0])


def test_the_commission_samples_against_our_validator():
    import json
    from pathlib import Path
    folder = Path(__file__).resolve().parent.parent / "fixtures" / "elm"
    sealed = json.loads(json.loads((folder / "Sample-MC-Annex1-signed.jsonld").read_text())["payload"])
    assert validate_edc(sealed).conforms
    unsigned = json.loads((folder / "Sample-MC-Annex1-unsigned.jsonld").read_text())
    text = " | ".join(str(m) for m in validate_edc(unsigned).messages)  # the EDC Issuer adds these when sealing
    assert "issued is missing" in text and "legal identifier is missing" in text


# ---------------------------------------------------------------- readiness (blocks enabling)
def test_readiness_names_what_is_missing():
    assert readiness_problems(demo_profile(), demo_definition()) == []
    profile = demo_profile().model_copy(update={"legal_identifiers": [], "qa_type": None})
    problems = [str(p) for p in readiness_problems(profile, demo_definition())]
    assert any("machine-readable quality-assurance type" in p for p in problems)
    assert any("the awarding body" in p and "legal identifier" in p for p in problems), problems


def test_a_country_without_an_eu_code_cannot_be_composed():
    with pytest.raises(CompositionError, match="XK"):
        compose(profile=demo_profile().model_copy(update={"country_code": "XK"}))


# ---------------------------------------------------------------- national framework level, EU assessment type
NQF = "http://data.europa.eu/snb/qdr/25831c2"


def test_a_french_national_level_with_an_eu_concept_is_the_nqf_level_and_passes_the_shapes():
    d = demo_definition().model_copy(update={"nqf_framework": "fr-cncp", "nqf_level": 6})
    edc = compose(definition=d)
    spec = edc["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    # the EU list names France's levels in the 1969 nomenclature: level 6 is "II - Grade de Licence"
    assert spec["nqfLevel"] == [{"id": "http://data.europa.eu/snb/qdr/c_5ad5d222", "type": "Concept",
                                 "inScheme": {"id": NQF, "type": "ConceptScheme"},
                                 "prefLabel": {"en": "NQF RNCP Level II-Grade de Licence"}}]
    assert any("National framework level: Level 6 of the French national framework of professional "
               "certifications (EQF level 6)" == n["noteLiteral"]["en"] for n in spec["additionalNote"])
    report = validate_edc(edc)
    assert report.conforms, [str(m) for m in report.messages]
    graph = to_graph(edc)
    assert (None, ELM.NQFLevel, rdflib.URIRef("http://data.europa.eu/snb/qdr/c_5ad5d222")) in graph


def test_a_national_level_the_eu_list_lacks_is_a_note_never_a_made_up_iri():
    d = demo_definition().model_copy(update={"nqf_framework": "fr-cncp", "nqf_level": 2})
    edc = compose(definition=d)
    spec = edc["credentialSubject"]["hasClaim"][0]["specifiedBy"]
    assert "nqfLevel" not in spec
    assert any(n["noteLiteral"]["en"].startswith("National framework level: Level 2 of the French")
               for n in spec["additionalNote"])
    assert validate_edc(edc).conforms


def test_a_national_level_from_the_wrong_list_is_refused_by_the_shapes():
    d = demo_definition().model_copy(update={"nqf_framework": "fr-cncp", "nqf_level": 7})
    bad = compose(definition=d)
    bad["credentialSubject"]["hasClaim"][0]["specifiedBy"]["nqfLevel"][0]["inScheme"]["id"] = vocab.EQF_SCHEME
    assert not validate_edc(bad).conforms


def test_an_eu_assessment_type_is_the_assessment_specifications_type():
    d = demo_definition().model_copy(update={"assessment_type": "Written examination — 2-hour exam"})
    edc = compose(definition=d)
    assessment_spec = edc["credentialSubject"]["hasClaim"][0]["provenBy"][0]["specifiedBy"]
    assert assessment_spec["dcType"] == {"id": "http://data.europa.eu/snb/assessment/6e6cb2cc78", "type": "Concept",
                                         "inScheme": {"id": "http://data.europa.eu/snb/assessment/25831c2",
                                                      "type": "ConceptScheme"},
                                         "prefLabel": {"en": "Written examination"}}
    assert assessment_spec["title"] == {"en": "Written examination — 2-hour exam"}
    report = validate_edc(edc)
    assert report.conforms, [str(m) for m in report.messages]
    assert (None, DC.type, rdflib.URIRef("http://data.europa.eu/snb/assessment/6e6cb2cc78")) in to_graph(edc)


def test_a_free_text_assessment_has_no_type_concept(claim):
    assert "dcType" not in claim["provenBy"][0]["specifiedBy"]
