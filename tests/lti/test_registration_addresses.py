"""Defects 1 and 3 of issue 11: anonymous Dynamic Registration made the tool read internal pages.

``GET /lti/register?openid_configuration=<url>`` needs no account. Before the outbound layer:
a URL that redirected to an internal address was followed (``allow_redirects`` was already
True when ``setdefault`` ran) and the first 300 characters of the internal page were shown in
the error; a name resolving to a public address at the check and to 127.0.0.1 at the fetch
passed; and development mode (the default) allowed loopback to anyone.
"""
from __future__ import annotations

import pytest

from plugin.storage.models import Platform
from tests.interop.moodle_platform import MoodleSite
from tests.net.servers import SECRET, RebindingResolver, TcpListener, allow_outbound, internal_service, redirector


@pytest.fixture
def internal():
    server = internal_service()
    yield server
    server.close()


def _register(client, config_url):
    return client.get("/lti/register", query_string={"openid_configuration": config_url, "registration_token": "t"})


def _no_platform(services):
    with services.session() as s:
        return s.query(Platform).count() == 0


def test_a_redirect_to_an_internal_page_is_refused_and_nothing_of_it_is_shown(client, services, internal):
    platform = redirector(internal.url + "/admin/secrets")
    try:
        allow_outbound(services, f"127.0.0.1:{platform.port}")  # the "platform" is allowed, the internal port not
        response = _register(client, platform.url + "/.well-known/openid-configuration")
        assert response.status_code == 502
        page = response.get_data(as_text=True)
        assert "127.0.0.1, a loopback address" in page and "MICROCRED_OUTBOUND_ALLOW" in page
        assert SECRET not in page and "hunter2" not in page
        assert platform.hits == ["/.well-known/openid-configuration"] and internal.hits == []
        json_answer = client.get("/lti/register", headers={"Accept": "application/json"}, query_string={
            "openid_configuration": platform.url + "/again"})
        assert json_answer.status_code == 502 and SECRET not in json_answer.get_data(as_text=True)
        assert internal.hits == [] and _no_platform(services)
    finally:
        platform.close()


def test_what_an_allowed_address_answers_is_never_repeated(client, services):
    """Even a reachable platform's non-JSON answer is described, not quoted (status, type, size)."""
    page_server = internal_service()
    try:
        allow_outbound(services, f"127.0.0.1:{page_server.port}")
        response = _register(client, page_server.url + "/config")
        assert response.status_code == 502
        text = response.get_data(as_text=True)
        assert "is not JSON (HTTP 200, Content-Type text/plain" in text and SECRET not in text
    finally:
        page_server.close()


def test_dns_rebinding_between_the_check_and_the_fetch_is_refused(client, services):
    target = TcpListener()  # what 127.0.0.1 would be: counts any connection, TLS included
    try:
        allow_outbound(services)  # a production-like instance: nothing internal allowed
        resolver = RebindingResolver("lms.rebind.example", honest=1)
        services.outbound.resolver = resolver
        response = _register(client, f"https://lms.rebind.example:{target.port}/.well-known/openid-configuration")
        assert response.status_code == 502
        assert "lms.rebind.example resolves to 127.0.0.1" in response.get_data(as_text=True)
        assert resolver.calls == 2  # checked when read (public), refused when connecting (loopback)
        assert target.connections == 0 and _no_platform(services)
    finally:
        target.close()


def test_development_mode_does_not_open_loopback_to_anyone(tmp_path, database_url, monkeypatch):
    """``MICROCRED_ENV`` unset (development, the default of ``microcred serve``) and no allow-list:
    a platform on this machine is refused, and it receives nothing."""
    from plugin.app import create_app
    from plugin.services import build_services
    from plugin.settings import Settings
    monkeypatch.delenv("MICROCRED_ENV", raising=False)
    monkeypatch.delenv("MICROCRED_OUTBOUND_ALLOW", raising=False)
    monkeypatch.setenv("MICROCRED_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MICROCRED_BASE_URL", "http://tool.test")
    settings = Settings.from_env()
    assert settings.env == "development"
    services = build_services(settings)
    moodle = MoodleSite().start()
    try:
        client = create_app(services=services).test_client()
        response = client.get(moodle.registration_url("http://tool.test/lti/register").split("http://tool.test", 1)[1])
        assert response.status_code == 400
        assert "loopback address" in response.get_data(as_text=True)
        assert moodle.requests == []
        # The administrator allows it explicitly (what `microcred demo` does for its sandbox).
        allow_outbound(services, "127.0.0.1")
        assert client.get(moodle.registration_url("http://tool.test/lti/register")
                          .split("http://tool.test", 1)[1]).status_code == 200
    finally:
        moodle.stop()
        services.engine.dispose()
