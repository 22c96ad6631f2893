"""The live preview: the unsaved form previewed (badge, learner and verifier views, label profiles),
nothing saved; a half-typed form still previews what is valid and lists what is not."""
from __future__ import annotations

from lxml import html as lxml_html
from sqlalchemy import func, select

from plugin.issuance.demo_data import demo_definition
from plugin.storage.models import DefinitionVersion
from tests.web.instructor.test_forms import _store, browser_submission, setup  # noqa: F401  (fixture)


def _live(client, lid, changes):
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    data = browser_submission(page)
    for key, value in changes.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return client.post(f"/instructor/preview/live?launch={lid}", data=data)


def test_live_preview_shows_the_unsaved_form_and_what_gradeo_still_requires(client, services, setup):  # noqa: F811
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    resp = _live(client, lid, {"title": "Open data for city councils", "eqf_level": "3"})
    assert resp.status_code == 200
    doc = lxml_html.fromstring(resp.get_data(as_text=True))
    learner = doc.find_class("learner-view")[0].text_content()
    assert "Open data for city councils" in learner and "EQF level 3" in learner
    assert doc.get_element_by_id("preview-badge").get("src").startswith("data:image/svg+xml;base64,")
    gradeo = doc.xpath("//*[@data-label='gradeo']")[0]
    assert [li.get("data-rule") for li in gradeo.iter("li")] == ["eqf-level"]
    assert '"name": "Open data for city councils"' in doc.get_element_by_id("preview-json").text_content()
    with services.session() as s:  # nothing saved
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == 1


def test_a_half_typed_form_previews_what_is_valid_and_lists_the_rest(client, services, setup):  # noqa: F811
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    resp = _live(client, lid, {"ects_credits": "five", "learning_outcomes-0-esco_uri": "https://example.org/x"})
    assert resp.status_code == 200
    doc = lxml_html.fromstring(resp.get_data(as_text=True))
    errors = [a.get("href") for a in doc.get_element_by_id("live-errors-title").getparent().iter("a")]
    assert errors == ["#learning_outcomes-0-esco_uri", "#ects_credits"]  # in the page's order
    learner = doc.find_class("learner-view")[0].text_content()
    assert "Data Analysis for Public Policy" in learner
    # only the bad outcome row is left out of the preview; nothing valid is reported missing
    assert "Write a short, evidence-based policy brief." in learner
    assert "Clean and combine open public datasets" not in learner
    assert not doc.xpath("//*[@id='live-missing-title']")


def test_live_preview_needs_the_form_token(client, services, setup):  # noqa: F811
    lid, _issuer_id = setup
    resp = client.post(f"/instructor/preview/live?launch={lid}", data={"title": "x", "launch": lid})
    assert resp.status_code == 400
