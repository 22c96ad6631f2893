"""An administrator, in a real browser: sign in, register a platform, create an issuer, rotate its keys, read the audit log."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import select

from tests.browser.conftest import click_and_wait

from plugin.cli.admin import create_admin
from plugin.storage.models import Issuer, Platform


def _fill(browser, **fields):
    for name, value in fields.items():
        el = browser.find_element(By.NAME, name)
        if el.tag_name == "select":
            from selenium.webdriver.support.select import Select
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)


def _submit(browser, text):
    click_and_wait(browser, browser.find_element(By.XPATH, f"//button[normalize-space()='{text}']"))


def test_admin_signs_in_and_registers_a_platform(browser, live_server, services, screenshot, axe_check):
    create_admin(services, "root", "a very long password")
    browser.get(live_server + "/admin/login")
    axe_check()
    screenshot("login")
    _fill(browser, username="root", password="a very long password")
    _submit(browser, "Sign in")
    assert browser.current_url.endswith("/admin/")
    axe_check()
    screenshot("home")
    browser.get(live_server + "/admin/platforms/new")
    _fill(browser, name="Faculty Moodle", product="moodle", issuer="https://moodle.example.edu",
          client_id="abc123", auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
          auth_token_url="https://moodle.example.edu/mod/lti/token.php",
          key_set_url="https://moodle.example.edu/mod/lti/certs.php", deployment_ids="3")
    axe_check()
    screenshot("platform-new")
    _submit(browser, "Register")
    assert "Platform registered." in browser.page_source
    axe_check()
    screenshot("platform-edit")
    with services.session() as s:
        assert s.scalar(select(Platform)).client_id == "abc123"
    browser.get(live_server + "/admin/issuers/new")
    _fill(browser, name="Université de Lille", slug="univ-lille", url="https://www.univ-lille.fr",
          country="FR", quality_assurance="Hcéres external evaluation")
    browser.find_element(By.CSS_SELECTOR, "input[name=platforms]").click()
    axe_check()
    screenshot("issuer-new")
    _submit(browser, "Save the issuer")
    assert "Issuer saved." in browser.page_source
    with services.session() as s:
        assert s.scalar(select(Issuer)).name == "Université de Lille"
    # the keys page shows the did:web document verifiers read; rotating keeps the old keys in it
    assert "verificationMethod" in browser.page_source
    axe_check()
    screenshot("issuer-keys")
    _submit(browser, "Rotate the keys")
    assert "Credentials signed with the previous keys still verify" in browser.page_source
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.key-row")) == 4
    assert browser.page_source.count("still resolvable") == 2
    screenshot("issuer-keys-rotated")
    browser.get(live_server + "/admin/audit")
    assert all(a in browser.page_source for a in ("platform.registered", "issuer.create", "issuer.keys.rotate"))
    axe_check()
    screenshot("audit")


def test_platform_administrator_in_french_creates_an_issuer_and_rotates_its_keys(browser, live_server, services,
                                                                                   screenshot, axe_check):
    """An LTI administrator launch (no local account), in French, scoped to its own platform."""
    from tests.web.helpers import launch, make_platform
    pid = make_platform(services, name="Moodle de la faculté")
    lid = launch(services, ["admin"], platform_id=pid, locale="fr")
    browser.get(f"{live_server}/admin/?launch={lid}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert "Vous administrez la plateforme" in browser.page_source
    axe_check()
    screenshot("fr-home")
    browser.get(f"{live_server}/admin/issuers/new?launch={lid}")
    _fill(browser, name="Université de Lille", slug="univ-lille", url="https://www.univ-lille.fr",
          country="FR", region="Hauts-de-France", legal_identifiers="SIREN: 130 029 747",
          quality_assurance="Évaluation externe Hcéres")
    axe_check()
    screenshot("fr-issuer-new")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[type=submit]"))
    assert "Organisme enregistré." in browser.page_source
    _submit(browser, "Renouveler les clés")
    assert "restent vérifiables" in browser.page_source
    assert browser.page_source.count("toujours consultable") == 2
    axe_check()
    screenshot("fr-issuer-keys-rotated")
    with services.session() as s:
        from plugin.storage.models import IssuerPlatform
        issuer = s.scalar(select(Issuer))
        assert issuer.profile["legal_identifiers"][0] == {"scheme": "SIREN", "value": "130 029 747", "label": ""}
        assert [r.platform_id for r in s.scalars(select(IssuerPlatform))] == [pid]
