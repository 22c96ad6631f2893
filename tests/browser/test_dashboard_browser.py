"""The instructor's dashboard and issued list in a real browser, English and French, 390 and 1280 px:
nothing scrolls sideways, axe finds no serious violation, and a revoke goes through its confirmation."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from selenium.webdriver.common.by import By

from plugin.storage.models import Course, IssuedCredential, Learner, PassEvidence
from tests.browser.conftest import click_and_wait
from tests.browser.test_catch_up_browser import _shot
from tests.web.helpers import launch, make_platform

TEXT = {"en": {"revoke": "Revoke", "enrolled": "Enrolled", "earlier": "1 earlier credential",
               "evidence": "Passed with 82/100 on", "waiting": "Passed, not claimed yet"},
        "fr": {"revoke": "Révoquer", "enrolled": "Inscrits", "earlier": "1 certification antérieure",
               "evidence": "Réussi avec 82/100 le", "waiting": "Réussi, pas encore récupérée"}}


def _course(services, lang):
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import demo_definition, demo_profile
    from plugin.issuance.pending import award_or_defer
    pid = make_platform(services)
    lid = launch(services, ["instructor"], platform_id=pid, locale=lang)
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, "univ-demo", demo_profile(), actor="test")
        course = s.query(Course).one()
        definition = issuance.save_definition(s, course, demo_definition(), "test", issuer).definition
        definition.policy = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 50,
                             "issuance": "automatic"}
        issuance.set_enabled(s, definition, True, actor="test")
        people = [("g", "Grace Hopper", "grace@example.edu"), ("a", "Alan Turing", "alan@example.edu"),
                  ("k", "Maria-Bernadette Ottilie Wolkenstein-Trauttmansdorff",
                   "maria.bernadette.wolkenstein-trauttmansdorff@faculty-of-very-long-names.example.edu")]
        creds = {}
        for sub, name, email in people:
            learner = Learner(platform_issuer=course.platform_issuer, sub=sub, name=name, email=email)
            s.add(learner)
            s.flush()
            ev = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="openedx_webhook",
                              dedup_key=f"t:{sub}", passed=True, score=82.0, details={"score_max": 100},
                              observed_at=datetime(2026, 12, 3, 10, tzinfo=timezone.utc))
            s.add(ev)
            s.flush()
            creds[sub] = award_or_defer(s, services, definition_id=definition.id, learner_id=learner.id,
                                        evidence_id=ev.id).credential
        issuance.reissue(s, services, creds["g"], display_name="Grace B. Hopper", actor="test")
        creds["a"].claimed_at = datetime.now(timezone.utc)
    return lid


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_issued_list_and_dashboard_fit_a_phone_and_revoke_asks_first(browser, live_server, services, request,
                                                                     axe_check, lang):
    t = TEXT[lang]
    lid = _course(services, lang)
    browser.get(f"{live_server}/instructor/issued?launch={lid}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.issued-row")) == 3  # one row per learner
    assert t["earlier"] in body and t["evidence"] in body
    axe_check()
    for width in (390, 1280):
        _shot(browser, request, "issued", width)

    browser.set_window_size(390, 900)
    row = browser.find_element(By.CSS_SELECTOR, "tr.issued-row")
    click_and_wait(browser, row.find_element(By.PARTIAL_LINK_TEXT, t["revoke"] + "…"))
    assert "/instructor/issued/confirm" in browser.current_url
    axe_check()
    for width in (390, 1280):
        _shot(browser, request, "revoke-confirm", width)
    browser.find_element(By.ID, "reason").send_keys("Exam fraud")
    click_and_wait(browser, browser.find_element(By.ID, "confirm-button"))
    with services.session() as s:
        assert s.query(IssuedCredential).filter_by(status="revoked").count() == 1

    browser.get(f"{live_server}/instructor/dashboard?launch={lid}")
    counts = browser.find_element(By.ID, "dashboard-counts").text
    assert t["enrolled"] in counts
    assert t["waiting"] in browser.find_element(By.TAG_NAME, "body").text
    axe_check()
    for width in (390, 1280):
        _shot(browser, request, "dashboard", width)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_audit_log_reads_as_sentences_and_fits_a_phone(browser, live_server, services, request, axe_check, lang):
    """An LTI administrator's audit log after a revocation: the same count as the overview, no sideways scroll."""
    from plugin.issuance import service as issuance
    _course(services, lang)
    with services.session() as s:
        cred = s.query(IssuedCredential).filter_by(status="active").first()
        issuance.revoke(s, cred, "fraude à l’examen", "admin:root")
        course = s.query(Course).one()
        from plugin.storage.models import AuditLog
        s.add(AuditLog(actor="admin:root", action="platform.connection_tested", target_type="platform",
                       target_id=str(course.platform_id), details={"results": []}))
    admin = launch(services, ["admin"], platform_id=course.platform_id, locale=lang, sub="admin-1")
    browser.get(f"{live_server}/admin/?launch={admin}")
    overview = browser.find_element(By.XPATH, "//main//a[contains(@href, '/admin/audit')]/..").text
    browser.get(f"{live_server}/admin/audit?launch={admin}")
    rows = browser.find_elements(By.CSS_SELECTOR, "li.audit-row")
    assert rows and f": {len(rows)}" in overview  # "Audit log: N" counts what the page lists
    axe_check()
    for width in (390, 1280):
        _shot(browser, request, "audit", width)
