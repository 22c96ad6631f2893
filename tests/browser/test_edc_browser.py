"""The European Digital Credential pages in a real browser, at 390 and 1280 px, in English
and French: no horizontal overflow, no serious accessibility violation; screenshots saved in
``test-artifacts/screenshots/``."""
from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from plugin.cli.admin import create_admin
from plugin.delivery.access import make_access_token
from plugin.issuance import edc_sealing
from plugin.issuance import service as issuance
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import EdcSeal, Issuer
from tests.browser.conftest import WIDTHS, click_and_wait, each_view, shoot_at
from tests.engine_helpers import add_learner, make_world

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "elm" / "Sample-MC-Annex1-signed.jsonld"

@pytest.fixture
def world(services, monkeypatch):
    """An awarding body that seals through an EDC Issuer that refuses, so a failed seal shows."""
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    w = make_world(services)
    with services.session() as s:
        edc_sealing.set_edc_issuer(s, services, s.get(Issuer, w.issuer_id), url="http://127.0.0.1:9",
                                   password="pw", token=None, actor="admin:t")
        row, _ = issuance.award(s, services, definition_id=w.definition_id, learner_id=w.learner_id,
                                evidence_id=w.evidence_id, display_name="Ada Lovelace")
        learner_id, evidence_id = add_learner(s, w.definition_id, sub="learner-2", email="bob@example.org")
        issuance.award(s, services, definition_id=w.definition_id, learner_id=learner_id, evidence_id=evidence_id,
                       display_name="Bob")
        public_id, learner_public = row.public_id, row.learner.public_id
    EmbeddedWorker(services).run_until_empty()
    with services.session() as s:
        assert {r.status for r in s.scalars(select(EdcSeal))} == {"failed"}
    return w, public_id, learner_public


def test_learner_page_offers_the_edc_and_europass(browser, live_server, app, world, axe_check):
    _w, public_id, learner_public = world
    token = make_access_token(app.config["SECRET_KEY"], learner_public)
    each_view(browser, axe_check, f"{live_server}/learner/credentials/{public_id}?access={token}", "edc-learner")
    assert browser.find_element(By.ID, "dl-edc").is_displayed()
    assert browser.find_element(By.ID, "europass-form").is_displayed()


def test_admin_edc_pages(browser, live_server, services, world, axe_check):
    w, _public_id, _learner = world
    create_admin(services, "root", "a very long password")
    browser.get(live_server + "/admin/login")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("a very long password")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']"))
    each_view(browser, axe_check, f"{live_server}/admin/issuers/{w.issuer_id}/edc", "edc-admin-issuer")
    each_view(browser, axe_check, f"{live_server}/admin/edc", "edc-admin-overview")
    assert "did not answer" in browser.page_source  # the failure, in the words the admin reads
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-status='failed']")) == 2


def test_verify_report_of_a_sealed_edc(browser, live_server, axe_check):
    for lang in ("en", "fr"):
        browser.get(f"{live_server}/verify?lang={lang}")
        browser.find_element(By.ID, "file").send_keys(str(SAMPLE))
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        assert browser.find_element(By.ID, "verdict").get_attribute("data-status") == "unknown-authority"
        axe_check()
        for width in WIDTHS:
            shoot_at(browser, f"edc-verify-{lang}", width)
