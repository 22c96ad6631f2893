import pytest

from plugin.evidence import bridge_config
from plugin.jobs.worker import EmbeddedWorker
from plugin.web.auth import Actor, store_launch
from tests.bridges_support import make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, grade_item

MOODLE = "https://moodle.test"


@pytest.fixture
def course(services):
    server = FakeMoodle()
    for userid, total in [(3, 62.5), (4, 91.0), (5, 80.0)]:
        server.add_learner(2, userid, f"L{userid}", [grade_item(None, total, itemtype="course")])
    with services.session() as s:
        platform = make_platform(s, issuer=MOODLE, product="moodle")
        bridge_config.set_moodle(services, platform, server.url, FakeMoodle.TOKEN)
        definition = make_definition(s, services=services, issuer=MOODLE, context_id="2", platform_id=platform.id, policy={
            "source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"})
        course_id = definition.course_id
        instructor = store_launch(s, Actor(kind="lti", roles=["instructor"], course_id=course_id,
                                           platform_issuer=MOODLE, sub="2"))
        learner = store_launch(s, Actor(kind="lti", roles=["learner"], course_id=course_id,
                                        platform_issuer=MOODLE, sub="3"))
        other = store_launch(s, Actor(kind="lti", roles=["instructor"], course_id=course_id + 100,
                                      platform_issuer=MOODLE, sub="9"))
    yield {"id": course_id, "instructor": instructor, "learner": learner, "other": other}
    server.close()


def test_instructor_starts_a_sync_and_polls_its_progress(client, services, course):
    headers = {"X-Microcred-Launch": course["instructor"]}
    started = client.post(f"/api/courses/{course['id']}/sync", headers=headers, json={})
    assert started.status_code == 202
    body = started.get_json()
    status = client.get(body["status_url"], headers=headers).get_json()
    assert status["status"] == "queued" and status["progress"] == {"done": 0, "total": None}
    twice = client.post(f"/api/courses/{course['id']}/sync", headers=headers, json={})
    assert twice.get_json()["already_running"] is True and twice.get_json()["job_id"] == body["job_id"]
    EmbeddedWorker(services).run_until_empty()
    done = client.get(body["status_url"], headers=headers).get_json()
    assert done["status"] == "done" and done["progress"] == {"done": 3, "total": 3}
    assert done["report"]["issued"] == 2 and "2 issued" in done["summary"]


def test_learners_and_other_courses_instructors_cannot_sync(client, course):
    url = f"/api/courses/{course['id']}/sync"
    assert client.post(url, headers={"X-Microcred-Launch": course["learner"]}).status_code == 403
    assert client.post(url, headers={"X-Microcred-Launch": course["other"]}).status_code == 403
    assert client.post(url).status_code == 401
    assert client.get(f"{url}/999", headers={"X-Microcred-Launch": course["instructor"]}).status_code == 404
