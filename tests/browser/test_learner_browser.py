"""The learner's and the verifier's whole story in headless Chromium.

A real LTI 1.3 launch from the sandbox platform (on loopback), the claim, every download
(each one verified by the engine and by ``microcred verify``), the public page, and a
tampered upload that must say "not authentic". Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading

import pytest
import requests
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from plugin.delivery.present import ANNEX_I, summarize
from plugin.storage.models import Course, CredentialDefinition, Learner, PassEvidence

from tests.engine_helpers import make_world
from tests.lti.fixtures import register, start_sandbox


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tool_port():
    return _free_port()


@pytest.fixture
def settings(settings, tool_port, monkeypatch):
    """The tool's public base URL is the live server's, so LTI redirects reach it."""
    url = f"http://127.0.0.1:{tool_port}"
    monkeypatch.setenv("MICROCRED_BASE_URL", url)
    settings.base_url = url
    return settings


@pytest.fixture
def live_server(app, tool_port):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", tool_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{tool_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def sandbox_course(services, live_server):
    """The sandbox platform, registered; its course offers an enabled credential; Grace passed."""
    platform, server = start_sandbox(live_server)
    register(services, platform)
    world = make_world(services)
    with services.session() as s:
        course = Course(platform_issuer=platform.issuer, context_id=platform.course["id"],
                        title=platform.course["title"])
        s.add(course)
        s.flush()
        definition = s.get(CredentialDefinition, world.definition_id)
        definition.course_id = course.id
        definition.policy = {"source": "ags", "rule": "course_grade", "threshold": 50, "issuance": "on_claim"}
        learner = Learner(platform_issuer=platform.issuer, sub="sandbox-learner-1", name="Grace Hopper",
                          email="grace@sandbox.invalid")
        s.add(learner)
        s.flush()
        s.add(PassEvidence(definition_id=world.definition_id, learner_id=learner.id, source="ags",
                           dedup_key="browser:grace", passed=True, score=91.0, pass_mark=50.0,
                           details={"score_max": 100, "source_label": "Final exam"}))
    yield platform
    server.close()


def _wait(browser, css, timeout=20):
    return WebDriverWait(browser, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_learner_claims_downloads_shares_and_a_verifier_checks(browser, live_server, sandbox_course, screenshot,
                                                               axe_check, services, tmp_path):
    # 1. The learner launches the tool from the course (real OIDC login + id_token).
    browser.get(f"{sandbox_course.base}/start?user=sandbox-learner-1&link=sandbox-link-1")
    _wait(browser, "#claim-form")
    assert "/learner/" in browser.current_url and "launch=" in browser.current_url
    screenshot("1-ready-to-claim")
    axe_check()

    # 2. Claim: confirm the name, consent, get the credential at once.
    name = browser.find_element(By.ID, "display_name")
    name.clear()
    name.send_keys("Grace Brewster Hopper")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.ID, "claim-submit").click()
    _wait(browser, "#dl-pdf")
    screenshot("2-credential-page")
    axe_check()
    assert "Grace Brewster Hopper" in browser.page_source

    # 3. Every download verifies, with the engine and with `microcred verify`.
    env = dict(os.environ)
    files = {}
    for kind in ("json", "jwt", "png", "svg", "pdf"):
        href = browser.find_element(By.ID, f"dl-{kind}").get_attribute("href")
        resp = requests.get(href, timeout=30)
        assert resp.status_code == 200, (kind, resp.text[:200])
        path = tmp_path / f"credential.{kind}"
        path.write_bytes(resp.content)
        files[kind] = path
    for kind in ("json", "jwt", "png", "svg"):
        run = subprocess.run([sys.executable, "-m", "plugin", "verify", str(files[kind])], env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, (kind, run.stdout, run.stderr)
    doc = json.loads(files["json"].read_text())
    summary = summarize(doc)
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(files["pdf"].read_bytes())).pages)
                        .split())
    for key, label, mandatory in ANNEX_I:
        d = summary.get(key)
        assert label in pdf_text, key
        if mandatory:
            assert d.present, key
        for v in d.values:
            assert " ".join(v.split()) in pdf_text, (key, v)

    # LinkedIn and the wallet.
    linkedin = browser.find_element(By.ID, "linkedin").get_attribute("href")
    assert linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    public_url = browser.find_element(By.ID, "public-link").get_attribute("value")
    browser.find_element(By.ID, "wallet").click()
    _wait(browser, "#wallet-qr")
    screenshot("3-wallet")
    axe_check()
    assert browser.find_element(By.ID, "wallet-link").get_attribute("href").startswith("https://lcw.app/request?")

    # 4. The public verification page, as an employer sees it.
    browser.get(public_url)
    verdict = _wait(browser, "#verdict")
    assert verdict.get_attribute("data-authentic") == "true" and verdict.get_attribute("data-status") == "valid"
    screenshot("4-public-verification")
    axe_check()
    og = browser.find_element(By.CSS_SELECTOR, 'meta[property="og:title"]').get_attribute("content")
    assert summary.title in og

    # 5. A tampered file uploaded by a verifier says "not authentic".
    doc["credentialSubject"]["name"] = "Someone Else"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    browser.get(f"{live_server}/verify")
    _wait(browser, "#file")
    axe_check()
    browser.find_element(By.ID, "file").send_keys(str(tampered))
    browser.find_element(By.ID, "verify-submit").click()
    verdict = _wait(browser, "#verdict")
    assert verdict.get_attribute("data-authentic") == "false"
    assert "Not authentic" in verdict.text
    screenshot("5-tampered-upload")
    axe_check()
    run = subprocess.run([sys.executable, "-m", "plugin", "verify", str(tampered)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0

    # 6. The issuer's page: identity, keys, status lists.
    browser.get(f"{live_server}/issuers/acme/about")
    _wait(browser, "#keys-h")
    assert "Ed25519" in browser.page_source and "/status/" in browser.page_source
    screenshot("6-issuer")
    axe_check()


def test_french_pages_and_not_passed_reason(browser, live_server, sandbox_course, screenshot, axe_check, services):
    with services.session() as s:
        for ev in s.scalars(select(PassEvidence)):
            if ev.dedup_key == "browser:grace":
                ev.passed = False
                ev.score = 41.0
    browser.get(f"{sandbox_course.base}/start?user=sandbox-learner-1&link=sandbox-link-1")
    try:
        section = _wait(browser, "section.card")
    except Exception:
        raise AssertionError(browser.current_url + browser.page_source[:3000])
    assert section.get_attribute("data-state") == "not_passed"
    browser.get(browser.current_url + "&lang=fr")
    _wait(browser, "section.card")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    screenshot("not-passed-fr")
    axe_check()
