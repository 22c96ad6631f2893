import pytest
from click.testing import CliRunner

from plugin.cli import cli
from plugin.evidence import bridge_config
from plugin.issuance import auto
from plugin.jobs import queue as jobs
from tests.bridges_support import Issued, make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, grade_item

MOODLE = "https://moodle.test"


@pytest.fixture
def issued(services):
    """Credentials the real engine issued."""
    return Issued(services)


@pytest.fixture
def course_id(services):
    server = FakeMoodle()
    for userid, total in [(3, 62.5), (4, 91.0)]:
        server.add_learner(2, userid, f"L{userid}", [grade_item(None, total, itemtype="course")])
    with services.session() as s:
        platform = make_platform(s, issuer=MOODLE, product="moodle")
        bridge_config.set_moodle(services, platform, server.url, FakeMoodle.TOKEN)
        definition = make_definition(s, services=services, issuer=MOODLE, context_id="2", platform_id=platform.id, policy={
            "source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"})
        course = definition.course_id
    yield course
    server.close()


def test_sync_by_issuer_and_context_shows_progress_and_summary(course_id, issued):
    result = CliRunner().invoke(cli, ["sync", MOODLE, "2"])
    assert result.exit_code == 0, result.output
    assert "2/2 results, 1 issued" in result.output and "1 not passed" in result.output
    again = CliRunner().invoke(cli, ["sync", str(course_id)])
    assert "0 issued, 1 already issued" in again.output


def test_sync_unknown_course_is_a_one_line_error(course_id):
    result = CliRunner().invoke(cli, ["sync", MOODLE, "nope"])
    assert result.exit_code == 1 and "no such course" in result.output


def test_worker_burst_runs_due_jobs(services, monkeypatch):
    monkeypatch.setitem(jobs.JOB_KINDS, "test_flaky", "tests.jobs.handlers:flaky")
    jobs.enqueue(services, "test_flaky", {"name": "w"})
    result = CliRunner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 0 and "ran 1 job(s)" in result.output


def test_sync_command_is_recorded_as_the_course_last_catch_up(course_id, services):
    from plugin.storage.models import CourseSync
    assert CliRunner().invoke(cli, ["sync", str(course_id)]).exit_code == 0
    with services.session() as s:
        state = s.get(CourseSync, course_id)
        assert (state.last_trigger, state.last_outcome, state.last_result["counts"]["issued"]) == ("command", "ok", 1)
