import pytest
from pydantic import ValidationError

from plugin.domain import vocab
from plugin.domain.definition import DefinitionData, LearningOutcome


def full() -> DefinitionData:
    return DefinitionData(
        title="Data literacy", description="An introduction.",
        learning_outcomes=[LearningOutcome(text="Analyse a data set",
                                           esco_uri="http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9")],
        workload_hours=125, ects_credits=5, eqf_level=6, qf_ehea_cycle="first",
        assessment_type="Proctored online exam", participation="online", quality_assurance="Internal review board",
        prerequisites="Secondary school maths", supervision="supervised-online-id", grading_scheme="0 to 100",
        pass_mark="60", stackability="stackable", stackable_towards="Master in data science",
        languages=["en", "FR"], field_of_study="0613", further_information="See the syllabus",
        further_information_url="https://uni.example/dl", validity_months=60)


def test_complete_definition_has_nothing_missing_and_round_trips():
    d = full()
    assert d.missing_elements() == [] and d.is_complete
    data = d.to_json()
    assert DefinitionData.from_json(data) == d
    assert data["languages"] == ["en", "fr"]


def test_empty_definition_names_every_mandatory_element_in_plain_words():
    missing = DefinitionData().missing_elements()
    assert missing == [
        "Title: give the micro-credential a title",
        "Learning outcomes: add at least one outcome",
        "Workload: give the notional workload in hours or in ECTS credits",
        "Level: choose the EQF level (1 to 8), or say that no EQF level applies",
        "Type of assessment: say how learners are assessed (e.g. proctored online exam)",
        "Form of participation: choose online, onsite or blended",
        "Quality assurance: describe the type of quality assurance behind the credential",
    ]


@pytest.mark.parametrize("field,value,word", [
    ("title", "  ", "Title"), ("learning_outcomes", [], "Learning outcomes"),
    ("eqf_level", None, "Level"), ("assessment_type", "", "Type of assessment"),
    ("participation", None, "Form of participation"), ("quality_assurance", "", "Quality assurance"),
    ("stackable_towards", "", "Stackability"),
])
def test_each_missing_mandatory_element_is_reported_alone(field, value, word):
    d = full().model_copy(update={field: value})
    missing = d.missing_elements()
    assert len(missing) == 1 and missing[0].startswith(word + ":")


def test_workload_in_hours_or_ects_is_enough_and_eqf_may_not_apply():
    assert full().model_copy(update={"ects_credits": None}).is_complete
    assert full().model_copy(update={"workload_hours": None}).is_complete
    assert not full().model_copy(update={"workload_hours": None, "ects_credits": None}).is_complete
    assert full().model_copy(update={"eqf_level": None, "eqf_not_applicable": True}).is_complete


@pytest.mark.parametrize("bad", [{"eqf_level": 9}, {"eqf_level": 0}, {"languages": ["xx"]},
                                 {"participation": "remote"}, {"supervision": "maybe"},
                                 {"field_of_study": "computing"}, {"further_information_url": "ftp://x"},
                                 {"workload_hours": -1}, {"unknown": 1}])
def test_invalid_values_are_rejected(bad):
    with pytest.raises(ValidationError):
        DefinitionData.model_validate({**full().to_json(), **bad})


def test_esco_uri_must_be_esco():
    with pytest.raises(ValidationError, match="ESCO"):
        LearningOutcome(text="x", esco_uri="https://example.com/skill")


def test_controlled_values_map_to_eu_vocabulary_uris():
    assert vocab.eqf_uri(6) == "http://data.europa.eu/snb/eqf/6"
    assert vocab.PARTICIPATION["online"][0] == "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"
    assert vocab.PARTICIPATION["blended"][0] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert vocab.SUPERVISION["unsupervised-no-id"][0] == \
        "http://data.europa.eu/snb/supervision-verification/c598449d64"
    assert set(vocab.SUPERVISION) == {"unsupervised-no-id", "supervised-no-id", "supervised-online-id",
                                      "supervised-onsite-id"}
    assert vocab.isced_f_uri("0613") == "http://data.europa.eu/snb/isced-f/0613"
    assert vocab.language_uri("fr") == "http://publications.europa.eu/resource/authority/language/FRA"
    d = full()
    assert d.workload_duration == "PT125H" and d.validity_period == "P60M"
    assert d.model_copy(update={"workload_hours": 1.5}).workload_duration == "PT90M"
