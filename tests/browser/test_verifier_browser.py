"""What verifiers and admins see, in a real browser at a phone's and a desktop's width, in
English and French: a replaced (superseded) credential's public page, and the issuer form's
LinkedIn organisation field. Screenshots go to ``test-artifacts/screenshots/``."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from plugin.cli.admin import create_admin
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential
from tests.browser.conftest import SCREENSHOTS, click_and_wait
from tests.engine_helpers import make_world

WIDTHS = (390, 1280)


def _at_width(browser, width: int, url: str) -> None:
    """Load ``url`` as a ``width`` px wide screen (CSS pixels, like a phone in portrait)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    browser.get(url)


def _shot(browser, name: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return Math.max(document.documentElement.scrollHeight, 600)")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": min(int(height), 8000), "deviceScaleFactor": 1,
                             "mobile": width < 600})
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))


def _no_horizontal_overflow(browser, width: int) -> None:
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide at {width}px"


@pytest.fixture
def reset_metrics(browser):
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _replaced_credential(services) -> tuple[str, str]:
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Ada King", actor="test")
        newer = issuance.reissue(s, services, row, display_name="Ada Lovelace-King", actor="test")
        return row.public_id, newer.public_id


@pytest.mark.parametrize("lang, replaced, link, valid", [
    ("en", "Replaced by a newer version", "See the newer version", "Verified: valid"),
    ("fr", "Remplacée par une version plus récente", "Voir la version plus récente", "valide et authentique"),
])
def test_a_replaced_credential_says_so_and_links_to_the_newer_one(reset_metrics, live_server, services, axe_check,
                                                                 lang, replaced, link, valid):
    browser = reset_metrics
    old_id, new_id = _replaced_credential(services)
    for width in WIDTHS:
        _at_width(browser, width, f"{live_server}/verify/{old_id}?lang={lang}")
        verdict = browser.find_element(By.ID, "verdict")
        assert verdict.get_attribute("data-status") == "superseded" and replaced in verdict.text
        assert "Revoked" not in browser.page_source and "Révoquée" not in verdict.text
        picture = browser.find_element(By.CSS_SELECTOR, "img.cred-badge")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", picture) == 720
        _no_horizontal_overflow(browser, width)
        axe_check()
        _shot(browser, f"verify-superseded-{lang}", width)
    href = browser.find_element(By.ID, "replaced-by").get_attribute("href")
    assert href == f"http://tool.test/verify/{new_id}"  # the tool's public address (MICROCRED_BASE_URL)
    browser.get(f"{live_server}/verify/{new_id}?lang={lang}")
    verdict = browser.find_element(By.ID, "verdict")
    assert verdict.get_attribute("data-status") == "valid" and valid in verdict.text
    with services.session() as s:
        assert s.scalars(select(IssuedCredential.status).where(IssuedCredential.public_id == old_id)).one() \
            == "superseded"


def _sign_in(browser, live_server, services):
    create_admin(services, "root", "a very long password")
    browser.get(live_server + "/admin/login")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("a very long password")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[@type='submit']"))


@pytest.mark.parametrize("lang, label, error", [
    ("en", "LinkedIn organisation ID", "digits only"),
    ("fr", "Identifiant de l’organisation LinkedIn", "uniquement des chiffres"),
])
def test_issuer_form_linkedin_field_explains_itself_and_its_error(reset_metrics, live_server, services, axe_check,
                                                                 lang, label, error):
    browser = reset_metrics
    _sign_in(browser, live_server, services)
    for width in WIDTHS:
        _at_width(browser, width, f"{live_server}/admin/issuers/new?lang={lang}")
        field = browser.find_element(By.ID, "linkedin_organization_id")
        assert label in browser.find_element(By.CSS_SELECTOR, "label[for=linkedin_organization_id]").text
        assert "linkedin.com/company/12345678/admin/" in browser.page_source
        field.send_keys("univ-lille")
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[type=submit]"))
        message = browser.find_element(By.ID, "linkedin_organization_id-error")
        assert error in message.text
        assert browser.switch_to.active_element is not None
        _no_horizontal_overflow(browser, width)
        axe_check()
        _shot(browser, f"admin-issuer-linkedin-{lang}", width)
