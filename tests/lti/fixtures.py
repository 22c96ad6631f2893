"""Shared fixtures for the LTI tests: a real sandbox platform on loopback, login and id_token helpers.

The platform's JWKS is served over real HTTP (werkzeug server on 127.0.0.1, port 0),
and id_tokens are signed with its real RSA key, so the tool verifies exactly as in production.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from plugin.sandbox import SandboxConfig, SandboxPlatform, create_sandbox_app

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
TOOL = "http://tool.test"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


class Server:
    """A WSGI app on a real socket in a thread; ``app`` may be set after the port is known."""

    def __init__(self, app=None):
        self.app = app
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_sandbox(tool_base_url: str, **config) -> tuple[SandboxPlatform, Server]:
    server = Server()
    platform = SandboxPlatform(SandboxConfig(base_url=server.url, tool_base_url=tool_base_url, **config))
    server.app = create_sandbox_app(platform)
    return platform, server


@pytest.fixture(scope="session")
def sandbox():
    """A sandbox platform for a tool at http://tool.test (driven with the Flask test client)."""
    platform, server = start_sandbox(TOOL)
    yield platform
    server.close()


def register(services, platform: SandboxPlatform, **over):
    from lti.platforms import PlatformInput, register_platform
    reg = platform.registration()
    data = PlatformInput(issuer=over.get("issuer", reg["issuer"]), client_id=over.get("client_id", reg["client_id"]),
                         deployment_ids=over.get("deployment_ids", [reg["deployment_id"]]),
                         auth_login_url=reg["auth_login_url"], auth_token_url=reg["auth_token_url"],
                         key_set_url=reg["key_set_url"], name=reg["name"], product=over.get("product", "sandbox"))
    with services.session() as s:
        p, _ = register_platform(s, data)
        return p.id


@pytest.fixture
def registered(services, sandbox):
    return register(services, sandbox)


def do_login(client, platform: SandboxPlatform, *, deep_link=False, client_id=None, method="get", **extra):
    params = {"iss": platform.issuer, "login_hint": "sandbox-learner-1",
              "target_link_uri": TOOL + ("/lti/deep-link" if deep_link else "/lti/launch"),
              "client_id": client_id or platform.config.client_id, "lti_deployment_id": platform.config.deployment_id}
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    r = client.get("/lti/login", query_string=params) if method == "get" else client.post("/lti/login", data=params)
    assert r.status_code == 302, r.data[:500]
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    return q


def claims_for(platform: SandboxPlatform, login_nonce: str, *, role=INSTRUCTOR, deep_link=False, **over):
    now = int(time.time())
    claims = {
        "iss": platform.issuer, "aud": platform.config.client_id, "sub": "user-1",
        "iat": now, "exp": now + 300, "nonce": login_nonce,
        LTI + "version": "1.3.0", LTI + "deployment_id": platform.config.deployment_id,
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "target_link_uri": TOOL + "/lti/launch",
        LTI + "resource_link": {"id": "rl-1", "title": "Link"},
        LTI + "roles": [role],
        LTI + "context": {"id": "course-1", "title": "Course One", "label": "C1"},
        "name": "Pat Example", "email": "pat@example.org",
    }
    if deep_link:
        claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
        claims[LTI + "target_link_uri"] = TOOL + "/lti/deep-link"
        del claims[LTI + "resource_link"]
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": platform.base + "/deep-link-return", "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"], "data": "opaque-data"}
    for key, value in over.items():
        full = key if key in ("iss", "aud", "azp", "sub", "iat", "exp", "nbf", "nonce", "name", "email",
                              "given_name", "family_name", "locale") else LTI + key
        if value is DROP:
            claims.pop(full, None)
        else:
            claims[full] = value
    return claims


DROP = object()


def post_launch(client, token: str, state: str, *, path="/lti/launch", json_errors=False):
    headers = {"Accept": "application/json"} if json_errors else {}
    return client.post(path, data={"id_token": token, "state": state}, headers=headers)


def launch(client, platform, *, deep_link=False, headers=None, **over):
    """Log in, sign claims (with ``over``), post the launch; returns the response."""
    q = do_login(client, platform, deep_link=deep_link)
    token = platform.sign(claims_for(platform, q["nonce"], deep_link=deep_link, **over), **({"headers": headers} if headers is not None else {}))
    return post_launch(client, token, q["state"], json_errors=True)
