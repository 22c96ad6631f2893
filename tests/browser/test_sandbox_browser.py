"""The instructor pages inside a platform iframe, reached through a real LTI 1.3 launch.

The sandbox platform (plugin/sandbox) and the tool run on two loopback ports: the
instructor adds the tool by deep linking, opens the link in the platform's iframe,
and saves the credential's description from inside the frame (no cookie needed:
the launch id and the CSRF token travel with the page)."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from plugin.storage.models import CredentialDefinition, IssuerPlatform, Platform
from tests.browser.conftest import click_and_wait


@pytest.fixture
def demo(settings):
    from plugin.sandbox.demo import start_demo
    from plugin.settings import Settings
    handle = start_demo(lambda base_url: Settings.from_env(base_url=base_url), 0, 0)
    yield handle
    handle.stop()


def test_instructor_launch_from_the_sandbox_platform_inside_its_iframe(browser, demo, screenshot, axe_check):
    from plugin.issuance.service import create_issuer
    with demo.services.session() as s:
        platform = s.scalar(select(Platform))
        issuer = create_issuer(s, demo.services, "sandbox-univ", {
            "legal_name": "Sandbox University", "url": "https://sandbox.example.edu", "country_code": "FR",
            "quality_assurance": "Internal review"}, actor="test")
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=platform.id))
    wait = WebDriverWait(browser, 20)
    browser.get(demo.platform_url + "/")
    browser.find_element(By.PARTIAL_LINK_TEXT, "deep linking").click()
    wait.until(EC.frame_to_be_available_and_switch_to_it("tool"))
    wait.until(EC.presence_of_element_located((By.XPATH, "//button[normalize-space()='Add to course']"))).click()
    wait.until(EC.presence_of_element_located((By.PARTIAL_LINK_TEXT, "Back to the course")))
    browser.switch_to.default_content()
    browser.get(demo.platform_url + "/")
    browser.find_element(By.XPATH, "//a[contains(., '(instructor): open')]").click()
    wait.until(EC.frame_to_be_available_and_switch_to_it("tool"))
    wait.until(EC.presence_of_element_located((By.ID, "main")))
    here = lambda: browser.execute_script("return location.href")  # noqa: E731 (current_url is the top page's)
    assert "/instructor/" in here() and "launch=" in here()
    axe_check()
    screenshot("instructor-home-in-iframe")
    click_and_wait(browser, browser.find_element(By.XPATH, "//nav//a[normalize-space()='Describe']"))
    title = browser.find_element(By.NAME, "title")
    title.clear()
    title.send_keys("Sandbox micro-credential")
    browser.find_element(By.NAME, "learning_outcomes-0-text").send_keys("Use the sandbox")
    # pass when the grade on the tool's own gradebook column (AGS) reaches 70 %
    from selenium.webdriver.support.select import Select
    Select(browser.find_element(By.NAME, "policy_source")).select_by_value("ags")
    Select(browser.find_element(By.NAME, "policy_rule")).select_by_value("course_grade")
    browser.find_element(By.NAME, "policy_threshold").clear()
    browser.find_element(By.NAME, "policy_threshold").send_keys("70")
    click_and_wait(browser, browser.find_element(By.ID, "save-preview"))
    assert "/instructor/preview" in here(), [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-error, #form-errors")]
    assert "Sandbox micro-credential" in browser.page_source
    screenshot("preview-in-iframe")
    with demo.services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        assert d.versions[-1].data["title"] == "Sandbox micro-credential"
        allowed = {r.issuer_id for r in s.scalars(select(IssuerPlatform).where(IssuerPlatform.platform_id == platform.id))}
        assert d.issuer_id in allowed  # an issuer the admin allowed for this platform
        assert d.policy["source"] == "ags" and d.policy["threshold"] == 70
