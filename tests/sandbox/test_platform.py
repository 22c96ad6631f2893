"""The sandbox is a real platform: it refuses what a real platform refuses."""
from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from jwcrypto.jwk import JWK

from plugin.sandbox.platform import SandboxConfig, SandboxError, SandboxPlatform


@pytest.fixture(scope="module")
def platform():
    return SandboxPlatform(SandboxConfig(base_url="http://platform.test", tool_base_url="http://tool.test"))


def _auth(platform, **over):
    params = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
              "client_id": platform.config.client_id, "redirect_uri": "http://tool.test/lti/launch",
              "nonce": "n", "state": "s", "login_hint": "sandbox-learner-1",
              "lti_message_hint": '{"link": "sandbox-link-1"}'}
    params.update(over)
    return platform.authorize(params)


def test_authorize_builds_a_signed_launch(platform):
    url, fields = _auth(platform)
    assert url == "http://tool.test/lti/launch" and fields["state"] == "s"
    claims = jwt.decode(fields["id_token"], JWK(**platform.jwks()["keys"][0]).export_to_pem(),
                        algorithms=["RS256"], audience=platform.config.client_id)
    assert claims["nonce"] == "n" and claims["sub"] == "sandbox-learner-1"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiResourceLinkRequest"


@pytest.mark.parametrize("over, words", [
    ({"redirect_uri": "http://evil.test/"}, "redirect_uri"),
    ({"client_id": "other"}, "client_id"),
    ({"login_hint": "nobody"}, "login_hint"),
    ({"response_type": "code"}, "response_type"),
    ({"nonce": ""}, "nonce"),
    ({"lti_message_hint": "{not json"}, "json"),
])
def test_authorize_refusals(platform, over, words):
    with pytest.raises(SandboxError, match=f"(?i){words}"):
        _auth(platform, **over)


def test_token_endpoint_checks_the_client_assertion(live):
    from lti.keys import ensure_key
    key = ensure_key(live.services)
    platform = live.platform
    now = int(time.time())

    def assertion(**over):
        claims = {"iss": platform.config.client_id, "sub": platform.config.client_id,
                  "aud": platform.base + "/token", "iat": now, "exp": now + 60, "jti": f"j-{time.time_ns()}"}
        claims.update(over)
        return jwt.encode(claims, key.private_pem, algorithm="RS256",
                          headers={"kid": key.kid})

    def token(a, scope="https://purl.imsglobal.org/spec/lti-ags/scope/score"):
        return requests.post(platform.base + "/token", timeout=10, data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": a, "scope": scope})

    good = assertion()
    assert token(good).status_code == 200
    assert token(good).status_code == 401  # jti reused
    assert token(assertion(aud="http://elsewhere/token")).status_code == 401
    assert token(assertion(iss="someone")).status_code == 401
    assert token(assertion(), scope="unknown-scope").status_code == 400
    other = JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None)
    forged = jwt.encode({"iss": platform.config.client_id, "sub": platform.config.client_id,
                         "aud": platform.base + "/token", "iat": now, "exp": now + 60, "jti": "x"},
                        other, algorithm="RS256", headers={"kid": key.kid})
    assert token(forged).status_code == 401


def test_services_need_a_bearer_token(live):
    base = live.platform.base
    assert requests.get(base + "/api/memberships", timeout=10).status_code == 401
    assert requests.get(base + "/api/lineitems", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401


def test_deep_link_return_refuses_a_forged_response(live):
    other = JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None)
    forged = jwt.encode({"iss": live.platform.config.client_id, "aud": live.platform.issuer,
                         "iat": int(time.time()), "exp": int(time.time()) + 60},
                        other, algorithm="RS256", headers={"kid": "unknown"})
    r = requests.post(live.platform.base + "/deep-link-return", data={"JWT": forged}, timeout=10)
    assert r.status_code == 401


def test_pass_sends_the_open_edx_plugins_signed_webhook(tmp_path, monkeypatch):
    """The token the sandbox sends is the plugin's: the platform as iss, the tool's webhook as aud,
    the learner's LTI sub as external id, signed with the key kept beside the platform key."""
    from plugin.evidence.openedx import EVENT_PASSING
    key_file = tmp_path / "webhook-key.pem"
    sandbox = SandboxPlatform(SandboxConfig(base_url="http://platform.test", tool_base_url="http://tool.test",
                                            webhook_key_file=key_file))
    sent = []

    class Reply:
        status_code = 200

        def json(self):
            return {"results": [{"action": "issued"}]}

    def post(url, data, **kw):
        sent.append((url, data))
        return Reply()
    monkeypatch.setattr(requests, "post", post)
    sandbox.tool_local = "http://127.0.0.1:9"  # server to server, the loopback address
    event = sandbox.pass_learner("sandbox-learner-2", percent=0.9)
    assert event["status"] == 200 and sandbox.passing["sandbox-learner-2"] is event
    (url, token), = sent
    assert url == "http://127.0.0.1:9/api/webhooks/openedx"
    public = serialization.load_pem_public_key(sandbox.webhook_public_pem().encode())
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="http://tool.test/api/webhooks/openedx")
    assert claims["iss"] == "http://platform.test" and claims["event_type"] == EVENT_PASSING
    assert claims["data"]["user"]["external_id"] == "sandbox-learner-2"
    assert claims["data"]["course_key"] == sandbox.course["id"] and claims["data"]["grade"]["percent"] == 0.9
    again = SandboxPlatform(SandboxConfig(base_url="http://platform.test", webhook_key_file=key_file))
    assert again.webhook_public_pem() == sandbox.webhook_public_pem()  # the registered key stays valid
    with pytest.raises(SandboxError, match="not a learner"):
        sandbox.pass_learner("sandbox-instructor")
