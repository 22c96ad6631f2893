import json

import pytest

from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.labels import LabelError, check_labels, load_profile, load_profiles


def gradeo_ok(**changes) -> DefinitionData:
    base = dict(title="Data science", learning_outcomes=[LearningOutcome(text="Clean a dataset")],
                workload_hours=125, ects_credits=5, eqf_level=6,
                assessment_type="Summative: proctored online final exam", participation="online",
                quality_assurance="Internal QA", supervision="supervised-online-id")
    base.update(changes)
    return DefinitionData(**base)


@pytest.fixture
def gradeo():
    return load_profiles()["gradeo"]


def test_a_conforming_definition_passes_every_gradeo_rule(gradeo):
    check = gradeo.check(gradeo_ok())
    assert check.ok, check.failed
    assert len(check.passed) == len(gradeo.rules)


@pytest.mark.parametrize("changes, rule", [
    ({"workload_hours": 99}, "study-hours"),
    ({"workload_hours": 151}, "study-hours"),
    ({"workload_hours": None}, "study-hours"),
    ({"ects_credits": 3}, "ects-credits"),
    ({"eqf_level": 8}, "eqf-level"),
    ({"eqf_level": None, "eqf_not_applicable": True}, "eqf-level"),
    ({"assessment_type": "Formative quizzes"}, "summative-assessment"),
    ({"supervision": "unsupervised-no-id"}, "identity-verification"),
    ({"supervision": "supervised-no-id"}, "identity-verification"),
])
def test_each_failing_rule_is_named(gradeo, changes, rule):
    check = gradeo.check(gradeo_ok(**changes))
    assert rule in [r for r, _msg in check.failed]
    assert not check.ok


def test_eqf_4_or_5_only_with_ects(gradeo):
    assert gradeo.check(gradeo_ok(eqf_level=5)).ok
    failed = {r for r, _ in gradeo.check(gradeo_ok(eqf_level=5, ects_credits=None)).failed}
    assert "eqf-level" in failed and "ects-credits" in failed and "summative-assessment" in failed


def test_messages_are_localised(gradeo):
    check = gradeo.check(gradeo_ok(workload_hours=20), locale="fr")
    assert check.failed[0][1].startswith("Le temps d'études")
    assert gradeo.check(gradeo_ok(workload_hours=20), locale="de").failed[0][1].startswith("Study time")


def test_an_admin_can_add_a_profile_as_a_file(tmp_path):
    (tmp_path / "short.json").write_text(json.dumps({
        "id": "short-course", "name": {"en": "Short course"},
        "rules": [{"id": "max-hours", "any_of": [[{"field": "workload_hours", "max": 30}]],
                   "message": {"en": "At most 30 hours."}}]}))
    profiles = load_profiles([tmp_path])
    assert {"gradeo", "short-course"} <= set(profiles)
    checks = check_labels(gradeo_ok(), ["short-course", "nope"], profiles)
    assert checks[0].failed == [("max-hours", "At most 30 hours.")]
    assert "unknown label profile" in checks[1].failed[0][1]


@pytest.mark.parametrize("bad, problem", [
    ({"id": "x", "name": {"en": "X"}, "rules": [{"id": "r", "any_of": [[{"field": "nope", "min": 1}]],
                                                 "message": {"en": "m"}}]}, "unknown definition field"),
    ({"id": "x", "name": {"en": "X"}, "rules": [{"id": "r", "any_of": [[{"field": "title"}]],
                                                 "message": {"en": "m"}}]}, "tests nothing"),
    ({"id": "x", "name": {"en": "X"}, "rules": [{"id": "r", "any_of": [[{"field": "title", "present": True}]],
                                                 "message": {"fr": "m"}}]}, "English message"),
])
def test_malformed_profiles_are_refused_with_the_file_named(tmp_path, bad, problem):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(LabelError) as err:
        load_profile(path)
    assert "bad.json" in str(err.value) and problem in str(err.value)
