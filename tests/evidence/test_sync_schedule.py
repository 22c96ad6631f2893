"""Scheduled catch-up: which courses, when, one run per course at a time, back-off, and the record."""
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from plugin.evidence import bridge_config
from plugin.evidence import sync_schedule as schedule
from plugin.evidence.base import as_utc
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import Course, CourseSync, Job, Platform
from tests.bridges_support import Issued, make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, FakeOpenEdx

MOODLE = "https://moodle.test"
HOUR = 3600


def _state(services, course_id) -> CourseSync:
    with services.session() as s:
        return s.get(CourseSync, course_id)


def _make_due(services, course_id):
    with services.session() as s:
        s.execute(update(CourseSync).where(CourseSync.course_id == course_id)
                  .values(next_run_at=datetime.now(timezone.utc) - timedelta(seconds=1)))


def _seconds_until(value) -> float:
    return (as_utc(value) - datetime.now(timezone.utc)).total_seconds()


def _sync_jobs(services):
    with services.session() as s:
        return s.scalars(select(Job).where(Job.kind == "sync_course").order_by(Job.id)).all()


def test_only_courses_with_a_pull_source_are_scheduled(services, course_id):
    with services.session() as s:
        gated = make_definition(s, issuer=MOODLE, context_id="9", policy={"source": "gated_launch"}).course_id
        oe = make_platform(s, issuer="https://lms.test", client_id="c-oe")
        webhook = make_definition(s, issuer="https://lms.test", context_id="course-v1:X+Y+Z", platform_id=oe.id,
                                  policy={"source": "openedx_webhook", "issuance": "automatic"}).course_id
        disabled = make_definition(s, issuer=MOODLE, context_id="7", enabled=False,
                                   policy={"source": "moodle", "rule": "course_grade", "threshold": 50}).course_id
        assert schedule.scheduled_courses(s, services.settings) == {course_id: HOUR}
        # An Open edX webhook course is caught up too once the grades API is configured (missed events).
        bridge_config.set_openedx_api(services, oe, "https://lms.test", "id", "secret")
        assert schedule.scheduled_courses(s, services.settings) == {course_id: HOUR, webhook: HOUR}
    assert gated not in (None, course_id) and disabled != course_id


def test_a_new_course_is_first_caught_up_within_one_period(services, course_id):
    queue = jobs.get_queue(services)
    assert schedule.start_due_syncs(services, queue) == []  # first sight: planned, not started
    wait = _seconds_until(_state(services, course_id).next_run_at)
    assert 0 <= wait <= HOUR


def test_platform_period_and_off(services, course_id):
    with services.session() as s:
        platform = s.scalar(select(Platform).where(Platform.issuer == MOODLE))
        schedule.set_platform_period(platform, 900)
    with services.session() as s:
        assert schedule.scheduled_courses(s, services.settings) == {course_id: 900}
        schedule.set_platform_period(s.scalar(select(Platform)), 0)
    with services.session() as s:
        assert schedule.scheduled_courses(s, services.settings) == {}
        schedule.set_platform_period(s.scalar(select(Platform)), None)  # back to MICROCRED_SYNC_EVERY
    services.settings.sync_every = 0
    with services.session() as s:
        assert schedule.scheduled_courses(s, services.settings) == {}


def test_due_course_gets_one_run_when_workers_look_at_once(services, course_id):
    queue = jobs.get_queue(services)
    schedule.start_due_syncs(services, queue)
    _make_due(services, course_id)
    started: list[list[int]] = []
    threads = [threading.Thread(target=lambda: started.append(schedule.start_due_syncs(services, queue)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(len(ids) for ids in started) == 1
    job = _sync_jobs(services)[0]
    assert job.payload == {"course_id": course_id, "trigger": "scheduled"}
    assert _state(services, course_id).running_job_id == job.id
    _make_due(services, course_id)  # due again while the run is still queued: nothing more
    assert schedule.start_due_syncs(services, queue) == []


def test_scheduled_run_issues_records_the_result_and_plans_the_next(services, course_id):
    queue = jobs.get_queue(services)
    schedule.start_due_syncs(services, queue)
    _make_due(services, course_id)
    assert len(schedule.start_due_syncs(services, queue)) == 1
    assert EmbeddedWorker(services).run_until_empty() == 1
    state = _state(services, course_id)
    assert (state.last_outcome, state.last_trigger, state.failures, state.running_job_id) == ("ok", "scheduled", 0, None)
    counts = state.last_result["counts"]
    assert (counts["total"], counts["issued"], counts["not_passed"], counts["errors"]) == (3, 2, 1, 0)
    assert 0.89 * HOUR <= _seconds_until(state.next_run_at) <= 1.1 * HOUR  # one period, ± 10 % jitter
    assert len(Issued(services).all()) == 2


def test_platform_errors_back_off_then_a_good_run_resets(services, course_id, moodle):
    queue = jobs.get_queue(services)
    with services.session() as s:
        bridge_config.set_moodle(services, s.scalar(select(Platform)), moodle.url, "revoked-token")
    schedule.start_due_syncs(services, queue)
    waits = []
    for _ in range(3):
        _make_due(services, course_id)
        assert len(schedule.start_due_syncs(services, queue)) == 1
        assert EmbeddedWorker(services).run_once() == "failed"
        state = _state(services, course_id)
        waits.append(_seconds_until(state.next_run_at) / HOUR)
    assert state.last_outcome == "failed" and state.failures == 3
    assert state.last_error_code == "invalidtoken" and "Invalid token" in state.last_error
    assert state.last_result["error_message"]["msgid"]  # kept translatable for the pages
    for wait, hours in zip(waits, [2, 4, 8]):  # doubling, each with up to 10 % jitter
        assert hours - 0.01 <= wait <= hours * 1.1
    with services.session() as s:
        bridge_config.set_moodle(services, s.scalar(select(Platform)), moodle.url, FakeMoodle.TOKEN)
    _make_due(services, course_id)
    schedule.start_due_syncs(services, queue)
    assert EmbeddedWorker(services).run_until_empty() == 1
    state = _state(services, course_id)
    assert state.last_outcome == "ok" and state.failures == 0 and state.last_error is None
    assert _seconds_until(state.next_run_at) <= 1.1 * HOUR


def test_backoff_is_capped_at_a_day_or_the_period():
    assert schedule.backoff(HOUR, 1) == timedelta(hours=2)
    assert schedule.backoff(HOUR, 10) == timedelta(hours=24)
    assert schedule.backoff(2 * 86400, 3) == timedelta(days=2)


def test_one_run_per_course_until_the_holder_dies(services, course_id):
    a = jobs.enqueue(services, "sync_course", {"course_id": course_id})
    b = jobs.enqueue(services, "sync_course", {"course_id": course_id})
    worker = EmbeddedWorker(services)
    claimed, _owner = worker.claim()
    assert claimed == a and schedule.begin_run(services, course_id, a, "instructor")
    assert not schedule.begin_run(services, course_id, b, "instructor")  # A runs, its lease is alive
    with services.session() as s:
        s.execute(update(Job).where(Job.id == a)
                  .values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert schedule.begin_run(services, course_id, b, "instructor")  # A's worker died: B may run


def test_a_second_run_finds_the_course_held_and_ends_at_once(services, course_id):
    a = jobs.enqueue(services, "sync_course", {"course_id": course_id})
    assert schedule.begin_run(services, course_id, a, "instructor")  # A is queued or running
    b = jobs.enqueue(services, "sync_course", {"course_id": course_id})
    assert jobs.execute_job(services, b) == "done"
    with services.session() as s:
        assert s.get(Job, b).result == {"skipped": "another catch-up of this course is running"}
    assert Issued(services).all() == []


def test_every_run_is_recorded_whatever_started_it(services, course_id):
    from plugin.evidence.sync import sync_course
    schedule.begin_run(services, course_id, None, "command")
    schedule.finish_run(services, course_id, None, report=sync_course(services, course_id))
    state = _state(services, course_id)
    assert (state.last_trigger, state.last_outcome, state.last_result["counts"]["issued"]) == ("command", "ok", 2)


def test_open_edx_grades_course_on_schedule(services):
    lms = FakeOpenEdx()
    key = "course-v1:DemoX+MC101+2026"
    lms.add_grade(key, "ada", 0.9, True, "Pass")
    try:
        with services.session() as s:
            platform = make_platform(s)
            bridge_config.set_openedx_api(services, platform, lms.url, FakeOpenEdx.CLIENT_ID, FakeOpenEdx.CLIENT_SECRET)
            course = make_definition(s, services=services, platform_id=platform.id,
                                     policy={"source": "openedx_grades", "issuance": "automatic"}).course_id
            from plugin.storage.models import Learner
            s.add(Learner(platform_issuer=platform.issuer, sub="ext-1", external_ids={"openedx_username": "ada"}))
        queue = jobs.get_queue(services)
        schedule.start_due_syncs(services, queue)
        _make_due(services, course)
        schedule.start_due_syncs(services, queue)
        EmbeddedWorker(services).run_until_empty()
        assert _state(services, course).last_result["counts"]["issued"] == 1
    finally:
        lms.close()
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(Course)) == 1


def test_changing_the_period_replans_the_courses(services, course_id):
    from plugin.evidence.sync import sync_course
    schedule.begin_run(services, course_id, None, "command")
    schedule.finish_run(services, course_id, None, report=sync_course(services, course_id))
    assert _seconds_until(_state(services, course_id).next_run_at) > 0.89 * HOUR
    with services.session() as s:
        platform = s.scalar(select(Platform))
        schedule.set_platform_period(platform, 900)
        schedule.replan_platform(s, services.settings, platform)
    assert 0 < _seconds_until(_state(services, course_id).next_run_at) <= 900  # 15 min after the last run
    with services.session() as s:
        platform = s.scalar(select(Platform))
        schedule.set_platform_period(platform, 86400)
        schedule.replan_platform(s, services.settings, platform)
    assert _seconds_until(_state(services, course_id).next_run_at) > 86000
