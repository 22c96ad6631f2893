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
                              "given_name", "family_name", "locale") or key.startswith("http") else LTI + key
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


# ---------------------------------------------------------------------- real HTTP: tool + sandbox
class Live:
    def __init__(self, tool: Server, services, app, platform: SandboxPlatform, platform_server: Server, platform_id):
        self.tool, self.services, self.app = tool, services, app
        self.platform, self.platform_server, self.platform_id = platform, platform_server, platform_id

    def browser(self):
        import requests
        return Browser(requests.Session())


def start_live(settings, **sandbox_config) -> Live:
    from plugin.app import create_app
    from plugin.services import build_services
    from plugin.settings import Settings
    tool = Server()
    live_settings = Settings.from_env(base_url=tool.url)
    services = build_services(live_settings)
    app = create_app(services=services)
    tool.app = app
    platform, platform_server = start_sandbox(tool.url, **sandbox_config)
    platform_id = register(services, platform)
    return Live(tool, services, app, platform, platform_server, platform_id)


def stop_live(live: Live) -> None:
    live.tool.close()
    live.platform_server.close()
    live.services.engine.dispose()


@pytest.fixture
def live(settings):
    """The tool and the sandbox platform, each on a real socket, the sandbox registered."""
    running = start_live(settings)
    yield running
    stop_live(running)


class Browser:
    """Just enough of a browser: follows redirects, submits the auto-submitting forms."""

    def __init__(self, session):
        self.s = session

    def get(self, url, **kw):
        return self.s.get(url, timeout=30, **kw)

    def submit(self, response, **fields):
        from html.parser import HTMLParser

        class P(HTMLParser):
            action, method, data = None, "get", {}

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "form" and self.action is None:
                    self.action, self.method, self.data = a.get("action"), (a.get("method") or "get").lower(), {}
                if tag == "input" and a.get("name") and self.action is not None:
                    self.data[a["name"]] = a.get("value") or ""
        p = P()
        p.feed(response.text)
        assert p.action, response.text[:500]
        from urllib.parse import urljoin
        data = {**p.data, **fields}
        url = urljoin(response.url, p.action)
        if p.method == "post":
            return self.s.post(url, data=data, timeout=30)
        return self.s.get(url, params=data, timeout=30)

    def launch(self, platform: SandboxPlatform, user: str, *, link=None, deep_link=False):
        """Platform login initiation -> tool login -> platform auth -> form post to the tool's launch."""
        page = self.get(platform.login_initiation_url(user, link=link, deep_link=deep_link))
        assert page.status_code == 200, page.text[:500]
        return self.submit(page)
