"""The whole LTI story over real HTTP: tool and sandbox platform on loopback sockets.

Instructor adds the tool (deep linking, validated by the platform), opens the saved link,
a learner opens it; the launch state travels in the URL (no cookie is needed).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from plugin.storage.models import Course, CredentialDefinition, Learner


def _launch_id(url: str) -> str:
    return parse_qs(urlsplit(url).query)["launch"][0]


def test_deep_link_then_launches(live):
    browser = live.browser()
    select_page = browser.launch(live.platform, "sandbox-instructor", deep_link=True)
    assert select_page.status_code == 200, select_page.text[:500]
    assert "/lti/deep-link/select" in select_page.url
    assert "Sandbox course: Data literacy" in select_page.text
    assert "frame-ancestors 'self' " + live.platform.base in select_page.headers["Content-Security-Policy"]

    form = browser.submit(select_page)  # "Add to course"
    assert form.status_code == 200 and 'name="JWT"' in form.text
    done = browser.submit(form)  # auto-submitted to the platform, which validates the signed response
    assert done.status_code == 200, done.text
    assert "link added" in done.text

    added = live.platform.events[-1]["items"]
    assert len(added) == 1
    definition_id = added[0]["custom"]["microcred_definition"]
    with live.services.session() as s:
        definition = s.scalars(select(CredentialDefinition).where(CredentialDefinition.public_id == definition_id)).one()
        assert definition.enabled is False
        assert s.get(Course, definition.course_id).title == "Sandbox course: Data literacy"

    # The instructor opens the saved link: the launch carries the definition id.
    fresh = live.browser()  # a new browser: nothing depends on cookies from before
    page = fresh.launch(live.platform, "sandbox-instructor", link=added[0]["id"])
    assert page.status_code == 200
    if "/instructor/" in page.url:  # the instructor pages are installed: the course's credential page
        assert "Credential of Sandbox course: Data literacy" in page.text
    else:
        assert "Instructor" in page.text
    from plugin.web.auth import load_launch
    with live.services.session() as s:
        actor = load_launch(s, _launch_id(page.url))
        assert actor.roles == ["instructor"] and actor.definition_public_id == definition_id
        assert actor.context_title == "Sandbox course: Data literacy"
        assert "ags" in actor.services and "nrps" in actor.services

    learner_page = live.browser().launch(live.platform, "sandbox-learner-1", link=added[0]["id"])
    assert learner_page.status_code == 200 and ("/learner/" in learner_page.url or "Learner" in learner_page.text)
    with live.services.session() as s:
        learner = s.scalars(select(Learner).where(Learner.sub == "sandbox-learner-1")).one()
        assert (learner.name, learner.email) == ("Grace Hopper", "grace@sandbox.invalid")
        assert learner.platform_issuer == live.platform.issuer


def test_launch_survives_without_cookies(live):
    import requests
    from http.cookiejar import DefaultCookiePolicy

    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # a browser blocking every cookie
    from tests.lti.fixtures import Browser
    page = Browser(session).launch(live.platform, "sandbox-learner-2")
    assert page.status_code == 200 and ("/learner/" in page.url or "Learner" in page.text)
    assert not session.cookies


def test_jwks_and_config_are_served(live):
    import requests
    jwks = requests.get(live.tool.url + "/lti/jwks", timeout=10).json()
    assert jwks["keys"] and jwks["keys"][0]["alg"] == "RS256" and "d" not in jwks["keys"][0]
    conf = requests.get(live.tool.url + "/lti/config", timeout=10).json()
    assert conf["jwks_url"] == live.tool.url + "/lti/jwks"


def test_a_deep_linked_item_is_still_in_the_course_when_the_demo_restarts(live, tmp_path):
    from plugin.sandbox.platform import SandboxConfig, SandboxPlatform
    live.platform.config.links_file = tmp_path / "sandbox" / "links.json"
    browser = live.browser()
    done = browser.submit(browser.submit(browser.launch(live.platform, "sandbox-instructor", deep_link=True)))
    assert "link added" in done.text
    [added] = live.platform.events[-1]["items"]
    restarted = SandboxPlatform(SandboxConfig(base_url=live.platform.base, tool_base_url="http://127.0.0.1:5999",
                                              links_file=tmp_path / "sandbox" / "links.json"))
    link = restarted.links[added["id"]]  # the next run's tool URL, the same item and its definition
    assert link["url"] == "http://127.0.0.1:5999/lti/launch" and link["custom"] == added["custom"]
    assert link["title"] == added["title"] and "sandbox-link-1" in restarted.links
