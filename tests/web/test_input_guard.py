"""Input no page can accept is a 400 naming the problem before any view (issue 11, defect 4: NUL)."""
from __future__ import annotations

import pytest

from tests.bridges_support import COURSE_KEY, ISSUER, make_definition, make_platform
from tests.web.helpers import launch


@pytest.fixture
def instructor(services):
    """An instructor's launch in a course with a credential (the issued list's pages)."""
    with services.session() as s:
        platform = make_platform(s)
        make_definition(s, policy={"source": "openedx_webhook"}, platform_id=platform.id)
        platform_id = platform.id
    return launch(services, ["instructor"], platform_id=platform_id, context_id=COURSE_KEY)


# ------------------------------------------------------------- defect 4: NUL bytes
NUL_REQUESTS = [
    ("GET", "/issuers/%00"),
    ("GET", "/issuers/%00/about"),
    ("GET", "/verify/%00"),
    ("POST", "/api/exchanges/%00"),
    ("GET", "/instructor/issued?launch={lid}&q=%00"),
    ("GET", "/instructor/issued.csv?launch={lid}&q=%00"),
    ("GET", "/credentials/abc?x=%00"),
    ("GET", "/verify?launch=%00"),
]


@pytest.mark.parametrize("method, url", NUL_REQUESTS)
def test_a_nul_byte_in_the_path_or_query_is_a_400_saying_so(client, instructor, method, url):
    resp = client.open(url.format(lid=instructor), method=method, json={} if method == "POST" else None,
                       headers={"Accept": "text/html"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, body[:500]
    assert "NUL" in body


def test_a_nul_byte_in_a_form_field_is_a_400(client, instructor):
    resp = client.post(f"/instructor/issued/abc/revoke?launch={instructor}", data={"reason": "a\x00b"})
    assert resp.status_code == 400
    assert "NUL" in resp.get_data(as_text=True)


def test_an_api_client_gets_the_nul_refusal_as_json(client):
    resp = client.post("/api/exchanges/%00", json={})
    assert resp.status_code == 400
    assert "NUL" in resp.get_json()["message"]


def test_the_nul_refusal_is_in_the_page_language(client):
    resp = client.get("/verify/%00?lang=fr", headers={"Accept": "text/html"})
    assert resp.status_code == 400
    assert "caractère NUL (%00) dans son adresse" in resp.get_data(as_text=True)
