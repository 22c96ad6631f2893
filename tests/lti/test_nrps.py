"""NRPS client against the sandbox platform over real HTTP."""
from __future__ import annotations

import pytest

from lti.errors import ScopeNotGranted, ServiceError
from lti.nrps import NrpsClient
from tests.lti.fixtures import start_live, stop_live


def _claim(platform):
    return {"context_memberships_url": platform.base + "/api/memberships", "service_versions": ["2.0"]}


def test_members_follow_pagination_with_names_and_emails(live):
    members = NrpsClient(live.services, live.platform_id, _claim(live.platform)).members()
    assert len(members) == 5  # the sandbox pages by 2: three pages followed through rel=next
    by_id = {m["user_id"]: m for m in members}
    assert by_id["sandbox-learner-1"]["name"] == "Grace Hopper"
    assert by_id["sandbox-learner-1"]["email"] == "grace@sandbox.invalid"


def test_members_without_pii(settings):
    running = start_live(settings, share_pii=False)  # Open edX without PII sharing
    try:
        members = NrpsClient(running.services, running.platform_id, _claim(running.platform)).members()
        assert len(members) == 5 and all("email" not in m and "name" not in m for m in members)
    finally:
        stop_live(running)


def test_nrps_scope_refused(settings):
    from lti import SCOPE_LINEITEM_READONLY
    running = start_live(settings, granted_scopes=[SCOPE_LINEITEM_READONLY])
    try:
        with pytest.raises(ScopeNotGranted, match="did not grant"):
            NrpsClient(running.services, running.platform_id, _claim(running.platform)).members()
    finally:
        stop_live(running)


def test_no_nrps_in_launch(live):
    with pytest.raises(ServiceError, match="no Names"):
        NrpsClient(live.services, live.platform_id, {})
    assert issubclass(ScopeNotGranted, ServiceError)
