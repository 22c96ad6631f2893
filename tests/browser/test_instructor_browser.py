"""An instructor, in a real browser, in English and in French: first launch, describe every
Annex I element, add an outcome row, preview (learner view, verifier view, badge), pass the
GRADEO check, enable, then revoke a credential from the issued list. axe-core on every page."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from sqlalchemy import select

from tests.browser.conftest import click_and_wait

from plugin.storage.models import CredentialDefinition, IssuedCredential, IssuerPlatform, Learner
from tests.web.helpers import launch, make_platform

TEXT = {
    "en": {"describe": "Describe the credential", "add": "Add an outcome", "save_preview": "Save and preview",
           "gradeo_ok": "every rule is met", "enable": "Enable this credential", "enabled": "Enabled",
           "revoke": "Revoke", "revoked": "revoked", "learner_view": "What the learner sees",
           "verifier_view": "What a verifier sees", "decimal": "4.5", "missing": "Still missing",
           "shown": ["Summative: proctored final exam — 2-hour exam", "Supervised online, with identity verification",
                     "4.5 ECTS credits", "France",
                     "Level 6 of the French national framework of professional certifications"]},
    "fr": {"describe": "Décrire la certification", "add": "Ajouter un acquis", "save_preview": "Enregistrer et voir l'aperçu",
           "gradeo_ok": "toutes les règles sont respectées", "enable": "Activer cette certification",
           "enabled": "Activée", "revoke": "Révoquer", "revoked": "révoquée",
           "learner_view": "Ce que voit l'apprenant", "verifier_view": "Ce que voit un vérificateur", "decimal": "4,5",
           "missing": "Manque encore",
           "shown": ["Sommative : examen final surveillé — 2-hour exam", "Surveillée en ligne, avec vérification d'identité",
                     "4,5 crédits ECTS", "France",
                     "Niveau 6 du cadre national des certifications professionnelles"]},
}


def _setup(services, locale):
    from plugin.issuance.service import create_issuer
    pid = make_platform(services)
    with services.session() as s:
        issuer = create_issuer(s, services, "univ-lille", {
            "legal_name": "Université de Lille", "url": "https://www.univ-lille.fr", "country_code": "FR",
            "quality_assurance": "Hcéres external evaluation",
            # what its European Digital Credential needs: an eIDAS legal identifier and a QA type
            "legal_identifiers": [{"scheme": "SIREN", "value": "130 029 747"}], "qa_type": "institutional-qa"},
            actor="test")
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=pid))
    return launch(services, ["instructor"], platform_id=pid, locale=locale)


def _type(browser, name, value):
    el = browser.find_element(By.NAME, name)
    el.clear()
    el.send_keys(value)


def _choose(browser, name, *values):
    sel = Select(browser.find_element(By.NAME, name))
    for v in values:
        sel.select_by_value(v)


def _button(browser, text):
    click_and_wait(browser, browser.find_element(By.XPATH, f"//button[normalize-space()=\"{text}\"]"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_instructor_from_first_launch_to_enabled_gradeo_credential(browser, live_server, services, screenshot,
                                                                   axe_check, lang):
    t = TEXT[lang]
    lid = _setup(services, lang)
    browser.get(f"{live_server}/instructor/?launch={lid}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    axe_check()
    screenshot("first-launch")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, t["describe"]))

    _type(browser, "title", "Data science with Python")
    _type(browser, "description", "Cleaning, analysing and presenting data.")
    _type(browser, "learning_outcomes-0-text", "Clean a tabular dataset with pandas")
    _type(browser, "learning_outcomes-0-esco_uri", "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d")
    _button(browser, t["add"])  # a server round trip: what was typed stays
    assert browser.find_element(By.NAME, "learning_outcomes-0-text").get_attribute("value") == "Clean a tabular dataset with pandas"
    _type(browser, "learning_outcomes-1-text", "Explain the output of a regression model")
    _type(browser, "workload_hours", "125")
    _type(browser, "ects_credits", t["decimal"])
    _choose(browser, "eqf_level", "6")
    _choose(browser, "qf_ehea_cycle", "first")
    _choose(browser, "nqf_framework", "fr-cncp")  # the level appears once a framework is chosen
    _choose(browser, "nqf_level", "6")
    browser.find_element(By.CSS_SELECTOR, "#field_of_study-options input[data-value='0613']").click()
    for code in ("en", "fr"):  # the searchable picker over the languages' multiple select
        browser.find_element(By.CSS_SELECTOR, f"#languages-options input[data-value={code}]").click()
    _choose(browser, "assessment_kind", "summative-proctored-exam")
    _type(browser, "assessment_details", "2-hour exam")
    _choose(browser, "participation", "online")
    _choose(browser, "supervision", "supervised-online-id")
    _type(browser, "quality_assurance", "Reviewed by the pedagogical board")
    _choose(browser, "stackability", "stand-alone")
    _choose(browser, "issuer", browser.find_element(By.CSS_SELECTOR, "select[name=issuer] option:nth-child(2)").get_attribute("value"))
    _choose(browser, "policy_source", "moodle")
    _choose(browser, "policy_rule", "course_grade")
    _type(browser, "policy_threshold", "70")
    _choose(browser, "policy_issuance", "automatic")
    browser.find_element(By.CSS_SELECTOR, "input[name=labels][value=gradeo]").click()
    axe_check()
    screenshot("definition-form")
    _button(browser, t["save_preview"])

    assert "/instructor/preview" in browser.current_url, browser.page_source[:2000]
    body = browser.find_element(By.TAG_NAME, "body").text
    assert t["learner_view"] in body and t["verifier_view"] in body
    assert t["gradeo_ok"] in body
    for shown in t["shown"]:  # controlled values and numbers in the reader's language
        assert shown in body, shown
    assert t["missing"] not in body
    badge = browser.find_element(By.ID, "preview-badge")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", badge)
    axe_check()
    screenshot("preview")
    _button(browser, t["enable"])
    assert browser.find_element(By.ID, "definition-status").text == t["enabled"]
    axe_check()
    screenshot("enabled")
    with services.session() as s:
        d = s.scalar(select(CredentialDefinition))
        assert d.enabled and d.labels == ["gradeo"]
        data = d.versions[-1].data
        assert data["ects_credits"] == 4.5 and data["languages"] == ["en", "fr"]

    # a learner passes; the instructor revokes the credential with a reason
    from plugin.issuance.service import award
    with services.session() as s:
        learner = Learner(platform_issuer="https://lms.example.edu", sub="l-1", name="Grace Hopper",
                          email="grace@example.edu")
        s.add(learner)
        s.flush()
        award(s, services, definition_id=d.id, learner_id=learner.id, actor="test")
    browser.get(f"{live_server}/instructor/issued?launch={lid}")
    assert "Grace Hopper" in browser.page_source
    axe_check()
    screenshot("issued")
    click_and_wait(browser, browser.find_element(By.PARTIAL_LINK_TEXT, t["revoke"] + "…"))
    _button(browser, t["revoke"])  # the reason is required: nothing is revoked without one
    assert browser.find_element(By.ID, "reason").get_attribute("aria-invalid") == "true"
    axe_check()
    screenshot("revoke-confirm")
    browser.find_element(By.ID, "reason").send_keys("Exam fraud")
    _button(browser, t["revoke"])
    status = browser.find_element(By.CSS_SELECTOR, "td.status").text
    assert t["revoked"] in status and "Exam fraud" in status
    axe_check()
    screenshot("revoked")
    with services.session() as s:
        assert s.scalar(select(IssuedCredential)).status == "revoked"


def test_errors_are_announced_next_to_fields_in_the_browser(browser, live_server, services, screenshot, axe_check):
    lid = _setup(services, "en")
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    _type(browser, "learning_outcomes-0-esco_uri", "https://example.org/not-esco")
    _choose(browser, "policy_source", "gated_launch")
    _button(browser, "Save")
    err = browser.find_element(By.ID, "learning_outcomes-0-esco_uri-error")
    assert "ESCO" in err.text
    field = browser.find_element(By.NAME, "learning_outcomes-0-esco_uri")
    assert field.get_attribute("aria-invalid") == "true"
    assert "learning_outcomes-0-esco_uri-error" in field.get_attribute("aria-describedby")
    assert browser.find_element(By.ID, "policy_gated_ack-error").is_displayed()
    assert browser.find_element(By.ID, "gated-warning").is_displayed()
    axe_check()
    screenshot("errors")
