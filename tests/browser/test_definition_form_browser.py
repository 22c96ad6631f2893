"""The definition form in a real browser: what is stored comes back, a save that changes
nothing creates no version."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from plugin.storage.models import CredentialDefinition, DefinitionVersion, IssuerPlatform
from tests.browser.conftest import click_and_wait
from tests.web.helpers import launch, make_platform


def demo_course(services, locale="en"):
    """The demo's awarding body and its prefilled definition, in a course an instructor launches."""
    from plugin.issuance.demo_data import DEMO_SLUG, demo_definition, demo_profile
    from plugin.issuance.service import create_issuer, save_definition
    from plugin.sandbox.demo import DEMO_POLICY
    from plugin.storage.models import Course
    pid = make_platform(services)
    lid = launch(services, ["instructor"], platform_id=pid, locale=locale)
    with services.session() as s:
        issuer = create_issuer(s, services, DEMO_SLUG, demo_profile(), actor="test")
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=pid))
        course = s.scalar(select(Course))
        save_definition(s, course, demo_definition(), "instructor:demo", issuer, policy=dict(DEMO_POLICY))
    return lid


def _versions(services):
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        n = s.scalar(select(func.count()).select_from(DefinitionVersion))
        latest = s.scalar(select(DefinitionVersion).order_by(DefinitionVersion.version.desc()))
        return n, d.current_version, latest.data, dict(d.policy)


def test_saving_the_prefilled_demo_definition_unchanged_keeps_its_version_and_every_value(
        browser, live_server, services):
    from plugin.issuance.demo_data import demo_definition
    lid = demo_course(services)
    before = _versions(services)
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    # what is stored is what the form shows: no "Choose…" where a value was saved
    field = browser.find_element(By.NAME, "field_of_study")
    assert field.get_attribute("value") == "0542"
    # a wording outside the controlled list is kept whole, and the select says so
    assert browser.find_element(By.NAME, "assessment_kind").get_attribute("value") == "other"
    assert browser.find_element(By.NAME, "assessment_details").get_attribute("value") == \
        "Summative online examination with a graded written project"
    click_and_wait(browser, browser.find_element(By.ID, "save"))
    assert "Nothing was saved" not in browser.page_source, browser.page_source[:3000]
    after = _versions(services)
    assert after[0] == before[0] == 1 and after[1] == 1
    assert after[2] == demo_definition().to_json()
    assert after[3] == before[3]
    assert "Nothing changed" in browser.find_element(By.TAG_NAME, "body").text
