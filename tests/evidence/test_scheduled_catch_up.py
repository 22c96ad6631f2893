"""Done-when of issue 19: a course with a pull source and no webhook gets its credentials within
one schedule period with the worker alone running (a real ``microcred worker`` process, real
HTTP to the fake Moodle and Open edX), and the schedule keeps catching up afterwards.

Embedded worker against Moodle web services, RQ worker against the Open edX grades API, each
on SQLite and PostgreSQL; a 15 s period set on the platform registration.
"""
import time

import pytest
from sqlalchemy import func, select

from plugin.evidence import bridge_config
from plugin.evidence.sync_schedule import set_platform_period
from plugin.storage.models import CourseSync, IssuedCredential, Learner
from tests.bridges_support import make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, FakeOpenEdx, grade_item
from tests.jobs.workers import WorkerProcess, drop_rq_queue, use_rq, wait_for

pytestmark = pytest.mark.slow
PERIOD = 15


@pytest.fixture(params=["embedded-moodle", "rq-openedx"])
def setup(request, services, monkeypatch):
    """(course id, add_passing_learner) on a platform whose courses are caught up every 15 s."""
    queue_name = use_rq(services, monkeypatch) if request.param.startswith("rq") else None
    if request.param.endswith("moodle"):
        server = FakeMoodle()
        for userid, total in [(3, 62.5), (4, 91.0), (5, 75.0)]:
            server.add_learner(2, userid, f"Learner {userid}", [grade_item(None, total, itemtype="course")])
        with services.session() as s:
            platform = make_platform(s, issuer="https://moodle.test", product="moodle")
            bridge_config.set_moodle(services, platform, server.url, FakeMoodle.TOKEN)
            set_platform_period(platform, PERIOD)
            course_id = make_definition(s, services=services, issuer=platform.issuer, context_id="2",
                                        platform_id=platform.id, policy={"source": "moodle", "rule": "course_grade",
                                                                         "threshold": 70, "issuance": "automatic"}).course_id

        def add_passing_learner():
            server.add_learner(2, 6, "Learner 6", [grade_item(None, 88.0, itemtype="course")])
    else:
        server = FakeOpenEdx()
        key = "course-v1:DemoX+MC101+2026"
        server.add_grade(key, "ada", 0.9, True, "Pass")
        server.add_grade(key, "alan", 0.95, True, "Pass")
        server.add_grade(key, "kurt", 0.3, False, None)
        with services.session() as s:
            platform = make_platform(s)
            bridge_config.set_openedx_api(services, platform, server.url, FakeOpenEdx.CLIENT_ID,
                                          FakeOpenEdx.CLIENT_SECRET)
            set_platform_period(platform, PERIOD)
            course_id = make_definition(s, services=services, platform_id=platform.id,
                                        policy={"source": "openedx_grades", "issuance": "automatic"}).course_id
            for n, username in enumerate(["ada", "alan", "kurt", "grace"]):  # known from earlier launches
                s.add(Learner(platform_issuer=platform.issuer, sub=f"ext-{n}",
                              external_ids={"openedx_username": username}))

        def add_passing_learner():
            server.add_grade(key, "grace", 0.8, True, "Pass")
    yield course_id, add_passing_learner
    server.close()
    if queue_name:
        drop_rq_queue(queue_name)


def _credentials(services):
    with services.session() as s:
        return s.scalars(select(IssuedCredential.learner_id)).all()


def _state(services, course_id):
    with services.session() as s:
        return s.get(CourseSync, course_id)


def _finished_run(services, course_id, after=None):
    """The course's record once a run (another than job ``after``) has finished."""
    state = _state(services, course_id)
    if state is None or state.last_finished_at is None or state.last_job_id == after:
        return None
    if state.last_started_at > state.last_finished_at:  # a newer run has started, not finished
        return None
    return state


def test_worker_alone_issues_within_one_period_and_keeps_catching_up(services, setup, tmp_path):
    course_id, add_passing_learner = setup
    worker = WorkerProcess(tmp_path / "worker.log")
    started = time.monotonic()
    try:
        state = wait_for(lambda: _finished_run(services, course_id), PERIOD + 45,
                         what="the first scheduled catch-up", worker=worker)
        first = time.monotonic() - started
        assert (state.last_trigger, state.last_outcome, state.last_result["counts"]["issued"]) == ("scheduled", "ok", 2)
        assert len(_credentials(services)) == 2
        add_passing_learner()  # a learner passes later, and no webhook tells the tool
        state = wait_for(lambda: _finished_run(services, course_id, after=state.last_job_id), 2 * PERIOD + 45,
                         what="the next scheduled catch-up", worker=worker)
        assert (state.last_outcome, state.last_result["counts"]["issued"]) == ("ok", 1)
        assert state.last_result["counts"]["already_issued"] == 2
        print(f"\nfirst credentials {first:.1f} s after the worker started (period {PERIOD} s)")
    finally:
        worker.stop()
    learners = _credentials(services)
    assert len(learners) == len(set(learners)) == 3  # nothing issued twice by the repeated runs
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(CourseSync)) == 1
