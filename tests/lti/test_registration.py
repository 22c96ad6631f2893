"""LTI Dynamic Registration, against a platform endpoint that answers like Moodle 4.x."""
from __future__ import annotations

import json
import os
import re

import pytest
from sqlalchemy import select

from lti import SCOPE_LINEITEM, SCOPE_NRPS, SCOPE_SCORE
from lti.registration import DynamicRegistrationError, check_platform_url, validate_openid_configuration
from plugin.net import OutboundPolicy, parse_allow_list
from plugin.storage.models import AuditLog, Platform
from tests.interop.moodle_platform import MoodleSite


@pytest.fixture
def moodle():
    site = MoodleSite().start()
    yield site
    site.stop()


def _register(client, url, **headers):
    path = url.split("http://tool.test", 1)[1]
    return client.get(path, headers=headers)


def _platforms(services):
    with services.session() as s:
        return [(p.issuer, p.client_id, p.product, p.registration_kind, sorted(d.deployment_id for d in p.deployments),
                 p.registration_data) for p in s.scalars(select(Platform))]


def test_registration_against_moodle_stores_the_platform_and_its_deployment(client, services, moodle):
    response = _register(client, moodle.registration_url("http://tool.test/lti/register"))

    assert response.status_code == 200, response.text
    page = response.text
    assert "microcred is registered with moodle" in page
    # The Done button posts org.imsglobal.lti.close to the platform's origin only.
    assert f'data-platform-origin="{moodle.wwwroot}"' in page
    assert "lti-registration.js" in page
    assert "org.imsglobal.lti.close" in client.get("/static/lti-registration.js").text
    # Moodle shows the page in its own iframe before the tool knows it.
    assert moodle.wwwroot in response.headers["Content-Security-Policy"]
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]

    (tool_type,) = moodle.types.values()
    [(issuer, client_id, product, kind, deployments, data)] = _platforms(services)
    assert (issuer, client_id, product, kind) == (moodle.wwwroot, tool_type.clientid, "moodle", "dynamic")
    assert deployments == [str(tool_type.id)]  # Moodle's deployment id is the tool type id
    assert data["product_family_code"] == "moodle"
    assert SCOPE_SCORE in data["granted_scopes"] and SCOPE_NRPS in data["granted_scopes"]
    # What Moodle recorded from the tool's request.
    assert tool_type.initiatelogin == "http://tool.test/lti/login"
    assert tool_type.publickeyset == "http://tool.test/lti/jwks"
    assert tool_type.redirectionuris == ["http://tool.test/lti/launch", "http://tool.test/lti/deep-link"]
    assert tool_type.contentitem and tool_type.contentitem_url == "http://tool.test/lti/deep-link"
    assert tool_type.gradesync == 2 and tool_type.memberships == 1
    deep_linking = [m for m in data["registration"]["https://purl.imsglobal.org/spec/lti-tool-configuration"]
                    ["messages"] if m["type"] == "LtiDeepLinkingRequest"]
    assert deep_linking and deep_linking[0]["target_link_uri"] == "http://tool.test/lti/deep-link"
    assert tool_type.sendname and tool_type.sendemail
    with services.session() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "lti.platform.registered")).one()
        assert audit.details["client_id"] == tool_type.clientid


def test_the_registration_token_is_sent_as_a_bearer_token_and_used_once(client, services, moodle):
    url = moodle.registration_url("http://tool.test/lti/register")
    assert _register(client, url).status_code == 200
    posts = [h for m, p, h in moodle.requests if p.endswith("openid-registration.php")]
    token = re.search(r"registration_token=([^&]+)", url).group(1)
    assert posts[0]["Authorization"] == f"Bearer {token}"

    again = _register(client, url)
    assert again.status_code == 502
    assert "Registering the tool with the platform" in again.text
    assert "HTTP 401" in again.text and "token_already_used" in again.text
    # The admin can still close the platform's window from the failure page.
    assert f'id="registration-close" data-platform-origin="{moodle.wwwroot}"' in again.text
    assert len(_platforms(services)) == 1


def test_a_platform_that_refuses_says_why_and_nothing_is_stored(client, services, moodle):
    url = moodle.registration_url("http://tool.test/lti/register")
    url = re.sub(r"registration_token=[^&]+", "registration_token=", url)
    response = _register(client, url)
    assert response.status_code == 502
    assert "missing_registration_token" in response.text
    assert _platforms(services) == []


def test_a_site_without_the_memberships_service_is_not_asked_for_it(client, services):
    site = MoodleSite(services=("gradebookservices", "basicoutcomes")).start()
    try:
        response = _register(client, site.registration_url("http://tool.test/lti/register"))
        assert response.status_code == 200
        assert "list course members" in response.text  # the page says what is missing
        (tool_type,) = site.types.values()
        assert tool_type.memberships == 0
        [(*_, data)] = _platforms(services)
        assert SCOPE_NRPS not in data["requested_scopes"]
        assert SCOPE_NRPS not in data["granted_scopes"]
    finally:
        site.stop()


def test_a_platform_granting_fewer_scopes_is_stored_with_what_it_granted(client, services, moodle):
    moodle.registration_patch = {"scope": "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly "
                                          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"}
    response = _register(client, moodle.registration_url("http://tool.test/lti/register"),
                         Accept="application/json")
    assert response.status_code == 200
    body = response.get_json()
    assert SCOPE_SCORE in body["missing_scopes"] and SCOPE_LINEITEM in body["missing_scopes"]
    assert any("send scores" in w for w in body["warnings"])
    assert any("bridge" in w for w in body["warnings"])
    [(*_, data)] = _platforms(services)
    assert data["granted_scopes"] == ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                                      "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"]


@pytest.mark.parametrize("patch, expected", [
    ({"issuer": "http://127.0.0.1:1"}, "is not on the same site as its OpenID configuration URL"),
    ({"registration_endpoint": None}, "lacks registration_endpoint"),
    ({"jwks_uri": None, "token_endpoint": None}, "lacks token_endpoint, jwks_uri"),
    ({"jwks_uri": "http://moodle.example.org/mod/lti/certs.php"}, "jwks_uri must use https"),
    ({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, "private_key_jwt"),
    ({"id_token_signing_alg_values_supported": ["HS256"]}, "RS256"),
    ({"https://purl.imsglobal.org/spec/lti-platform-configuration": None}, "not an LTI platform"),
])
def test_a_bad_platform_configuration_is_refused_with_the_reason(client, services, moodle, patch, expected):
    moodle.config_patch = patch
    response = _register(client, moodle.registration_url("http://tool.test/lti/register"))
    assert response.status_code == 400
    assert "Reading the platform&#39;s OpenID configuration" in response.text
    assert expected in response.text.replace("&#39;", "'")
    assert _platforms(services) == []
    assert not any(p.endswith("openid-registration.php") for _, p, _ in moodle.requests)


def test_unreachable_or_non_json_configuration_is_a_clear_failure(client, services, moodle):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/mod/lti/openid-configuration.php"
    response = client.get("/lti/register", query_string={"openid_configuration": dead, "registration_token": "x"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 502
    assert response.get_json()["step"] == "openid_configuration"
    assert "could not fetch the platform's OpenID configuration" in response.get_json()["message"]

    html = client.get("/lti/register", query_string={"openid_configuration": f"{moodle.wwwroot}/login/nothing",
                                                     "registration_token": "x"})
    assert html.status_code == 502
    assert "HTTP 404" in html.text
    assert _platforms(services) == []


def test_an_oversized_configuration_is_refused_without_reading_it_all(client, services, moodle):
    moodle.config_patch = {"padding": "x" * 2_000_000}
    response = _register(client, moodle.registration_url("http://tool.test/lti/register"))
    assert response.status_code == 502
    assert "too large" in response.text
    assert _platforms(services) == []


def test_the_deep_linking_placement_is_the_one_the_platform_names(moodle):
    from lti.registration import deep_linking_placements
    assert deep_linking_placements(moodle.openid_configuration()) == ["AddContentMenu"]
    spec_style = {"https://purl.imsglobal.org/spec/lti-platform-configuration": {"messages_supported": [
        {"type": "LtiDeepLinkingRequest", "placements": ["link_selection", "editor_button"]}]}}
    assert deep_linking_placements(spec_style) == ["link_selection", "editor_button"]
    assert deep_linking_placements({}) == ["ContentArea"]


def test_opening_the_registration_url_by_hand_explains_it(client):
    response = client.get("/lti/register")
    assert response.status_code == 200
    assert "http://tool.test/lti/register" in response.text
    missing = client.get("/lti/register", query_string={"registration_token": "abc"})
    assert missing.status_code == 400
    assert "openid_configuration parameter is missing" in missing.text


def test_the_issuer_must_be_on_the_configuration_urls_site():
    config = {"issuer": "https://lms.example.org", "authorization_endpoint": "https://lms.example.org/auth",
              "token_endpoint": "https://lms.example.org/token", "jwks_uri": "https://lms.example.org/jwks",
              "registration_endpoint": "https://lms.example.org/register",
              "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "canvas"}}
    assert validate_openid_configuration("https://lms.example.org/.well-known/openid-configuration", config,
                                         allow_http_loopback=False) is config
    with pytest.raises(DynamicRegistrationError, match="same site"):
        validate_openid_configuration("https://evil.example.org/config", config, allow_http_loopback=False)


def test_production_accepts_only_https_on_public_addresses():
    check_platform_url("jwks_uri", "https://lms.example.org/jwks", allow_http_loopback=False, step="x")
    with pytest.raises(DynamicRegistrationError, match="https"):
        check_platform_url("jwks_uri", "http://127.0.0.1:8000/jwks", allow_http_loopback=False, step="x")
    with pytest.raises(DynamicRegistrationError, match="private address"):
        check_platform_url("jwks_uri", "https://10.0.0.7/jwks", allow_http_loopback=False, step="x")
    # Development may use a platform on this machine over plain http, when the administrator
    # allows loopback addresses (MICROCRED_OUTBOUND_ALLOW); development mode alone does not.
    loopback = OutboundPolicy(allow=parse_allow_list("127.0.0.0/8,::1"))
    check_platform_url("jwks_uri", "http://localhost:8000/jwks", allow_http_loopback=True, step="x", policy=loopback)
    with pytest.raises(DynamicRegistrationError, match="loopback address"):
        check_platform_url("jwks_uri", "http://localhost:8000/jwks", allow_http_loopback=True, step="x")
    with pytest.raises(DynamicRegistrationError, match="https"):
        check_platform_url("jwks_uri", "http://lms.example.org/jwks", allow_http_loopback=True, step="x")


def test_production_refuses_a_public_name_that_resolves_to_an_internal_address(monkeypatch):
    import socket
    answers = {"intranet.example.org": "10.1.2.3", "metadata.example.org": "169.254.169.254",
               "rebound.example.org": "127.0.0.1", "lms.example.org": "93.184.216.34"}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(-2, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    for host in ("intranet.example.org", "metadata.example.org", "rebound.example.org"):
        with pytest.raises(DynamicRegistrationError, match="private address"):
            check_platform_url("openid_configuration URL", f"https://{host}/config", allow_http_loopback=False,
                               step="x")
    check_platform_url("jwks_uri", "https://lms.example.org/jwks", allow_http_loopback=False, step="x")
    check_platform_url("jwks_uri", "https://unknown.example.org/jwks", allow_http_loopback=False, step="x")

# --------------------------------------------------------------------------- fuzzing
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                  max_size=4), max_leaves=12)
CONFIG_KEYS = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint",
               "scopes_supported", "token_endpoint_auth_methods_supported", "id_token_signing_alg_values_supported",
               "authorization_server", "https://purl.imsglobal.org/spec/lti-platform-configuration"]
REPLY_KEYS = ["client_id", "scope", "https://purl.imsglobal.org/spec/lti-tool-configuration"]
ORIGIN = "http://127.0.0.1:9"


def _valid_config():
    return {"issuer": ORIGIN, "authorization_endpoint": ORIGIN + "/auth", "token_endpoint": ORIGIN + "/token",
            "jwks_uri": ORIGIN + "/jwks", "registration_endpoint": ORIGIN + "/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle"}}


class _Raw:
    def __init__(self, data: bytes):
        self._data = data

    def read(self, n=-1, decode_content=True):
        return self._data[:n] if n >= 0 else self._data

    def close(self):
        pass


def _response(status: int, body):
    import requests
    r = requests.Response()
    r.status_code = status
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r.raw = _Raw(r._content)
    r.url = ORIGIN
    r.headers["Content-Type"] = "application/json"
    return r


@hsettings(max_examples=int(os.environ.get("MICROCRED_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config_changes=st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON, max_size=4),
       reply=st.one_of(st.dictionaries(st.sampled_from(REPLY_KEYS) | st.text(max_size=8), JSON, max_size=4),
                       JSON, st.binary(max_size=40)),
       reply_status=st.sampled_from([200, 201, 302, 400, 401, 500]),
       config_url=st.one_of(st.just(ORIGIN + "/conf"), st.sampled_from(["", "ftp://x", "http://[::1", "https://"]),
                            st.text(max_size=20)),
       token=st.none() | st.text(max_size=40))
def test_fuzzed_platform_answers_never_cause_a_server_error(client, services, monkeypatch, config_changes, reply,
                                                           reply_status, config_url, token):
    import lti.registration as registration
    config = {**_valid_config(), **config_changes}

    class FakeSession:
        def __init__(self):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def get(self, url, **kwargs):
            return _response(200, config)

        def post(self, url, **kwargs):
            return _response(reply_status, reply)

    monkeypatch.setattr(registration, "_open_session", lambda policy: FakeSession())
    query = {"openid_configuration": config_url}
    if token is not None:
        query["registration_token"] = token
    before = len(_platforms(services))
    response = client.get("/lti/register", query_string=query, headers={"Accept": "application/json"})
    assert response.status_code in (200, 400, 502), response.text
    stored = len(_platforms(services)) - before
    if response.status_code == 200:
        assert response.get_json()["platform"]["registration_kind"] == "dynamic"
    else:
        assert stored == 0 and response.get_json()["message"]
