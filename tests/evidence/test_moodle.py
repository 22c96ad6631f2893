import pytest

from plugin.domain.policy import CoursePolicy, evaluate
from plugin.evidence.moodle import MoodleClient, MoodleError, MoodleSource
from plugin.storage.models import Course, Learner
from tests.evidence.fake_platforms import FakeMoodle, grade_item, loopback_http


@pytest.fixture
def moodle():
    server = FakeMoodle()
    server.add_learner(2, 3, "Ada Lovelace",
                       [grade_item("Final exam", 85.0, idnumber="FINAL", item_id=1),
                        grade_item("Quiz 1", None, item_id=2),
                        grade_item(None, 62.5, itemtype="course", item_id=3)],
                       completed=False, missing=["Peer review"])
    server.add_learner(2, 4, "Grace Hopper",
                       [grade_item("Final exam", 40.0, item_id=1), grade_item(None, 91.0, itemtype="course", item_id=3)],
                       completed=True)
    yield server
    server.close()


def source(server, token=FakeMoodle.TOKEN):
    return MoodleSource(MoodleClient(server.url, token, http=loopback_http()))


COURSE = Course(platform_issuer="https://moodle.test", context_id="2")


def learner(sub):
    return Learner(platform_issuer="https://moodle.test", sub=sub, external_ids={})


def test_course_grade_rule_reads_the_course_total(moodle):
    policy = CoursePolicy(source="moodle", rule="course_grade", threshold=70)
    obs = source(moodle).observe_learner(COURSE, learner("3"), policy)
    assert obs.score == 62.5 and obs.assessments["Final exam"] == 85.0 and obs.assessments["FINAL"] == 85.0
    decision = evaluate(policy, obs)
    assert not decision.passed and "62.5 %" in decision.reason and "70 %" in decision.reason
    method, path, query, form = moodle.requests[-1]
    assert path == "/webservice/rest/server.php" and query["wsfunction"] == "gradereport_user_get_grade_items"
    assert query["moodlewsrestformat"] == "json" and form == {"courseid": "2", "userid": "3"}


def test_named_assessment_and_ungraded_items(moodle):
    policy = CoursePolicy(source="moodle", rule="assessment_grade", threshold=80, assessment="final exam")
    assert evaluate(policy, source(moodle).observe_learner(COURSE, learner("3"), policy)).passed
    quiz = CoursePolicy(source="moodle", rule="assessment_grade", threshold=50, assessment="Quiz 1")
    reason = evaluate(quiz, source(moodle).observe_learner(COURSE, learner("3"), quiz)).reason
    assert "not been graded" in reason


def test_completion_rule_lists_what_is_missing(moodle):
    policy = CoursePolicy(source="moodle", rule="completion")
    d = evaluate(policy, source(moodle).observe_learner(COURSE, learner("3"), policy))
    assert not d.passed and "Peer review" in d.reason
    assert evaluate(policy, source(moodle).observe_learner(COURSE, learner("4"), policy)).passed


def test_course_wide_pull_lists_every_learner_by_moodle_user_id(moodle):
    policy = CoursePolicy(source="moodle", rule="course_grade", threshold=70)
    results = list(source(moodle).observe_course(COURSE, policy))
    assert [(r.sub, r.name, r.observation.score) for r in results] == [("3", "Ada Lovelace", 62.5),
                                                                        ("4", "Grace Hopper", 91.0)]


@pytest.mark.parametrize("setup, call, code, words", [
    (lambda m: None, lambda s: s.client.grade_items(2, 3), "invalidtoken", "token"),
    (lambda m: m.enabled.discard("gradereport_user_get_grade_items"), lambda s: s.client.grade_items(2, 3),
     "accessexception", "add gradereport_user_get_grade_items to the external service"),
    (lambda m: None, lambda s: s.client.grade_items(99, 3), "invalidrecord", "course id 99"),
    (lambda m: None, lambda s: s.client.completion_status(2, 77), "notenrolled", "not enrolled"),
])
def test_moodle_error_envelopes_become_clear_messages(moodle, setup, call, code, words):
    setup(moodle)
    token = "wrong" if code == "invalidtoken" else FakeMoodle.TOKEN
    with pytest.raises(MoodleError) as err:
        call(source(moodle, token))
    assert err.value.errorcode == code
    assert words in err.value.message
    assert "Moodle refused" in err.value.message


def test_invalid_token_message_is_moodles_own(moodle):
    with pytest.raises(MoodleError) as err:
        source(moodle, "nope").check()
    assert "Invalid token - token not found (invalidtoken)" in str(err.value)


def test_no_completion_criteria_still_decides_course_passed_from_grades(moodle):
    moodle.add_learner(5, 8, "Alan Turing", [grade_item(None, 90.0, itemtype="course")], completed=None)
    policy = CoursePolicy(source="moodle", rule="completion")
    with pytest.raises(MoodleError, match="completion criteria"):
        source(moodle).observe_learner(Course(platform_issuer="x", context_id="5"), learner("8"), policy)


def test_unreachable_moodle_is_retryable():
    with pytest.raises(MoodleError) as err:
        MoodleClient("http://127.0.0.1:9", "t", timeout=2, http=loopback_http()).grade_items(2, 3)
    assert err.value.retryable and "could not be reached" in err.value.message
