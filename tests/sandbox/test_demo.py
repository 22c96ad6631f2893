"""The interactive demo's servers: tool and sandbox on loopback, registered, a launch works."""
from __future__ import annotations

import socket

import pytest
import requests

from plugin.sandbox.demo import PortInUse, start_demo
from plugin.settings import Settings
from tests.lti.fixtures import Browser


def test_demo_serves_tool_and_registered_sandbox(settings):
    handle = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        home = requests.get(handle.platform_url + "/", timeout=10)
        assert home.status_code == 200 and "deep linking" in home.text
        assert requests.get(handle.tool_url + "/lti/config", timeout=10).json()["launch_url"] == \
            handle.tool_url + "/lti/launch"
        page = Browser(requests.Session()).launch(handle.platform, "sandbox-learner-1")
        # the learner lands on their status page (learner.home) once the learner pages are installed
        assert page.status_code == 200 and ("/learner/" in page.url or "Learner" in page.text)
    finally:
        handle.stop()
    # a second run reuses the sandbox key (the registration in the database stays valid)
    again = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        assert again.platform.kid == handle.platform.kid
        assert again.second_platform.kid == handle.second_platform.kid != handle.platform.kid
        assert Browser(requests.Session()).launch(again.second_platform, "grace-on-second-sandbox").status_code == 200
        assert Browser(requests.Session()).launch(again.platform, "sandbox-instructor").status_code == 200
    finally:
        again.stop()


def test_busy_port_is_a_clear_error(settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(PortInUse, match="--port"):
            start_demo(lambda base: Settings.from_env(base_url=base), busy.getsockname()[1], 0)


def test_sandbox_page_says_why_the_pass_did_not_lead_to_a_credential(settings):
    """The interactive demo: after "Grace Hopper passes the course", the sandbox page shows the
    tool's plain reason when issuing failed (here the tool's context store refuses a context)."""
    import html

    from plugin.issuance import service
    from plugin.sandbox.demo import prepare_demo
    from plugin.storage.models import CredentialDefinition
    from tests.issuance.failure_support import refuse_context
    handle = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        ids = prepare_demo(handle.services, handle.platform)
        with handle.services.session() as s:  # the instructor's Enable (the headless story clicks it)
            service.set_enabled(s, s.get(CredentialDefinition, ids["definition_id"]), True, actor="instructor:demo")
        with refuse_context(handle.services) as url:
            page = requests.post(handle.platform_url + "/pass", data={"user": "sandbox-learner-1"}, timeout=60)
        said = (f"the pass is recorded, but the credential could not be signed: JSON-LD context {url} is not "
                "pinned")
        assert page.status_code == 200 and said in html.unescape(page.text)
        assert "(the tool retries automatically)" in html.unescape(page.text)
        home = html.unescape(requests.get(handle.platform_url + "/", timeout=10).text)
        assert "Grace Hopper passes the course" in home and said in home
    finally:
        handle.stop()


def test_headless_story_launches_on_two_running_platforms_and_every_port_is_freed(settings, tmp_path):
    """The demo pathway's third course is on a second running sandbox platform (its own origin,
    issuer and keys): the learner's launch and pass there go over HTTP to that server, and the
    tool accepted that platform's signed webhook. Stopping frees the three ports."""
    from sqlalchemy import select

    from plugin.sandbox.pathway_demo import SECOND_ISSUER, SECOND_LEARNER
    from plugin.sandbox.story import behind_public_url, run_story
    from plugin.storage.models import IssuedCredential, Job, Learner, PassEvidence, Pathway, Platform
    handle = start_demo(lambda _url: Settings.from_env(), 0, 0, headless=True)
    first, second = handle.platform, handle.second_platform
    try:
        assert handle.platform_url != handle.second_platform_url
        assert second.base == handle.second_platform_url and second.issuer == SECOND_ISSUER != first.issuer
        assert second.kid != first.kid  # its own key
        behind_public_url(handle)
        summary = run_story(handle, tmp_path / "out", echo=lambda _line: None)
        with handle.services.session() as s:
            registered = {p.issuer: p for p in s.scalars(select(Platform).where(Platform.product == "sandbox"))}
            assert registered[SECOND_ISSUER].key_set_url == handle.second_platform_url + "/jwks"
            assert registered[first.issuer].key_set_url == handle.platform_url + "/jwks"
            grace_there = s.scalars(select(Learner).where(Learner.platform_issuer == SECOND_ISSUER,
                                                          Learner.sub == SECOND_LEARNER)).one()
            (evidence,) = s.scalars(select(PassEvidence).where(PassEvidence.learner_id == grace_there.id))
            assert evidence.source == "openedx_webhook" and evidence.passed
            assert evidence.details["platform"] == SECOND_ISSUER
            assert evidence.details["course_key"] == second.course["id"]
            part = s.scalars(select(IssuedCredential).where(IssuedCredential.evidence_id == evidence.id)).one()
            assert part.document["credentialSubject"]["achievement"]["name"] == "Open Data Foundations"
            # The demo enables its pathway as the admin page does: with the backlog job (awarding
            # whoever already met it; nobody yet in the demo).
            demo_pathways = set(s.scalars(select(Pathway.id)))
            assert len(demo_pathways) == 1
            assert [j.payload["pathway_id"] for j in s.scalars(select(Job).where(Job.kind == "pathway_backlog"))] \
                == list(demo_pathways)
    finally:
        handle.stop()
    launches = {(p.base, e["user"]) for p in (first, second) for e in p.events if e["event"] == "launch"}
    assert {(first.base, "sandbox-learner-1"), (first.base, "sandbox-instructor"),
            (second.base, SECOND_LEARNER)} <= launches
    assert {first.base, second.base} == {handle.platform_url, handle.second_platform_url}
    passes = [(e["user"], e["status"], [r["action"] for r in e["response"]["results"]]) for e in second.events
              if e["event"] == "pass"]
    assert passes == [(SECOND_LEARNER, 200, ["issued"])]
    assert summary["pathway_credential"]
    assert not any(t.is_alive() for t in handle._threads)
    for url in (handle.tool_url, handle.platform_url, handle.second_platform_url):
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/", timeout=5)


def test_a_busy_second_platform_port_names_its_option(settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(PortInUse, match="second sandbox platform.*--second-platform-port"):
            start_demo(lambda base: Settings.from_env(base_url=base), 0, 0,
                       second_platform_port=busy.getsockname()[1])
