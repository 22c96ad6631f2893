"""AGS client against the sandbox platform over real HTTP (token endpoint verifies our client assertion)."""
from __future__ import annotations

import pytest

from lti import SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY
from lti.ags import AgsClient, sub_url
from lti.errors import ScopeNotGranted, ServiceError
from tests.lti.fixtures import start_live, stop_live


def _endpoint(live, scopes=None):
    claims = live.platform.launch_claims("sandbox-learner-1", nonce="n", hint={})
    endpoint = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    if scopes is not None:
        endpoint["scope"] = scopes
    return endpoint


def test_line_item_score_results(live):
    ags = AgsClient(live.services, live.platform_id, _endpoint(live))
    item = ags.find_or_create_line_item(label="Micro-credential", score_maximum=100, tag="microcred")
    assert item["id"].startswith(live.platform.base + "/api/lineitems/")
    again = ags.find_or_create_line_item(label="Micro-credential", score_maximum=100, tag="microcred")
    assert again["id"] == item["id"]  # found, not created twice
    ags.post_score(item["id"], user_id="sandbox-learner-1", score_given=82, score_maximum=100, comment="well done")
    ags.post_score(item["id"], user_id="sandbox-learner-2", score_given=40, score_maximum=100)
    results = {r["userId"]: r for r in ags.results(item["id"])}  # 2 results, page size 2 -> ok
    assert results["sandbox-learner-1"]["resultScore"] == 82
    assert results["sandbox-learner-2"]["resultScore"] == 40
    assert [r["userId"] for r in ags.results(item["id"], user_id="sandbox-learner-2")] == ["sandbox-learner-2"]


def test_line_items_follow_pagination(live):
    ags = AgsClient(live.services, live.platform_id, _endpoint(live))
    for n in range(5):
        ags.create_line_item(label=f"item {n}", score_maximum=10, tag=f"t{n}")
    assert len(ags.line_items()) == 5  # the sandbox pages by 2: three pages


def test_token_is_cached_until_it_expires(live):
    first = AgsClient(live.services, live.platform_id, _endpoint(live))
    first.line_items()
    first.line_items()
    assert first.connector.token_requests == 1
    second = AgsClient(live.services, live.platform_id, _endpoint(live))  # another request, same cache
    second.line_items()
    assert second.connector.token_requests == 0
    assert sum(1 for e in live.platform.events if e["event"] == "token") == 1


def test_expired_token_is_renewed(settings):
    running = start_live(settings, token_ttl=31)  # cached for ttl - 30 s = 1 s
    try:
        import time
        ags = AgsClient(running.services, running.platform_id, _endpoint(running))
        ags.line_items()
        time.sleep(1.2)
        ags.line_items()
        assert ags.connector.token_requests == 2
    finally:
        stop_live(running)


def test_platform_granting_fewer_scopes(settings):
    running = start_live(settings, granted_scopes=[SCOPE_LINEITEM_READONLY])  # as Moodle may
    try:
        ags = AgsClient(running.services, running.platform_id, _endpoint(running))
        assert ags.line_items() == []  # reading works with the read-only scope
        with pytest.raises(ScopeNotGranted, match="score"):
            ags.post_score(running.platform.base + "/api/lineitems/1", user_id="sandbox-learner-1",
                           score_given=1, score_maximum=1)
        with pytest.raises(ScopeNotGranted, match="lineitem"):
            ags.create_line_item(label="x", score_maximum=1)
    finally:
        stop_live(running)


def test_scope_not_offered_in_the_launch(live):
    ags = AgsClient(live.services, live.platform_id, _endpoint(live, scopes=[SCOPE_LINEITEM_READONLY]))
    with pytest.raises(ScopeNotGranted, match="did not offer"):
        ags.results(live.platform.base + "/api/lineitems/1")
    assert SCOPE_RESULT_READONLY not in ags.connector.offered_scopes


def test_platform_errors_are_service_errors(live):
    ags = AgsClient(live.services, live.platform_id, _endpoint(live))
    with pytest.raises(ServiceError, match="404"):
        ags.line_item(live.platform.base + "/api/lineitems/999")
    with pytest.raises(ServiceError, match="no Assignment"):
        AgsClient(live.services, live.platform_id, None)


def test_sub_url_keeps_the_query():
    assert sub_url("https://p/li/7?type=x", "/scores") == "https://p/li/7/scores?type=x"
    assert sub_url("https://p/li/7/", "/results") == "https://p/li/7/results"


def test_line_item_per_resource_link(live):
    ags = AgsClient(live.services, live.platform_id, _endpoint(live))
    a = ags.find_or_create_line_item(label="A", score_maximum=1, tag="microcred", resource_link_id="link-a")
    b = ags.find_or_create_line_item(label="B", score_maximum=1, tag="microcred", resource_link_id="link-b")
    assert a["id"] != b["id"] and b["resourceLinkId"] == "link-b"
    assert ags.find_or_create_line_item(label="A", score_maximum=1, tag="microcred",
                                        resource_link_id="link-a")["id"] == a["id"]
