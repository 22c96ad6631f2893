"""Failed issuances as people see them, in headless Chromium, at 390 and 1280 px, in English and French.

One learner's issuance failed for good (the issuer's key did not open; the key was then
rotated), another's is pending (the context store refuses a context), a third learner holds
a credential. The learner pages, the instructor's issued list and the admin overview are
shot at both widths in both languages (test-artifacts/screenshots/; with the instructor's
overview and the admin's list of failures), checked with axe-core
and for horizontal overflow; then the instructor presses Retry in the browser.
"""
from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By

from plugin.issuance import pending
from tests.bridges_support import Issued
from tests.browser.conftest import SCREENSHOTS, click_and_wait
from tests.issuance.failure_support import break_signing_key, refuse_context, rotate_keys, run_due_retries
from tests.web.issuance_support import (admin_launch, deliver_pass, instructor_launch, learner_launch,
                                        openedx_course)

WIDTHS = (390, 1280)


def shoot(browser, request, name: str, width: int) -> None:
    """Full-page screenshot at ``width``; fails when the page scrolls sideways."""
    browser.set_window_size(width, 900)
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        culprits = browser.execute_script(
            "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > w + 1 && !(e.parentElement && e.parentElement.closest('.table-scroll')))"
            ".slice(0, 5)"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));")
        pytest.fail(f"{name} overflows by {overflow} px at {width} px: {culprits}")
    height = browser.execute_script("return Math.max(document.body.scrollHeight, 600)")
    browser.set_window_size(width, min(int(height) + 120, 8000))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    browser.save_screenshot(str(SCREENSHOTS / f"{test}-{name}-{width}.png"))


@pytest.fixture
def failures(app, services):
    client = app.test_client()
    course = openedx_course(services)
    break_signing_key(services, course.issuer_id)
    deliver_pass(client, course, sub="grace", username="grace")
    run_due_retries(services, rounds=pending.RETRY_ATTEMPTS)  # Grace: failed for good
    rotate_keys(services, course.issuer_id)
    assert deliver_pass(client, course, sub="ada", username="ada").get_json()["results"][0]["action"] == "issued"
    with refuse_context(services):
        assert deliver_pass(client, course, sub="alan", username="alan").get_json()["results"][0]["action"] \
            == "pending"  # Alan: pending
    return course


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_learner_page_issued_list_and_admin_overview_show_failed_issuances(
        browser, live_server, services, failures, axe_check, request, lang):
    course = failures
    pages = {
        "learner-pending": f"/learner/?launch={learner_launch(services, course, sub='alan', locale=lang)}",
        "learner-failed": f"/learner/?launch={learner_launch(services, course, sub='grace', locale=lang)}",
        "issued-list": f"/instructor/issued?launch={instructor_launch(services, course, locale=lang)}",
        "admin-overview": f"/admin/?launch={admin_launch(services, course, locale=lang)}",
        "instructor-overview": f"/instructor/?launch={instructor_launch(services, course, locale=lang)}",
        "admin-list": f"/admin/issuance/?launch={admin_launch(services, course, locale=lang)}&course={course.course_id}",
    }
    expected = {
        "en": {"learner-pending": "Your credential is being issued; we will retry automatically.",
               "learner-failed": "the course staff have been told",
               "issued-list": "Passed, but not issued yet",
               "admin-overview": "1 failed, 1 being retried.",
               "instructor-overview": "1 being retried, 1 failed",
               "admin-list": "Failed: automatic retries have stopped"},
        "fr": {"learner-pending": "Votre certification est en cours de délivrance ; nous réessaierons automatiquement.",
               "learner-failed": "l’équipe du cours a été prévenue",
               "issued-list": "Réussi, mais certification pas encore délivrée",
               "admin-overview": "1 en échec, 1 en cours de nouvel essai.",
               "instructor-overview": "1 en cours de nouvel essai, 1 en échec",
               "admin-list": "En échec : les nouveaux essais automatiques sont arrêtés"},
    }[lang]
    for name, path in pages.items():
        browser.get(live_server + path)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert expected[name] in " ".join(body.split()), (name, body)
        assert "Not yet passed" not in body and "Pas encore réussi" not in body
        for width in WIDTHS:
            shoot(browser, request, name, width)
        axe_check()


def test_the_instructor_presses_retry_in_the_browser(browser, live_server, services, failures):
    course = failures
    browser.set_window_size(390, 900)
    browser.get(f"{live_server}/instructor/issued?launch={instructor_launch(services, course)}")
    failed = browser.find_element(By.CSS_SELECTOR, ".problem-failed button.retry")
    click_and_wait(browser, failed)
    body = " ".join(browser.find_element(By.TAG_NAME, "body").text.split())
    assert "Issued to grace." in body
    assert len(browser.find_elements(By.CSS_SELECTOR, ".problem")) == 1  # Alan's is still pending
    assert len(Issued(services).all()) == 2
