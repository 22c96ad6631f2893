"""The scheduled catch-up on pages: the admin sets a platform's period and sees each course's
last run; the instructor's overview shows the course's last run, in English and French."""
import re

import pytest
from sqlalchemy import select

from plugin.cli.admin import create_admin
from plugin.domain.i18n import N_
from plugin.evidence import sync_schedule as schedule
from plugin.evidence.base import BridgeError
from plugin.evidence.sync import SyncReport
from plugin.storage.models import AuditLog, Course, Platform
from tests.bridges_support import make_definition
from tests.web.helpers import launch, make_platform

ISSUER = "https://lms.example.edu"
MOODLE_POLICY = {"source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def platform_id(services):
    return make_platform(services)


@pytest.fixture
def course_id(services, platform_id):
    launch(services, ["instructor"], platform_id=platform_id)  # the course exists once launched
    with services.session() as s:
        return make_definition(s, services=services, issuer=ISSUER, context_id="course-1", platform_id=platform_id,
                               policy=MOODLE_POLICY).course_id


@pytest.fixture
def admin_client(client, services):
    create_admin(services, "root", "a very long password")
    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/login", data={"csrf_token": _csrf(page), "username": "root", "password": "a very long password"})
    return client


def _ran(services, course_id, *, trigger="scheduled", report=None, error=None):
    schedule.begin_run(services, course_id, None, trigger)
    schedule.finish_run(services, course_id, None, report=report, error=error)


def _good_report(course_id):
    return SyncReport(course_id=course_id, total=9, done=9, issued=2, already_issued=5, not_passed=2)


def _bad_token():
    return BridgeError(N_("Moodle refused %(function)s: %(text)s (%(code)s)", function="gradereport_user_get_grade_items",
                          text="Invalid token - token not found", code="invalidtoken"), code="invalidtoken")


def test_admin_sees_each_course_last_run_and_the_period(admin_client, services, platform_id, course_id):
    page = _text(admin_client.get(f"/admin/platforms/{platform_id}").get_data(as_text=True))
    assert "Scheduled catch-up" in page and "every hour" in page
    assert "No catch-up has run yet." in page  # the course reads Moodle: it is listed before its first run
    _ran(services, course_id, report=_good_report(course_id))
    page = _text(admin_client.get(f"/admin/platforms/{platform_id}").get_data(as_text=True))
    assert "It worked. 2 issued, 5 already held, 0 ready to claim, 2 not passed." in page
    assert "on schedule" in page and "Next run: in " in page
    _ran(services, course_id, error=_bad_token())
    page = _text(admin_client.get(f"/admin/platforms/{platform_id}").get_data(as_text=True))
    assert "It failed. The platform refused the tool's token: check it on the admin platform page." in page
    assert "Invalid token - token not found (invalidtoken)" in page


def test_admin_page_in_french(admin_client, services, platform_id, course_id):
    _ran(services, course_id, error=_bad_token())
    _ran(services, course_id, error=_bad_token())
    page = _text(admin_client.get(f"/admin/platforms/{platform_id}?lang=fr").get_data(as_text=True))
    assert "Rattrapage programmé" in page and "toutes les heures" in page
    assert "Échec." in page and "La plateforme a refusé le jeton de l'outil" in page
    assert "2 échecs de suite" in page


def test_admin_sets_the_period_of_a_platform(admin_client, services, platform_id, course_id):
    html = admin_client.get(f"/admin/platforms/{platform_id}").get_data(as_text=True)
    resp = admin_client.post(f"/admin/platforms/{platform_id}/catch-up", data={"csrf_token": _csrf(html), "period": "900"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#catch-up")
    page = _text(admin_client.get(f"/admin/platforms/{platform_id}").get_data(as_text=True))
    assert "The courses of this platform are caught up every 15 minutes." in page
    with services.session() as s:
        assert s.get(Platform, platform_id).bridge_settings["schedule"] == {"every": 900}
        assert schedule.scheduled_courses(s, services.settings) == {course_id: 900}
        assert s.scalar(select(AuditLog).where(AuditLog.action == "platform.catch_up_period")).details == {"every": 900}
    admin_client.post(f"/admin/platforms/{platform_id}/catch-up", data={"csrf_token": _csrf(html), "period": "off"})
    with services.session() as s:
        assert schedule.scheduled_courses(s, services.settings) == {}
    admin_client.post(f"/admin/platforms/{platform_id}/catch-up", data={"csrf_token": _csrf(html), "period": "default"})
    with services.session() as s:
        assert "schedule" not in s.get(Platform, platform_id).bridge_settings
    bad = admin_client.post(f"/admin/platforms/{platform_id}/catch-up", data={"csrf_token": _csrf(html), "period": "5"})
    assert bad.status_code == 400 and "Choose one of the periods offered" in bad.get_data(as_text=True)
    assert admin_client.post(f"/admin/platforms/{platform_id}/catch-up", data={"period": "900"}).status_code == 400


def test_only_admins_of_the_platform_may_set_its_period(client, services, platform_id, course_id):
    other = make_platform(services, issuer="https://other.example.edu", name="Other LMS")
    lid = launch(services, ["admin"], platform_id=other)
    page = client.get(f"/admin/platforms/{other}?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/admin/platforms/{platform_id}/catch-up?launch={lid}",
                       data={"csrf_token": _csrf(page), "launch": lid, "period": "900"})
    assert resp.status_code == 404
    teacher = launch(services, ["instructor"], platform_id=platform_id, sub="teacher")
    token = _csrf(client.get(f"/instructor/?launch={teacher}").get_data(as_text=True))
    assert client.post(f"/admin/platforms/{platform_id}/catch-up?launch={teacher}",
                       data={"csrf_token": token, "launch": teacher, "period": "900"}).status_code == 403
    assert client.post(f"/admin/platforms/{platform_id}/catch-up", data={"period": "900"}).status_code == 400  # no CSRF
    with services.session() as s:
        assert "schedule" not in s.get(Platform, platform_id).bridge_settings


def test_instructor_overview_shows_the_last_run(client, services, platform_id, course_id):
    lid = launch(services, ["instructor"], platform_id=platform_id)
    page = _text(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
    assert "Catch-up from the platform" in page and "every hour" in page and "No catch-up has run yet." in page
    report = _good_report(course_id)
    report.errors = ["42: TimeoutError: read timed out"]
    _ran(services, course_id, trigger="instructor", report=report)
    page = _text(client.get(f"/instructor/?launch={lid}").get_data(as_text=True))
    assert "started by an instructor" in page and "It worked for most learners." in page
    assert "1 learner could not be processed; the next run tries again." in page
    fr = launch(services, ["instructor"], platform_id=platform_id, locale="fr-FR", sub="prof-fr")
    page = _text(client.get(f"/instructor/?launch={fr}").get_data(as_text=True))
    assert "Rattrapage depuis la plateforme" in page and "lancé par un enseignant" in page
    assert "2 délivrées, 5 déjà détenues" in page


def test_instructor_overview_says_nothing_without_a_pull_source(client, services, platform_id):
    lid = launch(services, ["instructor"], platform_id=platform_id)
    with services.session() as s:
        make_definition(s, issuer=ISSUER, context_id="course-1", policy={"source": "gated_launch"})
    page = client.get(f"/instructor/?launch={lid}").get_data(as_text=True)
    assert 'id="catch-up"' not in page
    with services.session() as s:
        assert s.scalar(select(Course)).id
