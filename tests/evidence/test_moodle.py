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
    assert [(r.sub, r.name, r.observation.score) for r in results] == [("3", None, 62.5), ("4", None, 91.0)]
    shared = MoodleSource(MoodleClient(moodle.url, FakeMoodle.TOKEN, http=loopback_http()), share_names=True)
    assert [r.name for r in shared.observe_course(COURSE, policy)] == ["Ada Lovelace", "Grace Hopper"]


def test_course_passed_uses_moodles_verdict_on_the_course_total(moodle):
    """Issue 13, defect 4: 4.3's grade items carry no gradepass; the grades table says pass/fail."""
    moodle.add_learner(7, 10, "Léa Martin", [grade_item("Final exam", 80.0, item_id=1),
                                             grade_item(None, 232.5, itemtype="course", grademax=300.0, item_id=9)],
                       completed=False, missing=["Peer review"])
    moodle.add_learner(7, 11, "Sam Novak", [grade_item(None, 30.0, itemtype="course", grademax=300.0, item_id=9)],
                       completed=True)
    moodle.course_gradepass[7] = 50.0  # grade to pass 50/300
    course = Course(platform_issuer="https://moodle.test", context_id="7")
    policy = CoursePolicy(source="moodle", rule="course_passed")
    obs = source(moodle).observe_learner(course, learner("10"), policy)
    assert (obs.passed, obs.score, obs.details["course_total_verdict"]) == (True, 77.5, "gradepass")
    assert evaluate(policy, obs).passed  # not "not completed": the course total's grade to pass decides
    failing = source(moodle).observe_learner(course, learner("11"), policy)
    decision = evaluate(policy, failing)
    assert failing.passed is False and not decision.passed and "10 %" in str(decision.reason)
    assert [r.observation.passed for r in source(moodle).observe_course(course, policy)] == [True, False]
    called = [q["wsfunction"] for _, _, q, _ in moodle.requests]
    assert "gradereport_user_get_grades_table" in called


def test_course_passed_without_a_grade_to_pass_falls_back_to_completion(moodle):
    # No grade to pass on the course total (or Moodle before 4.0): no class on the cell.
    policy = CoursePolicy(source="moodle", rule="course_passed")
    ada = source(moodle).observe_learner(COURSE, learner("3"), policy)
    grace = source(moodle).observe_learner(COURSE, learner("4"), policy)
    assert (ada.passed, grace.passed) == (False, True)
    assert "course_total_verdict" not in ada.details


def test_the_grades_table_must_be_in_the_service_for_course_passed(moodle):
    moodle.enabled.discard("gradereport_user_get_grades_table")
    with pytest.raises(MoodleError, match="add gradereport_user_get_grades_table to the external service"):
        source(moodle).observe_learner(COURSE, learner("3"), CoursePolicy(source="moodle", rule="course_passed"))


@pytest.mark.parametrize("switch", ["webservices_enabled", "rest_enabled"])
def test_web_services_or_rest_switched_off_say_so(moodle, switch):
    """Issue 13, defect 2: Moodle answers an empty HTTP 403, not an error envelope."""
    setattr(moodle, switch, False)
    with pytest.raises(MoodleError) as err:
        source(moodle).check()
    assert err.value.errorcode == "webservicesnotenabled"
    assert "web services or the REST protocol are disabled" in err.value.message
    assert "site root" not in err.value.message


def test_completion_switched_off_in_the_course(moodle):
    """Issue 13, defect 3: 4.3 answers cannotviewreport, not completionnotenabled."""
    moodle.completion_disabled.add(2)
    moodle.course_gradepass[2] = 60.0
    passed = CoursePolicy(source="moodle", rule="course_passed")
    obs = source(moodle).observe_learner(COURSE, learner("3"), passed)
    assert obs.completed is None and obs.passed is True  # 62.5 >= 60: the course total decides
    completion = CoursePolicy(source="moodle", rule="completion")
    with pytest.raises(MoodleError) as err:
        source(moodle).observe_learner(COURSE, learner("3"), completion)
    assert err.value.errorcode == "cannotviewreport"
    assert "You cannot view this report" in err.value.message and "Completion tracking" in err.value.message


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
