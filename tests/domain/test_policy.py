import pytest
from pydantic import ValidationError

from plugin.domain.policy import (GATED_LAUNCH_WARNING, CoursePolicy, Observation, enable_warnings,
                                  evaluate, parse_policy)


def test_course_grade_explains_score_against_pass_mark():
    policy = CoursePolicy(source="moodle", rule="course_grade", threshold=70)
    low = evaluate(policy, Observation(source="moodle", score=62.5))
    assert not low.passed
    assert "62.5 %" in low.reason and "70 %" in low.reason and "7.5 % more" in low.reason
    assert evaluate(policy, Observation(source="moodle", score=70)).passed


def test_missing_grade_says_what_is_missing():
    policy = CoursePolicy(source="openedx_grades", rule="course_grade", threshold=50)
    d = evaluate(policy, Observation(source="openedx_grades"))
    assert not d.passed and "No course grade" in d.reason


def test_course_passed_uses_platform_verdict_and_reports_grade():
    policy = CoursePolicy(source="openedx_webhook")
    assert evaluate(policy, Observation(source="openedx_webhook", passed=True)).passed
    d = evaluate(policy, Observation(source="openedx_webhook", passed=False, score=40, pass_mark=60))
    assert not d.passed and "40 %" in d.reason and "60 %" in d.reason


def test_named_assessment_is_matched_case_insensitively():
    policy = CoursePolicy(source="moodle", rule="assessment_grade", threshold=80, assessment="Final exam")
    obs = Observation(source="moodle", assessments={"final EXAM": 85.0, "Quiz 1": 20.0})
    assert evaluate(policy, obs).passed
    d = evaluate(policy, Observation(source="moodle", assessments={"Quiz 1": 100.0}))
    assert not d.passed and "Final exam" in d.reason and "not found" in d.reason
    d = evaluate(policy, Observation(source="moodle", assessments={"Final exam": None}))
    assert "not been graded" in d.reason


def test_completion_lists_missing_criteria():
    policy = CoursePolicy(source="moodle", rule="completion")
    d = evaluate(policy, Observation(source="moodle", completed=False,
                                     details={"missing_criteria": ["Activity completion: Final quiz"]}))
    assert not d.passed and "Final quiz" in d.reason
    assert evaluate(policy, Observation(source="moodle", completed=True)).passed


def test_observation_from_another_source_never_passes():
    policy = CoursePolicy(source="moodle", rule="completion")
    assert not evaluate(policy, Observation(source="gated_launch", passed=True, completed=True)).passed


@pytest.mark.parametrize("data, problem", [
    ({"source": "ags", "rule": "completion"}, "cannot decide"),
    ({"source": "moodle", "rule": "course_grade"}, "pass mark"),
    ({"source": "moodle", "rule": "assessment_grade", "threshold": 50}, "name of the assessment"),
    ({"source": "moodle", "rule": "course_grade", "threshold": 120}, "less than or equal"),
    ({"source": "gated_launch"}, "acknowledged"),
    ({"source": "canvas"}, "source"),
])
def test_inconsistent_policies_are_refused_with_a_reason(data, problem):
    with pytest.raises(ValidationError) as err:
        CoursePolicy.model_validate(data)
    assert problem in str(err.value)


def test_gated_launch_warns_what_it_trusts():
    assert enable_warnings({"source": "gated_launch"}) == [GATED_LAUNCH_WARNING]
    assert "access rules" in GATED_LAUNCH_WARNING
    assert enable_warnings(CoursePolicy(source="moodle", rule="completion")) == []
    p = CoursePolicy(source="gated_launch", gated_launch_acknowledged=True, issuance="automatic")
    assert evaluate(p, Observation(source="gated_launch", passed=True)).passed


def test_stored_policy_round_trips_and_describes_itself():
    p = CoursePolicy(source="moodle", rule="course_grade", threshold=70, issuance="automatic")
    again = parse_policy(p.model_dump(mode="json"))
    assert again == p
    assert "70 %" in again.describe() and "automatically" in again.describe()
    assert parse_policy({}) is None
