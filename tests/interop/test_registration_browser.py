"""Dynamic Registration in a real browser: Moodle frames the tool's page, Done closes it."""
from __future__ import annotations

import pytest

from tests.interop.harness import ToolServer
from tests.interop.moodle_platform import MoodleSite

pytestmark = pytest.mark.browser


@pytest.fixture
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    try:
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    except Exception as exc:  # pragma: no cover - .ci/run installs chromium and chromium-driver
        pytest.skip(f"headless Chromium unavailable: {exc}")
    yield browser
    browser.quit()


def test_the_done_button_tells_moodle_to_close_the_registration_frame(tmp_path, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    moodle = MoodleSite().start()
    tool = ToolServer(f"sqlite:///{tmp_path / 'tool.sqlite3'}", tmp_path / "instance")
    try:
        driver.get(f"{moodle.wwwroot}/mod/lti/toolconfigure.php?url={tool.url('/lti/register')}")
        WebDriverWait(driver, 20).until(ec.frame_to_be_available_and_switch_to_it((By.ID, "registration")))
        done = WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.ID, "registration-close")))
        assert "microcred is registered with moodle" in driver.page_source
        done.click()
        driver.switch_to.default_content()
        WebDriverWait(driver, 10).until(
            ec.text_to_be_present_in_element((By.ID, "status"), f"closed by {tool.base_url}"))
        assert not driver.find_elements(By.ID, "registration")
        assert len(moodle.types) == 1
    finally:
        tool.stop()
        moodle.stop()
