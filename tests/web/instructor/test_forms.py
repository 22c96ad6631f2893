"""The definition form gives back what is stored: every value of every controlled vocabulary goes
through the page (what a browser would submit from it) and comes back unchanged, in one version."""
from __future__ import annotations

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from plugin.issuance.demo_data import demo_definition
from plugin.storage.models import Course, CredentialDefinition
from plugin.web.instructor.forms import ASSESSMENT_TYPES, DETAILS_SEPARATOR, isced_fields
from tests.web.helpers import launch, make_platform
from tests.web.instructor.test_instructor import make_issuer


def browser_submission(page: str):
    """The fields a browser sends when the form is submitted with its "Save" button."""
    from werkzeug.datastructures import MultiDict
    form = lxml_html.fromstring(page).get_element_by_id("definition-form")
    return MultiDict(list(form.form_values()) + [("action", "save")])


@pytest.fixture
def setup(services):
    pid = make_platform(services)
    issuer_id = make_issuer(services, pid)
    lid = launch(services, ["instructor"], platform_id=pid)
    return lid, issuer_id


def _store(services, issuer_id, data):
    from plugin.issuance.service import save_definition
    from plugin.storage.models import Issuer
    with services.session() as s:
        definition = s.scalar(select(CredentialDefinition))
        save_definition(s, s.scalar(select(Course)), data, "test", s.get(Issuer, issuer_id), definition=definition,
                        policy={"source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"})
        definition = s.scalar(select(CredentialDefinition))
        return definition.current_version


def _round_trip(client, services, lid):
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/instructor/definition?launch={lid}", data=browser_submission(page))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with services.session() as s:
        definition = s.scalar(select(CredentialDefinition))
        version = definition.versions[-1]
        return definition.current_version, version.data


def _cases():
    base = demo_definition()
    yield "demo", base
    for f in isced_fields():
        yield f"isced-{f['code']}", base.model_copy(update={"field_of_study": f["code"], "field_of_study_label": f["en"]})
    yield "isced-unknown", base.model_copy(update={"field_of_study": "0543", "field_of_study_label": "Data science"})
    yield "isced-none", base.model_copy(update={"field_of_study": None, "field_of_study_label": ""})
    from plugin.domain import vocab
    yield "every-language", base.model_copy(update={"languages": list(vocab.LANGUAGES)})
    yield "no-language", base.model_copy(update={"languages": []})
    for key, (english, _label) in ASSESSMENT_TYPES.items():
        yield f"assessment-{key}", base.model_copy(update={"assessment_type": english})
        yield f"assessment-{key}-details", base.model_copy(
            update={"assessment_type": english + DETAILS_SEPARATOR + "2-hour exam, 40 questions"})
    yield "assessment-free-text", base.model_copy(update={"assessment_type": "Oral defence before a jury"})
    from plugin.domain import assessment_methods, nqf
    for uri, m in assessment_methods.methods().items():  # the EU list, with and without details
        yield f"assessment-eu-{uri}", base.model_copy(update={"assessment_type": m["en"]})
        yield f"assessment-eu-{uri}-details", base.model_copy(
            update={"assessment_type": m["en"] + DETAILS_SEPARATOR + "2-hour exam, 40 questions"})
    for key, framework in nqf.frameworks().items():
        for n in framework.levels:
            yield f"nqf-{key}-{n}", base.model_copy(update={"nqf_framework": key, "nqf_level": n})
    for level in range(1, 9):
        yield f"eqf-{level}", base.model_copy(update={"eqf_level": level})
    yield "eqf-na", base.model_copy(update={"eqf_level": None, "eqf_not_applicable": True})
    for cycle in (None, *vocab.QF_EHEA_CYCLES):
        yield f"cycle-{cycle}", base.model_copy(update={"qf_ehea_cycle": cycle})
    for key in vocab.PARTICIPATION:
        yield f"participation-{key}", base.model_copy(update={"participation": key})
    for key in (None, *vocab.SUPERVISION):
        yield f"supervision-{key}", base.model_copy(update={"supervision": key})
    for key in (None, *vocab.STACKABILITY):
        yield f"stackability-{key}", base.model_copy(update={"stackability": key})
    yield "decimals", base.model_copy(update={"workload_hours": 112.5, "ects_credits": 4.5, "validity_months": 24})


# ~270 page round trips: on SQLite only (what is tested is the form; the demo case below runs on both)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_vocabulary_value_round_trips_through_the_form_without_a_new_version(client, services, setup):
    lid, issuer_id = setup
    lost = []
    for name, data in _cases():
        stored_version = _store(services, issuer_id, data)
        version, saved = _round_trip(client, services, lid)
        if version != stored_version or saved != data.to_json():
            lost.append((name, {k: (v, saved.get(k)) for k, v in data.to_json().items() if saved.get(k) != v}))
    assert not lost, lost


def test_the_demo_definition_round_trips_through_the_french_page(client, services, setup):
    _lid, issuer_id = setup
    lid = launch(services, ["instructor"], locale="fr")
    data = demo_definition().model_copy(update={"workload_hours": 112.5, "ects_credits": 4.5})
    stored_version = _store(services, issuer_id, data)
    version, saved = _round_trip(client, services, lid)
    assert (version, saved) == (stored_version, data.to_json())


def test_an_enabled_credential_saved_without_its_title_marks_the_title_field(client, services, setup):
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    with services.session() as s:
        s.scalar(select(CredentialDefinition)).enabled = True
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    data = browser_submission(page)
    data["title"] = ""
    resp = client.post(f"/instructor/definition?launch={lid}", data=data)
    assert resp.status_code == 400
    doc = lxml_html.fromstring(resp.get_data(as_text=True))
    title = doc.get_element_by_id("title")
    assert title.get("aria-invalid") == "true" and "title-error" in title.get("aria-describedby")
    assert "Title" in doc.get_element_by_id("title-error").text_content()
    assert [a.get("href") for a in doc.get_element_by_id("error-summary").iter("a")] == ["#title"]


def test_text_longer_than_allowed_is_refused_with_its_length_not_cut(client, services, setup):
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    assert "maxlength" not in page  # browsers silently cut pasted text at it
    data = browser_submission(page)
    data["description"] = "x" * 6000
    resp = client.post(f"/instructor/definition?launch={lid}", data=data)
    assert resp.status_code == 400
    error = lxml_html.fromstring(resp.get_data(as_text=True)).get_element_by_id("description-error").text_content()
    assert "5000" in error and "6000" in error and "1000 too many" in error
    textarea = lxml_html.fromstring(resp.get_data(as_text=True)).get_element_by_id("description")
    assert len(textarea.text_content().strip()) == 6000  # what was typed is still there to shorten


def test_without_scripts_every_field_shows_and_languages_are_a_plain_multiple_select(client, services, setup):
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    doc = lxml_html.fromstring(client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True))
    conditional = doc.xpath("//*[@data-show-if]")
    assert len(conditional) == 6 and not [e for e in conditional if e.get("hidden") is not None]
    languages = doc.get_element_by_id("languages")
    assert languages.tag == "select" and languages.get("multiple") is not None
    assert [o.get("value") for o in languages.iter("option") if o.get("selected") is not None] == ["en", "fr"]
    assert len(languages.findall("option")) == 183
    assert doc.get_element_by_id("save-preview").get("value") == "preview"  # the preview without the live one


# ---------------------------------------------------------------- national framework level, EU assessment types
def test_the_french_page_offers_the_national_levels_and_the_eu_assessment_types_in_french(client, services, setup):
    _lid, issuer_id = setup
    lid = launch(services, ["instructor"], locale="fr")
    _store(services, issuer_id, demo_definition())
    doc = lxml_html.fromstring(client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True))
    framework = doc.get_element_by_id("nqf_framework")
    assert [(o.get("value"), o.text_content()) for o in framework.iter("option")] == [
        ("", "Aucun"), ("fr-cncp", "Cadre national des certifications professionnelles")]
    levels = {o.get("value"): o.text_content() for o in doc.get_element_by_id("nqf_level").iter("option")}
    assert levels["6"] == "Niveau 6 — p. ex. licence, BUT (bac + 3) — Niveau CEC 6"
    assert len(levels) == 9
    kinds = {o.get("value"): o.text_content() for o in doc.get_element_by_id("assessment_kind").iter("option")}
    assert kinds["http://data.europa.eu/snb/assessment/6e6cb2cc78"] == "Examen écrit"
    assert kinds["http://data.europa.eu/snb/assessment/d30284d7df"] == "Examen oral"
    values = list(kinds)  # the EU's first, then ours (which say "summative"), then "other"
    assert values.index("http://data.europa.eu/snb/assessment/6e6cb2cc78") < values.index("summative-online-exam") \
        < values.index("other")
    assert kinds["summative-online-exam"] == "Sommative : examen final en ligne"


def test_one_of_our_assessment_choices_stays_selected_and_saves_unchanged(client, services, setup):
    lid, issuer_id = setup
    english = ASSESSMENT_TYPES["summative-peer"][0]
    stored = _store(services, issuer_id, demo_definition().model_copy(update={"assessment_type": english}))
    doc = lxml_html.fromstring(client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True))
    chosen = [o.get("value") for o in doc.get_element_by_id("assessment_kind").iter("option") if o.get("selected") is not None]
    assert chosen == ["summative-peer"]
    version, saved = _round_trip(client, services, lid)
    assert (version, saved["assessment_type"]) == (stored, english)


def _save_with(client, services, lid, **fields):
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    data = browser_submission(page)
    for k, v in fields.items():
        data[k] = v
    return client.post(f"/instructor/definition?launch={lid}", data=data)


def test_choosing_an_eu_assessment_type_and_a_national_level_saves_them(client, services, setup):
    lid, issuer_id = setup
    _store(services, issuer_id, demo_definition())
    resp = _save_with(client, services, lid, assessment_kind="http://data.europa.eu/snb/assessment/6e6cb2cc78",
                      assessment_details="2 heures", nqf_framework="fr-cncp", nqf_level="7")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with services.session() as s:
        data = s.scalar(select(CredentialDefinition)).versions[-1].data
    assert data["assessment_type"] == "Written examination — 2 heures"
    assert (data["nqf_framework"], data["nqf_level"]) == ("fr-cncp", 7)


def test_a_framework_without_its_level_is_refused_next_to_the_level_in_french(client, services, setup):
    _lid, issuer_id = setup
    lid = launch(services, ["instructor"], locale="fr")
    _store(services, issuer_id, demo_definition())
    resp = _save_with(client, services, lid, nqf_framework="fr-cncp", nqf_level="")
    assert resp.status_code == 400
    doc = lxml_html.fromstring(resp.get_data(as_text=True))
    assert "Choisissez le niveau dans le cadre national" in doc.get_element_by_id("nqf_level-error").text_content()
    assert "#nqf_level" in [a.get("href") for a in doc.get_element_by_id("error-summary").iter("a")]
    resp = _save_with(client, services, lid, nqf_framework="fr-cncp", nqf_level="9")
    assert resp.status_code == 400  # a level the framework does not have


def test_the_national_framework_fields_are_left_out_where_no_framework_applies(client, services):
    from plugin.issuance.service import create_issuer
    from plugin.storage.models import IssuerPlatform
    pid = make_platform(services)
    with services.session() as s:
        issuer = create_issuer(s, services, "uni-gent", {"legal_name": "Universiteit Gent", "country_code": "BE",
                                                         "url": "https://www.ugent.be"}, actor="test")
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=pid))
    lid = launch(services, ["instructor"], platform_id=pid)
    page = client.get(f"/instructor/definition?launch={lid}").get_data(as_text=True)
    assert 'id="assessment_kind"' in page  # the form is there…
    assert 'id="nqf_framework"' not in page and 'id="nqf_level"' not in page  # …without the national framework
