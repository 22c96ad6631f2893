"""The scheduled catch-up in a real browser: the admin sets a platform's period and reads each
course's last run; the instructor reads the course's; English and French, 390 and 1280 px wide,
no horizontal scrolling on a phone, no serious accessibility problem."""
from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from plugin.cli.admin import create_admin
from plugin.domain.i18n import N_
from plugin.evidence import sync_schedule as schedule
from plugin.evidence.base import BridgeError
from plugin.evidence.sync import SyncReport
from plugin.storage.models import Platform
from tests.bridges_support import make_definition
from tests.browser.conftest import SCREENSHOTS, click_and_wait
from tests.web.helpers import launch, make_platform

ISSUER = "https://lms.example.edu"


def _shot(browser, request, name: str, width: int) -> None:
    """A full-page screenshot at ``width`` px, after checking nothing scrolls sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 900)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
    height = browser.execute_script("return Math.max(document.body.scrollHeight, 800)")
    browser.set_window_size(width, min(int(height) + 100, 8000))
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    browser.save_screenshot(str(SCREENSHOTS / f"{test}-{name}-{width}.png"))


@pytest.fixture
def course(services):
    pid = make_platform(services, name="Faculty Moodle")
    launch(services, ["instructor"], platform_id=pid)
    with services.session() as s:
        course_id = make_definition(s, services=services, issuer=ISSUER, context_id="course-1", platform_id=pid,
                                    policy={"source": "moodle", "rule": "course_grade", "threshold": 70,
                                            "issuance": "automatic"}).course_id
        other = make_definition(s, services=services, issuer=ISSUER, context_id="course-2", platform_id=pid,
                                policy={"source": "moodle", "rule": "course_grade", "threshold": 50,
                                        "issuance": "automatic"}).course_id
    report = SyncReport(course_id=course_id, total=31, done=31, issued=4, already_issued=22, not_passed=3,
                        unknown_learners=2)
    schedule.begin_run(services, course_id, None, "scheduled")
    schedule.finish_run(services, course_id, None, report=report)
    error = BridgeError(N_("Moodle refused %(function)s: %(text)s (%(code)s)", function="gradereport_user_get_grade_items",
                           text="Invalid token - token not found", code="invalidtoken"), code="invalidtoken")
    for _ in range(2):
        schedule.begin_run(services, other, None, "scheduled")
        schedule.finish_run(services, other, None, error=error)
    return {"platform": pid, "course": course_id}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_admin_sets_the_period_and_reads_each_course(browser, live_server, services, course, request, axe_check, lang):
    create_admin(services, "root", "a very long password")
    browser.get(live_server + f"/admin/login?lang={lang}")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("a very long password")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    browser.get(live_server + f"/admin/platforms/{course['platform']}?lang={lang}")
    section = browser.find_element(By.ID, "catch-up")
    assert len(section.find_elements(By.CSS_SELECTOR, ".catch-up-course")) == 2
    Select(browser.find_element(By.NAME, "period")).select_by_value("900")
    click_and_wait(browser, browser.find_element(By.ID, "save-catch-up"))
    assert "#catch-up" in browser.current_url
    browser.get(live_server + f"/admin/platforms/{course['platform']}?lang={lang}#catch-up")
    assert ("every 15 minutes" if lang == "en" else "toutes les 15 minutes") in browser.page_source
    with services.session() as s:
        assert s.get(Platform, course["platform"]).bridge_settings["schedule"] == {"every": 900}
    axe_check()
    browser.execute_script("document.getElementById('catch-up').scrollIntoView()")
    for width in (390, 1280):
        _shot(browser, request, "admin-platform", width)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_instructor_reads_the_last_catch_up(browser, live_server, services, course, request, axe_check, lang):
    lid = launch(services, ["instructor"], platform_id=course["platform"], locale=lang, sub=f"prof-{lang}")
    browser.get(live_server + f"/instructor/?launch={lid}")
    text = browser.find_element(By.ID, "catch-up").text
    assert ("4 issued, 22 already held" if lang == "en" else "4 délivrées, 22 déjà détenues") in text
    axe_check()
    for width in (390, 1280):
        _shot(browser, request, "instructor-overview", width)
