"""The LTI blueprint: role homes, deep-linking pages and response, iframe headers, cookies."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
from jwcrypto.jwk import JWK
from sqlalchemy import func, select

from plugin.storage.models import CredentialDefinition, Platform
from tests.lti.fixtures import DROP, INSTRUCTOR, LEARNER, LTI, TOOL, launch, register
from tests.lti.fixtures import registered, sandbox  # noqa: F401  (fixtures)

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def _launch_id(location):
    return parse_qs(urlsplit(location).query)["launch"][0]


def test_roles_land_on_their_home_pages(client, sandbox, registered):
    for role, path, heading in ((INSTRUCTOR, "/instructor/", b"Credential of Course One"),
                                (LEARNER, "/learner/", b"Your micro-credential"),
                                (ADMIN, "/admin/", b"<h1>Administration</h1>")):
        r = launch(client, sandbox, roles=[role])
        assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == path
        assert _launch_id(r.headers["Location"])
        page = client.get(r.headers["Location"])
        assert page.status_code == 200 and heading in page.data


def test_roles_land_on_the_placeholder_when_role_pages_are_missing(services, sandbox, registered, monkeypatch):
    # A deployment without the role blueprints (the LTI layer alone) still lands every role somewhere useful.
    import plugin.web
    from plugin.app import create_app
    monkeypatch.setattr(plugin.web, "BLUEPRINT_MODULES", [
        m for m in plugin.web.BLUEPRINT_MODULES
        if m not in ("plugin.web.instructor", "plugin.web.learner.routes", "plugin.web.admin")])
    client = create_app(services=services).test_client()
    for role, label in ((INSTRUCTOR, b"Instructor"), (LEARNER, b"Learner"), (ADMIN, b"Administrator")):
        r = launch(client, sandbox, roles=[role])
        assert r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/lti/launched"
        page = client.get(r.headers["Location"])
        assert page.status_code == 200 and label in page.data and b"Course One" in page.data


def test_placeholder_needs_a_launch(client):
    assert client.get("/lti/launched").status_code == 401
    assert client.get("/lti/launched?launch=forged").status_code == 401


def test_get_on_launch_is_a_clear_4xx(client):
    r = client.get("/lti/launch")
    assert r.status_code == 400 and b"open the tool from your course" in r.data


def test_frame_ancestors_name_only_the_launching_platform(client, services, sandbox, registered):
    with services.session() as s:  # another registered platform may not frame this one's pages
        s.add(Platform(issuer="https://other-lms.example.org", client_id="c2", name="Other",
                       auth_login_url="https://login.other-lms.example.org/auth",
                       auth_token_url="https://other-lms.example.org/token"))
    r = client.get("/lti/login", query_string={"iss": sandbox.issuer})
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith(f"frame-ancestors 'self' {sandbox.base};")
    assert "X-Frame-Options" not in r.headers
    # a launch flow page naming no registered platform: only the tool itself
    assert client.get("/lti/login").headers["Content-Security-Policy"].startswith("frame-ancestors 'self';")
    # pages outside a launch cannot be framed at all
    home = client.get("/")
    assert home.headers["Content-Security-Policy"].startswith("frame-ancestors 'none';")
    assert home.headers["X-Frame-Options"] == "DENY"


def _dl_launch(client, sandbox, **over):
    r = launch(client, sandbox, deep_link=True, **over)
    assert r.status_code == 303, r.data
    return r.headers["Location"], _launch_id(r.headers["Location"])


def test_deep_linking_response_is_signed_and_names_the_definition(client, services, sandbox, registered):
    location, launch_id = _dl_launch(client, sandbox)
    page = client.get(location)
    assert page.status_code == 200 and b"Course One" in page.data
    r = client.post("/lti/deep-link/respond", data={"launch": launch_id, "title": "Earn the badge"})
    assert r.status_code == 200
    html = r.data.decode()
    assert f'action="{sandbox.base}/deep-link-return"' in html
    token = html.split('name="JWT" value="')[1].split('"')[0]
    header = jwt.get_unverified_header(token)
    keys = client.get("/lti/jwks").get_json()["keys"]
    key = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(token, JWK(**key).export_to_pem(), algorithms=["RS256"], audience=sandbox.issuer)
    assert claims["iss"] == sandbox.config.client_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == sandbox.config.deployment_id
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-data"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == TOOL + "/lti/launch" and item["title"] == "Earn the badge"
    with services.session() as s:
        definition = s.scalars(select(CredentialDefinition)).one()
        assert item["custom"]["microcred_definition"] == definition.public_id and not definition.enabled
    # adding the tool a second time reuses the course's definition
    _, second = _dl_launch(client, sandbox)
    client.post("/lti/deep-link/respond", data={"launch": second})
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(CredentialDefinition)) == 1


def test_deep_linking_refusals(client, sandbox, registered):
    _, learner_launch = _dl_launch(client, sandbox, roles=[LEARNER])
    r = client.post("/lti/deep-link/respond", data={"launch": learner_launch})
    assert r.status_code == 403 and b"only instructors" in r.data
    _, no_context = _dl_launch(client, sandbox, context=DROP)
    assert client.get(f"/lti/deep-link/select?launch={no_context}").status_code == 409
    assert client.post("/lti/deep-link/respond", data={"launch": "forged"}).status_code == 401
    resource = launch(client, sandbox)
    assert client.post("/lti/deep-link/respond",
                       data={"launch": _launch_id(resource.headers["Location"])}).status_code == 409


def test_deep_linking_request_must_accept_resource_links(client, sandbox, registered):
    settings = {"deep_link_return_url": sandbox.base + "/r", "accept_types": ["file"],
                "accept_presentation_document_targets": ["iframe"]}
    r = launch(client, sandbox, deep_link=True,
               **{"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": settings})
    assert r.status_code == 400 and "ltiResourceLink" in r.get_json()["message"]


def test_cookies_are_samesite_none_secure_on_https(settings, sandbox):
    from plugin.app import create_app
    from plugin.services import build_services
    from plugin.settings import Settings
    svc = build_services(Settings.from_env(base_url="https://tool.test"))
    try:
        register(svc, sandbox)
        client = create_app(services=svc).test_client()
        r = client.get("/lti/login", query_string={"iss": sandbox.issuer, "login_hint": "u",
                                                    "target_link_uri": "https://tool.test/lti/launch"})
        assert r.status_code == 302
        cookie = r.headers["Set-Cookie"]
        assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    finally:
        svc.engine.dispose()


def test_cookie_check_page(client):
    r = client.get("/lti/cookie-check", query_string={"next": "/admin/?launch=abc"})
    assert r.status_code == 200
    assert b'"/admin/?launch=abc"' in r.data and b"new window" in r.data
    assert b"SameSite=Lax" in r.data  # http base URL; https gets SameSite=None; Secure
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil", "", "admin"):
        assert client.get("/lti/cookie-check", query_string={"next": bad}).status_code == 400


def test_launch_claims_are_kept_server_side(app, client, sandbox, registered):
    from plugin.web.lti.routes import launch_claims
    r = launch(client, sandbox, sub="kept-1")
    with app.test_request_context():
        claims = launch_claims(_launch_id(r.headers["Location"]))
        assert claims["sub"] == "kept-1"
        assert launch_claims("unknown") is None
