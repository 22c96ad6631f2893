"""Rate limits: 429 with Retry-After and a sentence saying what was limited and when to retry.

The limits are lowered per test through the settings the views read (MICROCRED_RATELIMIT_*).
"""
from __future__ import annotations

import pytest

from plugin.cli.admin import create_admin
from tests.bridges_support import SigningKey, make_definition, make_platform, passing_claims
from tests.evidence.fake_platforms import _Server


def _assert_429(response, *words):
    assert response.status_code == 429, (response.status_code, response.get_data(as_text=True)[:300])
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 86400
    text = response.get_data(as_text=True)
    for word in words:
        assert word in text, (word, text[:500])
    return seconds


def test_registration_is_limited_per_address(client, services):
    services.settings.ratelimit_registration = "2 per minute"
    for _ in range(2):
        assert client.get("/lti/register", query_string={"openid_configuration": "https://"}).status_code == 400
    page = client.get("/lti/register", query_string={"openid_configuration": "https://"})
    _assert_429(page, "Too many registration requests from this address: try again in")
    answer = client.get("/lti/register", query_string={"openid_configuration": "https://"},
                        headers={"Accept": "application/json"})
    _assert_429(answer)
    assert abs(answer.get_json()["retry_after"] - int(answer.headers["Retry-After"])) <= 1
    # Another address has its own budget.
    other = client.get("/lti/register", query_string={"openid_configuration": "https://"},
                       environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 400


def test_uploads_to_verify_share_one_budget_per_address(client, services):
    services.settings.ratelimit_verify = "2 per minute"
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/verify", data={"text": "{}"}).status_code in (200, 400)
    assert client.post("/api/verify", data=b"{}", content_type="application/json").status_code in (200, 400)
    _assert_429(client.post("/api/verify", data=b"{}", content_type="application/json"),
                "uploads to verify from this address")
    _assert_429(client.post("/verify?lang=fr", data={"text": "{}"}), "Trop de requêtes", "réessayez dans")
    assert client.get("/verify").status_code == 200  # reading the page is not limited


def test_the_login_limit_says_when_to_try_again(client, services):
    from tests.web.admin.test_admin import _csrf
    create_admin(services, "root", "a very long password")
    token = _csrf(client.get("/admin/login").get_data(as_text=True))
    for _ in range(5):
        client.post("/admin/login", data={"csrf_token": token, "username": "root", "password": "wrong"})
    _assert_429(client.post("/admin/login", data={"csrf_token": token, "username": "root", "password": "wrong"}),
                "Too many failed sign-in attempts: try again in")


@pytest.fixture
def two_platforms(services):
    keys = {"https://a.example.org": SigningKey(), "https://b.example.org": SigningKey()}
    with services.session() as s:
        for n, (issuer, key) in enumerate(keys.items()):
            platform = make_platform(s, issuer=issuer, client_id=f"c{n}", bridge={"openedx": {"webhook_jwks": key.jwks}})
            make_definition(s, policy={"source": "openedx_webhook", "issuance": "on_claim"}, issuer=issuer,
                            platform_id=platform.id)
    return keys


def test_the_webhook_is_limited_per_platform(client, services, two_platforms):
    services.settings.ratelimit_webhook = "3 per minute"
    (a, key_a), (b, key_b) = two_platforms.items()
    for _ in range(3):
        assert client.post("/api/webhooks/openedx", data=key_a.sign(passing_claims(iss=a)),
                           content_type="application/jwt").status_code == 200
    limited = client.post("/api/webhooks/openedx", data=key_a.sign(passing_claims(iss=a)),
                          content_type="application/jwt")
    _assert_429(limited, "webhook deliveries from this platform")
    assert limited.get_json()["status"] == 429
    # The other platform is not held up by the first one's deliveries.
    assert client.post("/api/webhooks/openedx", data=key_b.sign(passing_claims(iss=b)),
                       content_type="application/jwt").status_code == 200


def test_unknown_webhook_kids_refetch_the_key_set_once_per_minute(client, services):
    key = SigningKey()
    jwks_server = _Server(lambda method, path, query, form, headers: (200, key.jwks))
    try:
        with services.session() as s:
            platform = make_platform(s, bridge={"openedx": {"webhook_jwks_url": jwks_server.url + "/jwks.json"}})
            make_definition(s, policy={"source": "openedx_webhook", "issuance": "on_claim"}, platform_id=platform.id)

        def post(kid):
            token = SigningKey(kid=kid).sign(passing_claims()) if kid != key.kid else key.sign(passing_claims())
            return client.post("/api/webhooks/openedx", data=token, content_type="application/jwt")
        assert post(key.kid).status_code == 200
        assert len(jwks_server.requests) == 1
        unknown = post("made-up-1")  # refetched at once (a rotation would be found now)
        assert unknown.status_code == 401 and len(jwks_server.requests) == 2
        limited = post("made-up-2")  # within the minute: not fetched again
        _assert_429(limited, "fetched again moments ago")
        assert limited.get_json()["error"] == "rate_limited"
        assert len(jwks_server.requests) == 2
        assert post(key.kid).status_code == 200 and len(jwks_server.requests) == 2
    finally:
        jwks_server.close()
