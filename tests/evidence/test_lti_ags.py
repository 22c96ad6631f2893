import pytest

from plugin.domain.policy import CoursePolicy, evaluate
from plugin.evidence.base import BridgeError
from plugin.evidence.lti_ags import AgsSource, observation_from_result
from plugin.storage.models import Course, Learner

LINEITEM = "https://lms.example.org/api/lti/courses/1/lineitems/7"


class FakeResultsReader:
    """What lti.ags.results_reader must return: AGS Result objects of the tool's own line item."""

    def __init__(self, rows):
        self.rows, self.calls = rows, []

    def results(self, lineitem_url, user_id=None):
        self.calls.append((lineitem_url, user_id))
        return [r for r in self.rows if user_id is None or r["userId"] == user_id]


ROWS = [{"id": LINEITEM + "/results/a", "scoreOf": LINEITEM, "userId": "a", "resultScore": 8.0, "resultMaximum": 10},
        {"id": LINEITEM + "/results/b", "scoreOf": LINEITEM, "userId": "b", "resultScore": 0.55}]


def test_results_become_percentages_and_are_judged_by_the_policy():
    policy = CoursePolicy(source="ags", rule="course_grade", threshold=60, ags_lineitem=LINEITEM)
    src = AgsSource(FakeResultsReader(ROWS))
    a = src.observe_learner(Course(platform_issuer="x", context_id="c"), Learner(sub="a"), policy)
    assert a.score == 80.0 and evaluate(policy, a).passed
    results = list(src.observe_course(Course(platform_issuer="x", context_id="c"), policy))
    assert [(r.sub, r.observation.score) for r in results] == [("a", 80.0), ("b", 55.0)]
    assert "55 %" in evaluate(policy, results[1].observation).reason


def test_learner_without_result_has_no_score():
    policy = CoursePolicy(source="ags", rule="course_grade", threshold=60, ags_lineitem=LINEITEM)
    obs = AgsSource(FakeResultsReader(ROWS)).observe_learner(Course(), Learner(sub="zz"), policy)
    assert obs.score is None and "No course grade" in evaluate(policy, obs).reason


def test_missing_line_item_is_explained():
    policy = CoursePolicy(source="ags", rule="course_grade", threshold=60)
    with pytest.raises(BridgeError, match="grade column"):
        AgsSource(FakeResultsReader(ROWS)).observe_learner(Course(), Learner(sub="a"), policy)


def test_result_maximum_defaults_to_one():
    assert observation_from_result({"userId": "x", "resultScore": 0.7}).score == 70.0
