"""The language switch on every page, remembered in a cookie and in the launch."""
from __future__ import annotations

import re

from plugin.storage.models import KeyValue

from tests.web.helpers import launch


def test_every_page_has_a_switch_that_brings_the_person_back_in_their_language(client):
    page = client.get("/verify?ref=abc").text  # even an error answer
    link = re.search(r'<a href="([^"]+)" lang="fr" hreflang="fr" id="lang-fr">Français</a>', page).group(1)
    assert link.startswith("/language/fr?next=") and "ref%3Dabc" in link
    resp = client.get(link.replace("&amp;", "&"))
    assert resp.status_code == 303 and resp.headers["Location"] == "/verify?ref=abc"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("microcred_lang=fr;") and "HttpOnly" in cookie and "Max-Age=" in cookie
    # the next page, and the one after, are in French without ?lang=
    assert '<html lang="fr">' in client.get("/verify").text
    assert "Vérifier une certification" in client.get("/").text or '<html lang="fr">' in client.get("/").text
    assert 'aria-current="true" lang="fr">Français' in client.get("/verify").text
    client.get("/language/en?next=/verify")
    assert '<html lang="en">' in client.get("/verify").text


def test_lang_parameter_is_remembered_too_and_the_switch_only_goes_back_to_this_site(client):
    resp = client.get("/verify?lang=fr")
    assert "microcred_lang=fr" in resp.headers.get("Set-Cookie", "")
    assert '<html lang="fr">' in client.get("/").text  # the home page: French too
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        resp = client.get("/language/en", query_string={"next": target})
        assert resp.status_code == 303 and resp.headers["Location"] == "/", target
    assert client.get("/language/xx?next=/").status_code == 404


def test_inside_the_lms_the_choice_is_kept_in_the_launch_when_cookies_are_blocked(app, services):
    lid = launch(services, ["instructor"], locale="en")
    client = app.test_client(use_cookies=False)  # an iframe whose third-party cookies are blocked
    assert '<html lang="en">' in client.get(f"/instructor/?launch={lid}").text
    resp = client.get("/language/fr", query_string={"next": f"/instructor/?launch={lid}"})
    assert resp.status_code == 303
    with services.session() as s:
        assert s.get(KeyValue, f"launch:{lid}").value["locale"] == "fr"
    assert '<html lang="fr">' in client.get(f"/instructor/?launch={lid}").text


def test_secrets_in_the_address_are_not_copied_into_the_switch_links(client):
    page = client.get("/verify?id_token=eyJhbGciOi.secret.sig&access_key=k&q=ok").text
    link = re.search(r'id="lang-fr"', page) and re.search(r'href="(/language/fr[^"]+)"', page).group(1)
    assert "secret" not in link and "access_key" not in link and "q%3Dok" in link
