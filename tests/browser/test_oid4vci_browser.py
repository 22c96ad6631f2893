"""'Add to an EU wallet' in headless Chromium: the offer page at 390 and 1280 px in English
and French (no horizontal scroll, nothing untranslated, no axe violation), and its state
turning to 'received' on its own when a wallet (tests/delivery/oid4vci_wallet.py) takes the
credential through the page's link."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from plugin.delivery.access import make_access_token
from plugin.issuance import service as issuance
from plugin.storage.models import Learner

from tests.browser.test_pages_browser import VISIBLE_TEXT, _english_msgids, _shot, _viewport
from tests.delivery.oid4vci_wallet import Wallet
from tests.engine_helpers import make_world
# the tool's public address is the live server's (the wallet reaches it there)
from tests.browser.test_learner_browser import live_server, settings, tool_port  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def credential_page(services, live_server):
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Éloïse Lefèvre-Œuvray", actor="test")
        public_id = row.public_id
        learner = s.get(Learner, world.learner_id).public_id
        s.commit()
    return f"{live_server}/learner/credentials/{public_id}?access={make_access_token(services.settings.secret_key, learner)}"


def test_the_offer_page_in_both_languages_then_received(browser, credential_page, request, axe_check):
    english = _english_msgids()
    problems = []
    for lang in ("en", "fr"):
        for width in (390, 1280):
            _viewport(browser, width)
            browser.get(f"{credential_page}&lang={lang}")
            # the kind of wallet is a detail behind the plain-words default
            assert not browser.find_element(By.ID, "eu-format-ldp").is_displayed()
            browser.find_element(By.ID, "eu-wallet-kind-summary").click()
            browser.find_element(By.ID, "eu-format-ldp").click()
            browser.find_element(By.ID, "eu-tx-code").click()
            browser.find_element(By.ID, "eu-wallet").click()
            WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "eu-wallet-qr"))
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            if browser.execute_script("return document.documentElement.scrollWidth - "
                                      "document.documentElement.clientWidth") > 0:
                problems.append(f"{lang} {width}px: horizontal scroll")
            for v in axe_check(impacts=())["violations"]:
                problems.append(f"{lang} {width}px: axe {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}")
            if lang == "fr":
                problems += [f"fr {width}px: untranslated “{t}”" for t in browser.execute_script(VISIBLE_TEXT)
                             if any(p.match(t) for p in english)]
            _shot(browser, request, f"eu-wallet-{lang}-{width}", width)
    assert not problems, "\n".join(problems)
    # A wallet takes the credential through the page's link; the page says so without a reload.
    _viewport(browser, 390)
    browser.get(f"{credential_page}&lang=en")
    browser.find_element(By.ID, "eu-wallet-kind-summary").click()
    browser.find_element(By.ID, "eu-format-ldp").click()
    browser.find_element(By.ID, "eu-wallet").click()
    state = WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "eu-wallet-state"))
    assert state.text == "Waiting for your wallet…"
    link = browser.find_element(By.ID, "eu-wallet-link").get_attribute("href")
    wallet = Wallet(binding="did:key")
    assert wallet.receive(link)["credentialSubject"]["id"] == wallet.did
    WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.ID, "eu-wallet-state").text == "Received by your wallet.")
