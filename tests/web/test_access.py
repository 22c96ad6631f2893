"""Nobody but instructors reaches the instructor pages, nobody but admins the admin area.

Iterates over EVERY route of both blueprints in ``app.url_map`` so a route added later
is covered without editing this test.
"""
from __future__ import annotations

import re

import pytest

from tests.web.helpers import launch

PUBLIC = {"admin.login"}


def _routes(app, prefix):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(prefix) or rule.endpoint in PUBLIC:
            continue
        url = re.sub(r"<(?:int:)?([^>]+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule.endpoint, method, url


def _check(client, app, prefix, query, expected):
    app.config["WTF_CSRF_ENABLED"] = False  # the role check, not CSRF, must refuse these requests
    seen = 0
    for endpoint, method, url in _routes(app, prefix):
        resp = client.open(url + query, method=method, data={"launch": query.partition("=")[2]} if query else {})
        assert resp.status_code == expected, (endpoint, method, url, resp.status_code)
        seen += 1
    return seen


def test_learner_launch_reaches_no_instructor_or_admin_route(app, client, services):
    lid = launch(services, ["learner"])
    assert _check(client, app, "instructor.", f"?launch={lid}", 403) >= 1
    assert _check(client, app, "admin.", f"?launch={lid}", 403) >= 5


def test_instructor_launch_reaches_no_admin_route(app, client, services):
    lid = launch(services, ["instructor"])
    assert _check(client, app, "admin.", f"?launch={lid}", 403) >= 5


def test_nobody_gets_401_everywhere(app, client):
    assert _check(client, app, "instructor.", "", 401) >= 1
    assert _check(client, app, "admin.", "", 401) >= 5


def test_unknown_or_expired_launch_is_401(app, client):
    assert _check(client, app, "instructor.", "?launch=not-a-launch", 401) >= 1


def test_instructor_page_can_be_framed(client, services):
    lid = launch(services, ["instructor"])
    resp = client.get(f"/instructor/?launch={lid}")
    assert resp.status_code == 200
    assert "X-Frame-Options" not in resp.headers
