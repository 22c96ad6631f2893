"""Defect 2 of issue 11: AGS URLs from a launch are checked when stored and when fetched.

Anybody can register a platform (Dynamic Registration is open), so a launch may name any
URL as its AGS line item; the tool must neither record an internal one nor send its bearer
token there. The platform here is the sandbox on a real socket, the "internal service" a
second real server on loopback that only the sandbox's port is allowed besides.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from plugin.domain.policy import CoursePolicy
from plugin.evidence.base import BridgeError
from plugin.evidence.launch import AGS_CLAIM, on_launch
from plugin.evidence.lti_ags import AgsSource, results_reader
from plugin.storage.models import Course, CredentialDefinition, Learner, Platform
from tests.lti.fixtures import start_live, stop_live
from tests.net.servers import SECRET, allow_outbound, internal_service


@pytest.fixture
def internal():
    server = internal_service()
    yield server
    server.close()


@pytest.fixture
def live_platform_only(settings):
    """Tool and sandbox on real sockets; the tool may call the sandbox's port and nothing else local."""
    running = start_live(settings)
    allow_outbound(running.services, f"127.0.0.1:{running.platform_server.port}")
    yield running
    stop_live(running)


def _actor(course_id, learner_id, roles, platform_id):
    return SimpleNamespace(roles=roles, course_id=course_id, learner_id=learner_id, platform_id=platform_id,
                           platform_issuer="x", context_id="c", resource_link_id="r", deployment_id="1",
                           definition_public_id=None, name=None)


def test_an_internal_line_item_from_a_launch_is_not_recorded(live_platform_only, internal):
    services = live_platform_only.services
    with services.session() as s:
        platform = s.get(Platform, live_platform_only.platform_id)
        course = Course(platform_issuer=platform.issuer, context_id="c1", platform_id=platform.id, title="C")
        s.add(course)
        s.flush()
        definition = CredentialDefinition(course_id=course.id, enabled=True, policy={"source": "ags", "rule": "course_grade",
                                                                                "threshold": 60})
        learner = Learner(platform_issuer=platform.issuer, sub="teacher", external_ids={})
        s.add_all([definition, learner])
        s.flush()
        for lineitem in (internal.url + "/internal/lineitem", "http://169.254.169.254/latest/meta-data/"):
            on_launch(s, services, _actor(course.id, learner.id, ["instructor"], platform.id),
                      {AGS_CLAIM: {"lineitem": lineitem}})
            assert "ags_lineitem" not in (definition.policy or {})
        # The platform's own line item (the sandbox's port, allowed) is recorded as before.
        own = live_platform_only.platform.base + "/api/lineitems/1"
        on_launch(s, services, _actor(course.id, learner.id, ["instructor"], platform.id),
                  {AGS_CLAIM: {"lineitem": own}})
        assert definition.policy["ags_lineitem"] == own
    assert internal.hits == []


def test_an_internal_line_item_stored_earlier_is_never_fetched_with_the_token(live_platform_only, internal):
    """A policy recorded before the check (or edited in the database) still cannot make the
    tool call an internal address: neither the token request nor the results request is made."""
    services = live_platform_only.services
    with services.session() as s:
        platform = s.get(Platform, live_platform_only.platform_id)
        s.expunge(platform)
    source = AgsSource(results_reader(services, platform))
    policy = CoursePolicy(source="ags", rule="course_grade", threshold=50,
                          ags_lineitem=internal.url + "/internal/lineitem")
    learner = Learner(platform_issuer=platform.issuer, sub="sandbox-learner-1", external_ids={})
    with pytest.raises(BridgeError) as refused:
        source.observe_learner(Course(platform_issuer=platform.issuer, context_id="c1"), learner, policy)
    assert "127.0.0.1, a loopback address" in refused.value.message
    assert SECRET not in refused.value.message
    assert internal.hits == []
    assert not [e for e in live_platform_only.platform.events if e["event"] == "token"]


def test_an_internal_service_claim_is_kept_out_of_the_launch(live_platform_only, internal):
    """The launch itself goes through; the AGS/NRPS claims naming internal URLs are not kept."""
    from plugin.web.auth import load_launch
    live = live_platform_only
    claims_patch = {"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"],
        "lineitems": internal.url + "/internal/lineitems"},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
        "context_memberships_url": live.platform.base + "/api/memberships", "service_versions": ["2.0"]}}
    original = live.platform.launch_claims
    live.platform.launch_claims = lambda *a, **k: {**original(*a, **k), **claims_patch}
    try:
        page = live.browser().launch(live.platform, "sandbox-instructor")
    finally:
        live.platform.launch_claims = original
    assert page.status_code == 200, page.text[:300]
    launch_id = page.url.split("launch=", 1)[1].split("&", 1)[0]
    with live.services.session() as s:
        actor = load_launch(s, launch_id)
    assert "ags" not in actor.services and "nrps" in actor.services
    assert internal.hits == []
