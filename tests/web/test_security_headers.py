"""Every route of the app, as each role that can reach it: the security headers (issue 11, defect 9).

LTI pages may be framed by the launching platform only; every other page by nobody (CSP
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``); ``nosniff`` and a
``Referrer-Policy`` everywhere; HSTS in production.
"""
from __future__ import annotations

import re

import pytest

from plugin.storage.models import Platform
from tests.web.helpers import launch
from tests.web.module_app import module_app

LMS = "https://lms.example.edu"
OTHER = "https://other-lms.example.org"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app, services = module_app(tmp_path_factory.mktemp("headers"))
    with services.session() as s:
        for issuer in (LMS, OTHER):
            s.add(Platform(issuer=issuer, client_id="c", name=issuer, auth_login_url=issuer + "/auth",
                           auth_token_url=issuer + "/token", key_set_url=issuer + "/jwks"))
        s.flush()
        lms_id = s.query(Platform).filter_by(issuer=LMS).one().id
    from plugin.cli.admin import create_admin
    create_admin(services, "root", "a very long password")
    launches = {role: launch(services, [role], platform_id=lms_id, sub=f"{role}-1")
                for role in ("instructor", "learner", "admin")}
    yield app, services, launches
    services.engine.dispose()


def _urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: "x" for arg in rule.arguments}
        for arg, conv in rule._converters.items():
            name = type(conv).__name__
            values[arg] = "1" if name == "IntegerConverter" else ("x/y" if name == "PathConverter" else "x")
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_route_as_every_role_sends_the_security_headers(world):
    app, _services, launches = world
    checked, endpoints = 0, set()
    for endpoint, method, path in _urls(app):
        endpoints.add(endpoint)
        clients = {"anonymous": app.test_client(), "local admin": app.test_client()}
        with clients["local admin"].session_transaction() as sess:
            sess["admin_username"] = "root"
        cases = [(who, c, {}) for who, c in clients.items()]
        cases += [(role, app.test_client(), {"launch": lid}) for role, lid in launches.items()]
        for who, client, query in cases:
            resp = client.open(path, method=method, query_string=query, data={"launch": query.get("launch", "")}
                               if method == "POST" else None)
            where = f"{method} {path} as {who} ({resp.status_code})"
            # /healthz says 503 when something it checks is down (here: no worker): that is its job
            assert resp.status_code < 500 or endpoint.startswith("health."), where
            h = resp.headers
            assert h.get("X-Content-Type-Options") == "nosniff", where
            assert h.get("Referrer-Policy") in ("same-origin", "no-referrer"), where
            csp = h.get("Content-Security-Policy", "")
            ancestors = re.search(r"frame-ancestors ([^;]*)", csp)
            assert ancestors, where
            assert "object-src 'none'" in csp and "base-uri 'self'" in csp, where
            if path == "/lti/register":  # Dynamic Registration: framed by the platform registering
                assert ancestors.group(1).startswith("'self'") and OTHER not in ancestors.group(1), where
            elif query:  # a page of a launch from LMS: LMS only, never another registered platform
                assert ancestors.group(1) == f"'self' {LMS}", where
                assert "X-Frame-Options" not in h, where
            elif path.startswith("/lti/") and path not in ("/lti/jwks", "/lti/config"):
                assert ancestors.group(1).startswith("'self'") and OTHER not in ancestors.group(1), where
            else:
                assert ancestors.group(1) == "'none'", where
                assert h.get("X-Frame-Options") == "DENY", where
            assert "Strict-Transport-Security" not in h, where  # not in production
            checked += 1
    assert endpoints == {r.endpoint for r in app.url_map.iter_rules()} - {"static"}
    print(f"security headers: {checked} responses checked ({len(endpoints)} endpoints x methods x 5 roles)")


def test_admin_pages_of_a_local_admin_cannot_be_framed(world):
    app, _services, _launches = world
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["admin_username"] = "root"
    resp = client.get("/admin/")
    assert resp.status_code == 200
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_production_sends_hsts(tmp_path):
    from plugin.storage.migrate import upgrade
    upgrade(f"sqlite:///{tmp_path / 'module.sqlite3'}")  # production never creates its schema itself
    app, services = module_app(tmp_path, MICROCRED_ENV="production", MICROCRED_BASE_URL="https://tool.example.edu")
    try:
        client = app.test_client()
        for path in ("/", "/verify", "/lti/jwks", "/nowhere"):
            resp = client.get(path, base_url="https://tool.example.edu")
            assert resp.headers["Strict-Transport-Security"] == "max-age=31536000", path
    finally:
        services.engine.dispose()
