"""The definition form in a real browser: what is stored comes back, a save that changes
nothing creates no version."""
from __future__ import annotations

import pytest
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


def _no_horizontal_overflow(browser):
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_errors_are_summarised_at_the_top_linked_focused_and_marked_on_each_field(
        browser, live_server, services, axe_core, screenshot):
    lid = demo_course(services)
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    long_title = "T" * 300  # typed or pasted: nothing cuts it, the counter says it is too long
    title = browser.find_element(By.NAME, "title")
    title.clear()
    browser.execute_script("arguments[0].value = arguments[1];"
                           "arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", title, long_title)
    assert title.get_attribute("value") == long_title
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 5).until(lambda b: "too many" in b.find_element(By.ID, "title-count").text)
    esco = browser.find_element(By.NAME, "learning_outcomes-0-esco_uri")
    esco.send_keys("https://example.org/not-esco")
    click_and_wait(browser, browser.find_element(By.ID, "save"))

    summary = browser.find_element(By.ID, "error-summary")
    assert browser.switch_to.active_element == summary  # focus moved to the summary
    links = {a.get_attribute("href").rpartition("#")[2]: a for a in summary.find_elements(By.TAG_NAME, "a")}
    assert set(links) == {"title", "learning_outcomes-0-esco_uri"}, list(links)
    assert "300" in links["title"].text and "255" in links["title"].text
    for target in links:
        field = browser.find_element(By.ID, target)
        assert field.get_attribute("aria-invalid") == "true"
        assert f"{target}-error" in field.get_attribute("aria-describedby")
        assert browser.find_element(By.ID, f"{target}-error").is_displayed()
    assert browser.find_element(By.ID, "title").get_attribute("value") == long_title  # what was typed stays
    links["learning_outcomes-0-esco_uri"].click()
    assert browser.switch_to.active_element.get_attribute("id") == "learning_outcomes-0-esco_uri"
    axe_core()
    screenshot("errors")
    n, version, _data, _policy = _versions(services)
    assert (n, version) == (1, 1)  # nothing saved


def test_fields_show_only_when_they_apply(browser, live_server, services):
    from selenium.webdriver.support.select import Select
    lid = demo_course(services)
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    warning, assessment = browser.find_element(By.ID, "gated-warning"), browser.find_element(By.ID, "policy_assessment")
    threshold, pass_text = browser.find_element(By.ID, "policy_threshold"), browser.find_element(By.ID, "pass_mark")
    # the demo: Open edX webhook, course grade of at least 50 %: one pass mark, in percent
    assert not warning.is_displayed() and not assessment.is_displayed() and not pass_text.is_displayed()
    assert threshold.is_displayed() and threshold.get_attribute("inputmode") == "decimal"
    assert browser.find_element(By.ID, "workload_hours").get_attribute("inputmode") == "decimal"
    Select(browser.find_element(By.ID, "policy_source")).select_by_value("moodle")
    Select(browser.find_element(By.ID, "policy_rule")).select_by_value("assessment_grade")
    assert assessment.is_displayed() and threshold.is_displayed()
    Select(browser.find_element(By.ID, "policy_source")).select_by_value("gated_launch")
    # a gated launch can only say "passed the course": the other rules are off, the warning shows
    assert warning.is_displayed()
    assert Select(browser.find_element(By.ID, "policy_rule")).first_selected_option.get_attribute("value") == "course_passed"
    assert not assessment.is_displayed() and not threshold.is_displayed() and pass_text.is_displayed()


def test_language_picker_searches_and_keeps_the_choice(browser, live_server, services, axe_core):
    lid = demo_course(services, "fr")
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    chosen = browser.find_element(By.ID, "languages-chosen")
    assert [b.text for b in chosen.find_elements(By.TAG_NAME, "button")] == ["Anglais ×", "Français ×"]
    search = browser.find_element(By.ID, "languages-search")
    search.send_keys("japo")
    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, "#languages-options .choice") if e.is_displayed()]
    assert [e.text for e in visible] == ["Japonais"]
    visible[0].find_element(By.TAG_NAME, "input").click()
    chosen.find_element(By.XPATH, ".//button[starts-with(., 'Anglais')]").click()  # removed
    assert [b.text for b in chosen.find_elements(By.TAG_NAME, "button")] == ["Français ×", "Japonais ×"]
    # the field of study: 220 ISCED-F fields, searched by name or code
    assert browser.find_element(By.ID, "field_of_study-chosen").text == "0542 Statistiques"
    browser.find_element(By.ID, "field_of_study-search").send_keys("mathema")
    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, "#field_of_study-options .choice") if e.is_displayed()]
    texts = [e.text for e in visible]
    assert "0541 Mathématiques" in texts and "054 Mathématiques et statistiques" in texts
    assert all("athématiques" in t for t in texts) and len(texts) < 15, texts  # accents do not matter
    browser.find_element(By.CSS_SELECTOR, "#field_of_study-options input[data-value='0541']").click()
    assert browser.find_element(By.ID, "field_of_study-chosen").text == "0541 Mathématiques"
    axe_core()
    click_and_wait(browser, browser.find_element(By.ID, "save"))
    _n, _version, data, _policy = _versions(services)
    assert data["languages"] == ["fr", "ja"]
    assert (data["field_of_study"], data["field_of_study_label"]) == ("0541", "Mathematics")


def test_long_unbroken_text_wraps_and_nothing_overflows_at_390_px(browser, live_server, services, screenshot):
    lid = demo_course(services)
    browser.set_window_size(390, 900)
    try:
        browser.get(f"{live_server}/instructor/definition?launch={lid}")
        assert _no_horizontal_overflow(browser)
        for name, length in (("description", 4400), ("stackable_towards", 990), ("title", 250)):
            word = ("Statistique" * 400)[:length]  # without a space
            browser.execute_script("document.getElementsByName(arguments[0])[0].value = arguments[1]", name, word)
        click_and_wait(browser, browser.find_element(By.ID, "save-preview"))
        assert "/instructor/preview" in browser.current_url, browser.find_element(By.ID, "error-summary").text
        assert _no_horizontal_overflow(browser), browser.execute_script("return document.documentElement.scrollWidth")
        browser.get(f"{live_server}/instructor/definition?launch={lid}")
        assert _no_horizontal_overflow(browser)
        browser.get(f"{live_server}/instructor/preview?launch={lid}")
        screenshot("preview-long-text")
    finally:
        browser.set_window_size(1280, 1600)


def test_live_preview_follows_the_typing_without_saving(browser, live_server, services, axe_core, screenshot):
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait
    lid = demo_course(services)
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    live = browser.find_element(By.ID, "live-preview")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda b: "Data Analysis for Public Policy" in live.text)
    gradeo = lambda: live.find_element(By.CSS_SELECTOR, "[data-label=gradeo]")  # noqa: E731
    assert "every rule is met" in gradeo().text
    badge = live.find_element(By.ID, "preview-badge").get_attribute("src")

    title = browser.find_element(By.ID, "title")
    title.clear()
    title.send_keys("Open data for city councils")
    wait.until(lambda b: "Open data for city councils" in live.find_element(By.CLASS_NAME, "learner-view").text)
    assert live.find_element(By.ID, "preview-badge").get_attribute("src") != badge  # the badge is redrawn
    Select(browser.find_element(By.ID, "eqf_level")).select_by_value("3")
    # what GRADEO still requires, while typing
    wait.until(lambda b: "EQF 6 or 7" in gradeo().text)
    assert "EQF level 3" in live.find_element(By.CLASS_NAME, "learner-view").text
    assert "What a verifier sees" in live.text and '"name": "Open data for city councils"' in \
        browser.execute_script("return document.getElementById('preview-json').textContent")
    axe_core()
    screenshot("live-preview")
    n, version, data, _policy = _versions(services)
    assert (n, version, data["title"]) == (1, 1, "Data Analysis for Public Policy")  # nothing saved


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_form_screenshots_at_390_and_1280_px_without_horizontal_overflow(browser, live_server, services, lang):
    """The form, its error summary and its live preview, on a phone and a laptop (PNGs to look at)."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.conftest import SCREENSHOTS
    lid = demo_course(services, lang)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    heights = {}
    try:
        for width in (390, 1280):
            browser.set_window_size(width, 900)
            browser.get(f"{live_server}/instructor/definition?launch={lid}")
            WebDriverWait(browser, 15).until(
                lambda b: b.find_element(By.ID, "live-preview").get_attribute("data-updated"))
            assert _no_horizontal_overflow(browser), (width, browser.execute_script(
                "return document.documentElement.scrollWidth"))
            heights[width] = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(width, min(heights[width] + 100, 16000))
            browser.save_screenshot(str(SCREENSHOTS / f"definition-form-{lang}-{width}.png"))
    finally:
        browser.set_window_size(1280, 1600)
    print(f"definition form height ({lang}): {heights}")


@pytest.mark.parametrize("lang, words", [
    ("en", ("Written examination", "Level 6 of the French national framework of professional certifications")),
    ("fr", ("Examen écrit", "Niveau 6 du cadre national des certifications professionnelles")),
])
def test_the_national_level_shows_once_a_framework_is_chosen_and_both_reach_the_preview_and_the_save(
        browser, live_server, services, axe_core, lang, words):
    """The EU assessment type and the national framework level, chosen in the page, in the live preview
    and saved; screenshots of the form at 390 and 1280 px (test-artifacts/screenshots/definition-nqf-*)."""
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.conftest import SCREENSHOTS
    lid = demo_course(services, lang)
    browser.set_window_size(1280, 1600)
    browser.get(f"{live_server}/instructor/definition?launch={lid}")
    wait = WebDriverWait(browser, 15)
    live = browser.find_element(By.ID, "live-preview")
    wait.until(lambda b: live.get_attribute("data-updated"))
    level = browser.find_element(By.ID, "nqf_level")
    assert not level.is_displayed()  # no framework chosen: no level to choose
    Select(browser.find_element(By.ID, "nqf_framework")).select_by_value("fr-cncp")
    wait.until(lambda b: level.is_displayed())
    Select(level).select_by_value("6")
    Select(browser.find_element(By.ID, "assessment_kind")).select_by_value(
        "http://data.europa.eu/snb/assessment/6e6cb2cc78")
    details = browser.find_element(By.ID, "assessment_details")
    details.clear()
    details.send_keys("2 h")
    learner_view = lambda: live.find_element(By.CLASS_NAME, "learner-view").text  # noqa: E731
    wait.until(lambda b: words[1] in learner_view())
    assert f"{words[0]} — 2 h" in learner_view()
    axe_core()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for width in (390, 1280):
            browser.set_window_size(width, 900)
            browser.execute_script("document.getElementById('nqf_framework').scrollIntoView()")
            assert _no_horizontal_overflow(browser), width
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(width, min(height + 100, 16000))
            browser.save_screenshot(str(SCREENSHOTS / f"definition-nqf-{lang}-{width}.png"))
    finally:
        browser.set_window_size(1280, 1600)
    click_and_wait(browser, browser.find_element(By.ID, "save"))
    _n, _version, data, _policy = _versions(services)
    assert (data["nqf_framework"], data["nqf_level"], data["assessment_type"]) == (
        "fr-cncp", 6, "Written examination — 2 h")
