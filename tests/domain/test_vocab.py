"""Each controlled value of a definition maps to the EU concept URI read in a published
source (see the comments in plugin/domain/vocab.py), and that URI is what the composed
credential carries. The expected URIs are written out literally here, copied from the
sources, so a typo in vocab.py fails."""
from datetime import datetime, timezone

import pytest

from plugin.composition.credential import LearnerIdentity, compose
from plugin.domain import vocab
from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.issuer import IssuerProfile
from plugin.signing.contexts import ContextStore
from tests.composition.test_credential import _expanded_values as _values
from tests.conftest import CONTEXTS_DIR

ELM = "http://data.europa.eu/snb/model/elm/"
MC = "https://w3id.org/microcred/vocab#"

# European-Learning-Model xsd/loq/cv/europass-modes.xsd
PARTICIPATION_URIS = {
    "online": "http://data.europa.eu/snb/learning-assessment/920fbb3cbe",   # "Online"
    "onsite": "http://data.europa.eu/snb/learning-assessment/9191af2ed9",   # "Presential"
    "blended": "http://data.europa.eu/snb/learning-assessment/e92d221e4d",  # "Blended"
}
# EC Annex I sample (provenBy.idVerification) for the first; no EU source for the others.
SUPERVISION_URIS = {
    "unsupervised-no-id": "http://data.europa.eu/snb/supervision-verification/c598449d64",
    "supervised-no-id": MC + "supervised-no-id",
    "supervised-online-id": MC + "supervised-online-id",
    "supervised-onsite-id": MC + "supervised-onsite-id",
}


@pytest.fixture(scope="module")
def store():
    return ContextStore(directory=CONTEXTS_DIR)


def _credential(**changes):
    d = DefinitionData(title="Data literacy", learning_outcomes=[LearningOutcome(text="Analyse a data set")],
                       workload_hours=25, eqf_level=5, assessment_type="Quiz", participation="online",
                       quality_assurance="Internal review", field_of_study="0613").model_copy(update=changes)
    profile = IssuerProfile(legal_name="Université Exemple", url="https://u.example", country_code="FR")
    learner = LearnerIdentity(key="l1", email="a@example.org", lti_issuer="https://lms.example", lti_sub="s",
                              salt="salt")
    when = datetime(2026, 3, 4, tzinfo=timezone.utc)
    return compose(issuer_profile=profile, issuer_id="did:web:tool.test:issuers:uni", definition=d,
                   learner=learner, evidence=None, credential_id="urn:uuid:3f1e0c8a-0000-4000-8000-000000000009",
                   valid_from=when, status_entries=[], base_url="http://tool.test")


@pytest.mark.parametrize("value,uri", sorted(PARTICIPATION_URIS.items()))
def test_form_of_participation_is_the_sourced_eu_mode_concept(store, value, uri):
    assert vocab.PARTICIPATION[value][0] == uri
    c = _credential(participation=value)
    assert c["credentialSubject"]["achievement"]["participationMode"] == uri
    assert _values(c, store, ELM + "mode") == [uri]


def test_every_form_of_participation_has_a_concept():
    assert set(vocab.PARTICIPATION) == set(PARTICIPATION_URIS)
    assert all(uri.startswith(vocab.PARTICIPATION_SCHEME.rsplit("/", 1)[0] + "/")
               for uri, _ in vocab.PARTICIPATION.values())


@pytest.mark.parametrize("value,uri", sorted(SUPERVISION_URIS.items()))
def test_supervision_maps_to_the_eu_concept_or_a_project_iri(store, value, uri):
    assert vocab.SUPERVISION[value][0] == uri
    c = _credential(supervision=value)
    a = c["credentialSubject"]["achievement"]
    assert a["idVerification"] == uri
    assert _values(c, store, ELM + "idVerification") == [uri]
    assert a["supervisionAndVerification"] == vocab.SUPERVISION[value][1]


def test_only_the_sourced_supervision_case_claims_an_eu_iri():
    eu = {k for k, (uri, _) in vocab.SUPERVISION.items() if vocab.is_eu_concept(uri)}
    assert eu == {"unsupervised-no-id"}
    assert all(uri.startswith(vocab.PROJECT_VOCAB) for k, (uri, _) in vocab.SUPERVISION.items() if k not in eu)


@pytest.mark.parametrize("level", range(1, 9))
def test_eqf_level_is_the_eu_eqf_concept(store, level):
    uri = f"http://data.europa.eu/snb/eqf/{level}"  # European-Learning-Model xsd/ams/cv/eqf.xsd
    assert vocab.eqf_uri(level) == uri
    c = _credential(eqf_level=level)
    assert _values(c, store, ELM + "EQFLevel") == [uri]
    assert any(x["targetUrl"] == uri for x in c["credentialSubject"]["achievement"]["alignment"])


def test_learning_setting_field_of_study_and_language_are_eu_concepts(store):
    c = _credential(languages=["fr"])
    # europass-learning-setting-types.xsd: e207a81fc7 "non-formal learning"
    assert vocab.LEARNING_SETTING_NON_FORMAL == "http://data.europa.eu/snb/learning-setting/e207a81fc7"
    assert _values(c, store, ELM + "learningSetting") == [vocab.LEARNING_SETTING_NON_FORMAL]
    # isced-f.xsd: isced-f/0613 "Software and applications development and analysis"
    assert _values(c, store, ELM + "ISCEDFCode") == ["http://data.europa.eu/snb/isced-f/0613"]
    # language.xsd: the Publications Office language authority table
    assert _values(c, store, "http://purl.org/dc/terms/language") == [
        "http://publications.europa.eu/resource/authority/language/FRA"]
    # credit-points.xsd: 6fcec5c5af "European Credit Transfer System"
    assert vocab.ECTS_FRAMEWORK == "http://data.europa.eu/snb/education-credit/6fcec5c5af"


@pytest.mark.parametrize("cycle", sorted(vocab.QF_EHEA_CYCLES))
def test_qf_ehea_cycles_stay_in_the_project_vocabulary(cycle):
    # No EU concept scheme for QF-EHEA cycles was found: project IRIs, never a made-up EU code.
    assert vocab.qf_ehea_uri(cycle) == f"{MC}qf-ehea-{cycle}"
    assert not vocab.is_eu_concept(vocab.qf_ehea_uri(cycle))
    assert _credential(qf_ehea_cycle=cycle)["credentialSubject"]["achievement"]["qfEheaCycle"] == \
        vocab.QF_EHEA_CYCLES[cycle]
    with pytest.raises(ValueError):
        vocab.qf_ehea_uri("fourth")


def test_every_eu_uri_used_has_a_recorded_source():
    used = [uri for uri, _ in vocab.PARTICIPATION.values()] + [uri for uri, _ in vocab.SUPERVISION.values()]
    used += [vocab.eqf_uri(n) for n in range(1, 9)] + [vocab.LEARNING_SETTING_NON_FORMAL, vocab.ECTS_FRAMEWORK,
                                                      vocab.isced_f_uri("0613"), vocab.language_uri("en")]
    schemes = {s.rsplit("/", 1)[0] if s.startswith(vocab.SNB) else s for s in vocab.SOURCES}
    for uri in filter(vocab.is_eu_concept, used):
        assert uri.rsplit("/", 1)[0] in schemes, f"no source recorded for {uri}"
