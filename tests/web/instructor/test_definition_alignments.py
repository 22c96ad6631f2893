"""The definition form's frameworks section: RNCP / RS / ESCO alignments saved, shown again, refused clearly."""
from __future__ import annotations

from sqlalchemy import select

from plugin.storage.models import CredentialDefinition
from tests.web.instructor.test_instructor import _post_definition, course  # noqa: F401 - the fixture

LINES = "RNCP34826BC01 — Analyser des données\nRS5487"


def _saved(services):
    with services.session() as s:
        return s.scalar(select(CredentialDefinition)).versions[-1].data.get("framework_alignments")


def test_alignments_are_saved_shown_again_and_kept_by_a_save_without_the_section(client, services, course):
    assert _post_definition(client, course, framework_alignments=LINES).status_code == 302
    assert [a["code"] for a in _saved(services)] == ["RNCP34826BC01", "RS5487"]
    page = client.get(f"/instructor/definition?launch={course['launch']}").get_data(as_text=True)
    assert "RNCP34826BC01 — Analyser des données\nRS5487</textarea>" in page
    _post_definition(client, course, description="Changed")  # a client that does not send the section
    assert [a["code"] for a in _saved(services)] == ["RNCP34826BC01", "RS5487"]


def test_a_wrong_code_is_marked_on_the_field_and_nothing_is_saved(client, services, course):
    resp = _post_definition(client, course, framework_alignments="RNCP12")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'aria-invalid="true"' in html and "line 1: an RNCP code reads" in html
    assert "RNCP12</textarea>" in html  # what was typed stays
    with services.session() as s:
        assert s.scalar(select(CredentialDefinition)) is None


def test_a_wrong_line_is_explained_in_french_on_the_french_page(client, services, course):
    from tests.web.helpers import launch
    french = dict(course, launch=launch(services, ["instructor"], platform_id=course["platform"], locale="fr"))
    resp = _post_definition(client, french, framework_alignments="RNCP34826BC01\nRNCP12\nhttps://example.org/skill")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "ligne 2 : un code RNCP s’écrit RNCP34826, ou RNCP34826BC01 pour un bloc de compétences" in html
    assert "ligne 3 : une compétence ESCO s’écrit avec son URI" in html
    assert "an RNCP code reads" not in html
