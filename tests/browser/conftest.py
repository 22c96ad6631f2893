"""Shared browser fixtures: the app on a real socket, headless Chromium, screenshots, axe-core.

Fixtures other test folders reuse (keep the names):

* ``live_server``: base URL (``http://127.0.0.1:<port>``) of the app of the test's ``app``
  fixture, served by werkzeug in a thread; the test can still use ``services`` to prepare data.
* ``browser``: a Selenium Chrome driver (Debian's chromium + chromedriver, headless, fresh profile).
* ``screenshot(name)``: saves ``test-artifacts/screenshots/<test>-<name>.png``.
* ``axe_check(context=None)``: runs axe-core on the current page and fails on serious or
  critical violations (returns the full result).
* ``axe_core(context=None)``: the current axe-core from tests/js (npm), failing on any violation.

Tests here are marked ``browser``; they skip when chromium/chromedriver are absent,
except in CI (``MICROCRED_REQUIRE_BROWSER=1``) where a missing browser fails.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = os.environ.get("MICROCRED_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MICROCRED_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--window-size=1280,1600"]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    """Browser tests run on SQLite only: they test pages, the DB layer is covered elsewhere."""
    yield f"sqlite:///{tmp_path / 'browser.sqlite3'}"


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


@pytest.fixture(scope="session")
def _chromium():
    if not _browser_available():
        if os.environ.get("MICROCRED_REQUIRE_BROWSER") == "1":
            pytest.fail(f"MICROCRED_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing")
        pytest.skip(f"headless Chromium not installed ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="microcred-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS + [f"--user-data-dir={profile}"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(_chromium):
    """One Chromium for the session, with its cookies and storage cleared for each test."""
    _chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every site's (the language choice too)
    _chromium.delete_all_cookies()
    yield _chromium
    try:
        _chromium.get("about:blank")
        _chromium.delete_all_cookies()
    except Exception:
        pass


@pytest.fixture
def screenshot(browser, request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{test}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        # full-page: grow the window to the document's height before the shot
        height = browser.execute_script("return Math.max(document.body.scrollHeight, 800)")
        browser.set_window_size(1280, min(int(height) + 100, 8000))
        browser.save_screenshot(str(path))
        return path
    return take


NPM_AXE = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"


def _axe_source() -> str:
    """axe-core from npm (pinned in tests/js/package.json, installed with the JS verifiers) when it is
    there; otherwise the older axe-core 3.1 that axe-selenium-python bundles."""
    if NPM_AXE.is_file():
        return NPM_AXE.read_text(encoding="utf-8")
    import axe_selenium_python
    path = Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
    return path.read_text(encoding="utf-8")


def run_axe(browser, source: str, context=None) -> dict:
    """Inject axe-core (``source``) into the page and return its violations (``context``: an element)."""
    browser.execute_script(source)
    browser.set_script_timeout(30)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(arguments[0] || document, {resultTypes: ['violations']})"
        ".then(r => done(r)).catch(e => done({error: String(e)}));", context)
    assert "error" not in result, result
    return result


@pytest.fixture
def axe_check(browser):
    source = _axe_source()

    def check(context=None, impacts=("serious", "critical")):
        result = run_axe(browser, source, context)
        bad = [v for v in result["violations"] if v.get("impact") in impacts]
        assert not bad, "axe-core found: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)
        return result
    return check


@pytest.fixture
def axe_core(browser, axe_check):
    """Like ``axe_check`` with the current axe-core (npm, pinned in tests/js/package.json, read from
    its node_modules file) and failing on violations of every impact (minor ones too).
    Without ``npm ci`` in tests/js it falls back to ``axe_check`` (so the test around it still runs),
    except under ``MICROCRED_REQUIRE_JS=1`` (CI), where the missing file fails."""
    if not NPM_AXE.is_file():
        if os.environ.get("MICROCRED_REQUIRE_JS") == "1":
            pytest.fail(f"MICROCRED_REQUIRE_JS=1 but {NPM_AXE} is missing (cd tests/js && npm ci)")
        return axe_check
    source = NPM_AXE.read_text(encoding="utf-8")

    def check(context=None):
        result = run_axe(browser, source, context)
        assert not result["violations"], "axe-core " + browser.execute_script("return axe.version") + " found: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"])
        return result
    return check


def click_and_wait(browser, element, timeout=15):
    """Click something that loads a new page, and wait until the new page replaced the old one."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import WebDriverException
    old = browser.find_element("tag name", "html")
    element.click()

    def replaced(driver):
        try:
            return EC.staleness_of(old)(driver)
        except WebDriverException:  # the old node vanished mid-check ("does not belong to the document")
            return True
    WebDriverWait(browser, timeout).until(replaced)
    WebDriverWait(browser, timeout).until(lambda b: b.execute_script("return document.readyState") == "complete")


WIDTHS = (390, 1280)


def shoot_at(browser, name: str, width: int) -> None:
    """A full-page screenshot ``name-width.png`` at ``width`` px; fails when the page scrolls
    sideways, naming the first elements that stick out."""
    browser.set_window_size(width, 900)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    height = browser.execute_script("return Math.max(document.body.scrollHeight, 800)")
    browser.set_window_size(width, min(int(height) + 100, 8000))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    if overflow > 0:
        wide = browser.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)")
        raise AssertionError(f"{name} overflows horizontally by {overflow}px at {width}px: {wide}")


def each_view(browser, axe_check, url: str, name: str) -> None:
    """The page at ``url`` in English and French: axe finds no serious violation, and it neither
    overflows at 390 nor at 1280 px (screenshots ``name-<lang>-<width>.png``)."""
    for lang in ("en", "fr"):
        browser.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        axe_check()
        for width in WIDTHS:
            shoot_at(browser, f"{name}-{lang}", width)
