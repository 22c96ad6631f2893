import pytest

from plugin.domain.policy import CoursePolicy, evaluate
from plugin.evidence.base import BridgeError
from plugin.evidence.openedx import OpenEdxGradesClient, OpenEdxGradesSource
from plugin.storage.models import Course, Learner
from tests.evidence.fake_platforms import FakeOpenEdx, loopback_http

KEY = "course-v1:DemoX+MC101+2026"


@pytest.fixture
def lms():
    server = FakeOpenEdx()
    for i in range(7):
        server.add_grade(KEY, f"learner{i}", percent=i / 10, passed=i >= 5, letter_grade="Pass" if i >= 5 else None)
    yield server
    server.close()


def client(server, secret=FakeOpenEdx.CLIENT_SECRET):
    return OpenEdxGradesClient(server.url, FakeOpenEdx.CLIENT_ID, secret, http=loopback_http())


def test_single_learner_grade_uses_username_and_a_client_credentials_token(lms):
    src = OpenEdxGradesSource(client(lms), "https://lms.example.org")
    policy = CoursePolicy(source="openedx_grades", rule="course_grade", threshold=55)
    ada = Learner(platform_issuer="https://lms.example.org", sub="ext-1", external_ids={"openedx_username": "learner6"})
    obs = src.observe_learner(Course(platform_issuer="x", context_id=KEY), ada, policy)
    assert obs.score == 60.0 and obs.passed is True and obs.details["letter_grade"] == "Pass"
    assert evaluate(policy, obs).passed
    token_call = lms.requests[0]
    assert token_call[1] == "/oauth2/access_token" and token_call[3]["grant_type"] == "client_credentials"
    assert lms.requests[1][2] == {"username": "learner6"}


def test_course_wide_list_follows_pagination(lms):
    rows = list(client(lms).course_grades(KEY, page_size=3))
    assert [r["username"] for r in rows] == [f"learner{i}" for i in range(7)]
    assert sum(1 for r in lms.requests if r[1].startswith("/api/grades")) == 3


def test_unknown_course_and_bad_secret_are_clear(lms):
    with pytest.raises(BridgeError) as err:
        client(lms).user_grade("course-v1:Nope+X+1", "learner1")
    assert err.value.code == "unknown_course" and "course_does_not_exist" in err.value.message
    with pytest.raises(BridgeError) as err:
        client(lms, "wrong").user_grade(KEY, "learner1")
    assert err.value.code == "invalid_client" and "client id or secret" in err.value.message
    with pytest.raises(BridgeError) as err:
        client(lms).user_grade(KEY, "stranger")
    assert err.value.code == "user_not_enrolled" and "not enrolled" in err.value.message


def test_learner_without_known_username_says_so(lms):
    src = OpenEdxGradesSource(client(lms), "https://lms.example.org")
    nobody = Learner(platform_issuer="x", sub="ext-9", external_ids={})
    with pytest.raises(BridgeError, match="username is not known"):
        src.observe_learner(Course(platform_issuer="x", context_id=KEY), nobody,
                            CoursePolicy(source="openedx_grades"))
