"""The admin area: local sign-in (rate-limited), issuers, keys, platforms, bridges, audit log."""
from __future__ import annotations

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from plugin.cli.admin import create_admin
from plugin.storage.models import AuditLog, Issuer, IssuerPlatform, Platform
from tests.net.servers import allow_outbound
from tests.web.helpers import launch, make_platform


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


@pytest.fixture
def admin_client(client, services):
    create_admin(services, "root", "a very long password")
    page = client.get("/admin/login").get_data(as_text=True)
    resp = client.post("/admin/login", data={"csrf_token": _csrf(page), "username": "root",
                                             "password": "a very long password"})
    assert resp.status_code == 302
    return client


def test_login_logout(client, services):
    create_admin(services, "root", "a very long password")
    assert client.get("/admin/").status_code == 401
    page = client.get("/admin/login").get_data(as_text=True)
    bad = client.post("/admin/login", data={"csrf_token": _csrf(page), "username": "root", "password": "nope"})
    assert bad.status_code == 401
    assert "Unknown username or wrong password" in bad.get_data(as_text=True)
    good = client.post("/admin/login", data={"csrf_token": _csrf(page), "username": "root",
                                             "password": "a very long password"})
    assert good.status_code == 302
    home = client.get("/admin/")
    assert home.status_code == 200 and "Issuers" in home.get_data(as_text=True)
    out = client.post("/admin/logout", data={"csrf_token": _csrf(home.get_data(as_text=True))})
    assert out.status_code == 302
    assert client.get("/admin/").status_code == 401


def test_login_without_csrf_is_refused(client, services):
    create_admin(services, "root", "a very long password")
    resp = client.post("/admin/login", data={"username": "root", "password": "a very long password"})
    assert resp.status_code == 400
    assert client.get("/admin/").status_code == 401


def test_sixth_bad_attempt_in_a_minute_gets_429(client, services):
    create_admin(services, "root", "a very long password")
    page = client.get("/admin/login").get_data(as_text=True)
    token = _csrf(page)
    for _ in range(5):
        assert client.post("/admin/login", data={"csrf_token": token, "username": "root",
                                                 "password": "wrong"}).status_code == 401
    sixth = client.post("/admin/login", data={"csrf_token": token, "username": "root",
                                              "password": "a very long password"})
    assert sixth.status_code == 429
    assert "Retry-After" in sixth.headers
    assert client.get("/admin/").status_code == 401


def _issuer_form(client, url, **fields):
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": _csrf(page), "name": "Université de Lille", "slug": "univ-lille",
            "url": "https://www.univ-lille.fr", "email": "contact@univ-lille.fr", "country": "FR",
            "region": "Hauts-de-France", "legal_identifiers": "SIREN: 130 029 747\nUAI: 0597239Y",
            "quality_assurance": "Hcéres external evaluation", "accreditation": ""}
    data.update(fields)
    return client.post(url, data=data, content_type="multipart/form-data")


def test_create_issuer_with_logo_and_platforms(admin_client, services):
    pid = make_platform(services)
    png = io.BytesIO()
    from PIL import Image
    Image.new("RGB", (8, 8), "blue").save(png, "PNG")
    resp = _issuer_form(admin_client, "/admin/issuers/new", platforms=[str(pid)],
                        logo=(io.BytesIO(png.getvalue()), "logo.png"))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        issuer = s.scalar(select(Issuer))
        assert issuer.name == "Université de Lille"
        assert issuer.profile["country_code"] == "FR" and issuer.profile["legal_name"] == "Université de Lille"
        assert {"scheme": "SIREN", "value": "130 029 747", "label": ""} in issuer.profile["legal_identifiers"]
        assert issuer.profile["logo"].startswith("data:image/png;base64,")
        assert issuer.logo_mime == "image/png"
        assert s.scalar(select(IssuerPlatform)).platform_id == pid
        assert s.scalar(select(AuditLog).where(AuditLog.action == "issuer.create")).actor == "admin:root"
        assert {k.algorithm for k in issuer.keys} == {"Ed25519", "RS256"}  # keys made with the issuer
    listing = admin_client.get("/admin/issuers").get_data(as_text=True)
    assert "Université de Lille" in listing


def test_issuer_errors_are_shown_next_to_fields_and_nothing_is_saved(admin_client, services):
    resp = _issuer_form(admin_client, "/admin/issuers/new", country="", slug="Bad Slug",
                        legal_identifiers="no scheme here",
                        logo=(io.BytesIO(b"GIF89a not allowed"), "logo.gif"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="country-error"' in html and "Choose the issuer" in html
    assert 'id="slug-error"' in html
    assert 'id="legal_identifiers-error"' in html
    with services.session() as s:
        assert s.scalar(select(Issuer)) is None


def test_logo_type_and_size_are_checked(admin_client, services):
    resp = _issuer_form(admin_client, "/admin/issuers/new", logo=(io.BytesIO(b"GIF89a..."), "logo.gif"))
    assert resp.status_code == 400 and "PNG or JPEG" in resp.get_data(as_text=True)
    big = b"\x89PNG\r\n\x1a\n" + b"0" * (600 * 1024)
    resp = _issuer_form(admin_client, "/admin/issuers/new", logo=(io.BytesIO(big), "logo.png"))
    assert resp.status_code == 400 and "512 KB" in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.scalar(select(Issuer)) is None


def test_register_platform_manually(admin_client, services):
    page = admin_client.get("/admin/platforms/new").get_data(as_text=True)
    data = {"csrf_token": _csrf(page), "name": "Faculty Moodle", "product": "moodle",
            "issuer": "https://moodle.example.edu", "client_id": "abc123",
            "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
            "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
            "key_set_url": "https://moodle.example.edu/mod/lti/certs.php", "deployment_ids": "7, 8"}
    resp = admin_client.post("/admin/platforms/new", data=data)
    assert resp.status_code == 302
    with services.session() as s:
        p = s.scalar(select(Platform).where(Platform.client_id == "abc123"))
        assert sorted(d.deployment_id for d in p.deployments) == ["7", "8"]
        assert p.registration_kind == "manual"
    again = admin_client.post("/admin/platforms/new", data=data)
    assert again.status_code == 400 and "already registered" in again.get_data(as_text=True)
    listing = admin_client.get("/admin/platforms").get_data(as_text=True)
    assert "Faculty Moodle" in listing and "7, 8" in listing


def test_bridge_secrets_are_sealed_and_never_shown(admin_client, services):
    pid = make_platform(services)
    page = admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    resp = admin_client.post(f"/admin/platforms/{pid}", data={
        "csrf_token": _csrf(page), "moodle_url": "https://lms.example.edu",
        "moodle_token": "moodle-secret-token-123"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        p = s.get(Platform, pid)
        sealed = p.bridge_settings["moodle"]["token_sealed"]
        assert "moodle-secret-token-123" not in str(p.bridge_settings)
        from plugin.storage.secrets import platform_secret_context
        assert services.secrets.open(sealed, platform_secret_context(pid, "moodle.token_sealed")) == b"moodle-secret-token-123"
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "platform.bridge_updated"))
        assert "moodle-secret-token-123" not in str(audit.details)
    html = admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    assert "moodle-secret-token-123" not in html
    configured = html[html.index('id="configured"'):html.index("</section>", html.index('id="configured"'))]
    assert 'data-key="token"><span class="secret-set">stored encrypted (not displayed)' in configured
    assert "= set" not in configured and "https://lms.example.edu" in configured  # the URL is not a secret
    # changing only the URL keeps the sealed token
    admin_client.post(f"/admin/platforms/{pid}", data={"csrf_token": _csrf(html), "moodle_url": "https://moodle2.example.edu"})
    with services.session() as s:
        p = s.get(Platform, pid)
        assert p.bridge_settings["moodle"] == {"url": "https://moodle2.example.edu", "token_sealed": sealed}


def test_bridge_errors_are_shown_and_nothing_is_saved(admin_client, services):
    pid = make_platform(services)
    page = admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    resp = admin_client.post(f"/admin/platforms/{pid}", data={
        "csrf_token": _csrf(page), "moodle_url": "https://lms.example.edu", "moodle_token": "tok",
        "openedx_webhook_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
        "openedx_api_url": "https://lms.example.edu"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="openedx_webhook_key-error"' in html and "private key" in html
    assert 'id="openedx_client_secret-error"' in html
    with services.session() as s:
        assert s.get(Platform, pid).bridge_settings == {}


class _FakeMoodle(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if "wstoken=good" in self.path + body:
            self.wfile.write(b'{"grades": [], "warnings": []}')
        else:
            self.wfile.write(b'{"exception": "moodle_exception", "errorcode": "invalidtoken", "message": "Invalid token - token not found"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_moodle():
    server = HTTPServer(("127.0.0.1", 0), _FakeMoodle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _set_token(client, pid, base, token):
    page = client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    client.post(f"/admin/platforms/{pid}", data={"csrf_token": _csrf(page), "moodle_url": base,
                                                 "moodle_token": token})
    return _csrf(page)


def _test(client, pid, token):
    return client.post(f"/admin/platforms/{pid}/test", data={"csrf_token": token}).get_data(as_text=True)


def test_connection_test_says_exactly_what_failed(admin_client, services, fake_moodle):
    pid = make_platform(services)
    token = _csrf(admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True))
    assert "no bridge is configured" in _test(admin_client, pid, token)
    _set_token(admin_client, pid, fake_moodle, "bad")
    html = _test(admin_client, pid, token)
    assert "failed" in html and "Invalid token - token not found (invalidtoken)" in html
    _set_token(admin_client, pid, fake_moodle, "good")
    html = _test(admin_client, pid, token)
    assert "works" in html and "accepted the token" in html
    _set_token(admin_client, pid, "http://127.0.0.1:9", "good")
    html = _test(admin_client, pid, token)
    assert "failed" in html and "127.0.0.1:9" in html
    with services.session() as s:
        assert s.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "platform.connection_tested")) == 4


def test_lti_admin_sees_only_their_platform(client, services):
    other = make_platform(services, issuer="https://other.example.edu", name="Other LMS")
    mine = make_platform(services, issuer="https://mine.example.edu", name="My LMS")
    lid = launch(services, ["admin"], platform_id=mine)
    html = client.get(f"/admin/platforms?launch={lid}").get_data(as_text=True)
    assert "My LMS" in html and "Other LMS" not in html
    assert client.get(f"/admin/platforms/{other}?launch={lid}").status_code == 404
    assert client.get(f"/admin/platforms/new?launch={lid}").status_code == 403
    # an issuer created from the launch is linked to the admin's platform, and only that one
    resp = _issuer_form(client, f"/admin/issuers/new?launch={lid}", launch=lid, platforms=[str(other)])
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        assert [r.platform_id for r in s.scalars(select(IssuerPlatform))] == [mine]


def test_audit_log_lists_configuration_changes(admin_client, services):
    _issuer_form(admin_client, "/admin/issuers/new")
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "issuer.create" in html and "root (administrator)" in html and "admin.login" in html
    filtered = admin_client.get("/admin/audit?action=issuer").get_data(as_text=True)
    assert "issuer.create" in filtered and "admin.login" not in filtered


def test_rotate_keys_keeps_old_ones_resolvable(admin_client, services):
    _issuer_form(admin_client, "/admin/issuers/new")
    with services.session() as s:
        issuer_id = s.scalar(select(Issuer)).id
    page = admin_client.get(f"/admin/issuers/{issuer_id}/keys")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "did:web:" in html and "verificationMethod" in html  # what verifiers read
    resp = admin_client.post(f"/admin/issuers/{issuer_id}/keys/rotate", data={"csrf_token": _csrf(html)})
    assert resp.status_code == 302
    with services.session() as s:
        keys = s.scalar(select(Issuer)).keys
        assert len(keys) == 4 and sum(k.retired_at is None for k in keys) == 2
        old = [k.key_id for k in keys if k.retired_at is not None]
        assert s.scalar(select(AuditLog).where(AuditLog.action == "issuer.keys.rotate")).actor == "admin:root"
    html = admin_client.get(f"/admin/issuers/{issuer_id}/keys").get_data(as_text=True)
    assert all(f"#{k}" in html for k in old)  # retired keys still listed in the DID document
    assert html.count("still resolvable") == 2


def test_edit_issuer_keeps_slug(admin_client, services):
    _issuer_form(admin_client, "/admin/issuers/new")
    with services.session() as s:
        issuer_id = s.scalar(select(Issuer)).id
    resp = _issuer_form(admin_client, f"/admin/issuers/{issuer_id}", slug="other-slug")
    assert resp.status_code == 400 and "cannot change" in resp.get_data(as_text=True)
    resp = _issuer_form(admin_client, f"/admin/issuers/{issuer_id}", region="Nord")
    assert resp.status_code == 302
    with services.session() as s:
        assert s.scalar(select(Issuer)).profile["region"] == "Nord"


def test_label_profiles_listed_and_an_admin_adds_one(admin_client, services):
    import json
    html = admin_client.get("/admin/labels").get_data(as_text=True)
    assert "GRADEO" in html and "study-hours" in html and "between 100 and 150 hours" in html
    assert "shipped with the tool" in html  # the profiles under plugin/data/labels are marked as shipped
    bad = json.dumps({"id": "x", "name": {"en": "X"}, "rules": [{"id": "r", "any_of": [[{"field": "nope", "min": 1}]],
                                                                   "message": {"en": "m"}}]})
    resp = admin_client.post("/admin/labels", data={"csrf_token": _csrf(html), "file": (io.BytesIO(bad.encode()), "x.json")},
                             content_type="multipart/form-data")
    assert resp.status_code == 400 and "unknown definition field" in resp.get_data(as_text=True)
    good = json.dumps({"id": "short-course", "name": {"en": "Short course", "fr": "Cours court"},
                       "rules": [{"id": "max-hours", "any_of": [[{"field": "workload_hours", "max": 30}]],
                                  "message": {"en": "At most 30 hours.", "fr": "30 heures au plus."}}]})
    resp = admin_client.post("/admin/labels", data={"csrf_token": _csrf(html), "file": (io.BytesIO(good.encode()), "s.json")},
                             content_type="multipart/form-data")
    assert resp.status_code == 302
    assert (services.settings.instance_dir / "labels" / "short-course.json").is_file()
    html = admin_client.get("/admin/labels").get_data(as_text=True)
    assert "Short course" in html and "At most 30 hours." in html
    assert html.count("shipped with the tool") == 1  # the uploaded one is not
    # instructors can now claim it
    from plugin.domain.labels import load_profiles
    assert "short-course" in load_profiles([services.settings.instance_dir / "labels"])
    with services.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "label_profile.saved")).target_id == "short-course"


def test_lti_admin_cannot_add_label_profiles(client, services):
    lid = launch(services, ["admin"])
    html = client.get(f"/admin/labels?launch={lid}").get_data(as_text=True)
    assert "GRADEO" in html and "Add or replace" not in html
    token = _csrf(client.get(f"/admin/issuers/new?launch={lid}").get_data(as_text=True))
    resp = client.post(f"/admin/labels?launch={lid}", data={"launch": lid, "csrf_token": token})
    assert resp.status_code == 403


def test_admin_rotates_the_tool_key_from_the_platforms_page(admin_client, services):
    page = admin_client.get("/admin/platforms").get_data(as_text=True)
    old = re.search(r'id="tool-key-active">([^<]+)<', page).group(1)
    assert old == admin_client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    assert 'id="retire-tool-keys"' not in page  # nothing to retire yet
    resp = admin_client.post("/admin/tool-key/rotate", data={"csrf_token": _csrf(page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    new = re.search(r'id="tool-key-active">([^<]+)<', html).group(1)
    assert new != old and f"new key ({new})" in html
    assert [k["kid"] for k in admin_client.get("/lti/jwks").get_json()["keys"]] == [new, old]
    with services.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "tool_key.rotate")).target_id == new
    resp = admin_client.post("/admin/tool-key/retire", data={"csrf_token": _csrf(html)}, follow_redirects=True)
    assert "no longer published" in resp.get_data(as_text=True)
    assert [k["kid"] for k in admin_client.get("/lti/jwks").get_json()["keys"]] == [new]
    assert admin_client.post("/admin/tool-key/rotate", data={}).status_code == 400  # no CSRF token


def test_lti_admin_of_one_platform_cannot_rotate_the_tool_key(client, services):
    mine = make_platform(services, issuer="https://mine.example.edu", name="My LMS")
    lid = launch(services, ["admin"], platform_id=mine)
    html = client.get(f"/admin/platforms?launch={lid}").get_data(as_text=True)
    assert 'id="rotate-tool-key"' not in html
    form_page = client.get(f"/admin/platforms/{mine}?launch={lid}").get_data(as_text=True)
    resp = client.post(f"/admin/tool-key/rotate?launch={lid}", data={"csrf_token": _csrf(form_page), "launch": lid})
    assert resp.status_code == 403 and "whole instance" in resp.get_data(as_text=True)
def _course(services, platform_id, context_id, title):
    from plugin.storage.models import Course
    with services.session() as s:
        platform = s.get(Platform, platform_id)
        course = Course(platform_issuer=platform.issuer, context_id=context_id, title=title, platform_id=platform_id)
        s.add(course)
        s.flush()
        return course.id


def test_issuer_limited_to_some_courses(admin_client, services):
    from plugin.storage.models import IssuerCourse
    pid = make_platform(services)
    stats = _course(services, pid, "stats-101", "Statistics 101")
    _course(services, pid, "art-101", "Art history")
    page = admin_client.get("/admin/issuers/new").get_data(as_text=True)
    assert "Courses that may use this issuer" in page and "Statistics 101 (stats-101)" in page
    resp = _issuer_form(admin_client, "/admin/issuers/new", platforms=[str(pid)], courses=[str(stats)])
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with services.session() as s:
        issuer = s.scalar(select(Issuer))
        assert [r.course_id for r in s.scalars(select(IssuerCourse))] == [stats]
        assert s.scalar(select(AuditLog).where(AuditLog.action == "issuer.courses")).details["courses"] == [stats]
    edit = admin_client.get(f"/admin/issuers/{issuer.id}").get_data(as_text=True)
    assert re.search(rf'value="{stats}"[^>]*checked|checked[^>]*value="{stats}"', edit)
    # unticking every course lifts the restriction
    resp = _issuer_form(admin_client, f"/admin/issuers/{issuer.id}", platforms=[str(pid)])
    assert resp.status_code == 302
    with services.session() as s:
        assert s.scalar(select(func.count(IssuerCourse.id))) == 0


def test_a_course_on_a_platform_the_issuer_is_not_allowed_on_is_refused(admin_client, services):
    from plugin.storage.models import IssuerCourse
    allowed = make_platform(services)
    other = make_platform(services, issuer="https://other.example.edu", name="Other LMS")
    elsewhere = _course(services, other, "c-9", "Elsewhere")
    resp = _issuer_form(admin_client, "/admin/issuers/new", platforms=[str(allowed)], courses=[str(elsewhere)])
    assert resp.status_code == 400
    assert "not allowed on" in resp.get_data(as_text=True) and "Elsewhere" in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.scalar(select(func.count(IssuerCourse.id))) == 0 and s.scalar(select(Issuer)) is None


def test_connection_test_speaks_french_to_a_french_admin(client, services, fake_moodle):
    pid = make_platform(services)
    lid = launch(services, ["admin"], platform_id=pid, locale="fr-FR")
    url = f"/admin/platforms/{pid}?launch={lid}"
    token = _csrf(client.get(url).get_data(as_text=True))
    test = f"/admin/platforms/{pid}/test?launch={lid}"
    html = client.post(test, data={"csrf_token": token, "launch": lid}).get_data(as_text=True)
    assert "aucune passerelle n&#39;est configurée" in html or "aucune passerelle n'est configurée" in html
    client.post(url, data={"csrf_token": token, "launch": lid, "moodle_url": fake_moodle, "moodle_token": "bad"})
    html = client.post(test, data={"csrf_token": token, "launch": lid}).get_data(as_text=True)
    assert "services web Moodle" in html
    assert "Moodle a refusé gradereport_overview_get_course_grades : Invalid token - token not found (invalidtoken)" in html
    assert "le jeton de service web Moodle est faux ou a été supprimé" in html
    client.post(url, data={"csrf_token": token, "launch": lid, "moodle_url": fake_moodle, "moodle_token": "good"})
    html = client.post(test, data={"csrf_token": token, "launch": lid}).get_data(as_text=True)
    assert f"Services web Moodle OK : {fake_moodle} a accepté le jeton" in html
    assert "accepted the token" not in html
    with services.session() as s:  # the audit log keeps the English wording
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "platform.connection_tested")).all()
        assert rows[-1].details["results"][0]["message"].endswith("accepted the token")


def test_a_forged_launch_id_does_not_bypass_csrf_for_a_signed_in_admin(admin_client, app, services):
    # An attacker gets a CSRF token bound to a made-up launch id from any public page...
    attacker = app.test_client()
    forged = "made-up-launch-id"
    token = _csrf(attacker.get(f"/admin/login?launch={forged}").get_data(as_text=True))
    before = admin_client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    # ...and makes the signed-in admin's browser post it cross-site (SameSite=None session cookie).
    resp = admin_client.post("/admin/tool-key/rotate", data={"csrf_token": token, "launch": forged})
    assert resp.status_code == 400
    assert admin_client.get("/lti/jwks").get_json()["keys"][0]["kid"] == before


def test_a_platform_admin_cannot_point_bridges_at_internal_addresses(client, admin_client, app, services, monkeypatch):
    import socket
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: (
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))] if host == "moodle.intranet.example.org"
        else real(host, port, *a, **k)))
    pid = make_platform(services)
    lid = launch(services, ["admin"], platform_id=pid)
    lti_admin = app.test_client()
    url = f"/admin/platforms/{pid}?launch={lid}"
    token = _csrf(lti_admin.get(url).get_data(as_text=True))
    for target in ("https://169.254.169.254/latest", "https://10.0.0.5/moodle", "https://moodle.intranet.example.org"):
        resp = lti_admin.post(url, data={"csrf_token": token, "launch": lid, "moodle_url": target, "moodle_token": "t"})
        assert resp.status_code == 400 and "local or private" in resp.get_data(as_text=True), target
        resp = lti_admin.post(url, data={"csrf_token": token, "launch": lid, "openedx_webhook_jwks_url": target})
        assert resp.status_code == 400 and "local or private" in resp.get_data(as_text=True), target
    with services.session() as s:
        assert s.get(Platform, pid).bridge_settings in (None, {})
    # Nor may the instance's own administrator (the tool would refuse to call it anyway)...
    page = admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    data = {"csrf_token": _csrf(page), "moodle_url": "https://10.0.0.5/moodle", "moodle_token": "t"}
    resp = admin_client.post(f"/admin/platforms/{pid}", data=data)
    assert resp.status_code == 400 and "MICROCRED_OUTBOUND_ALLOW" in resp.get_data(as_text=True)
    # ...until the deployment allows that network (a Moodle on the campus network).
    allow_outbound(services, "10.0.0.0/8")
    assert admin_client.post(f"/admin/platforms/{pid}", data=data).status_code == 302


def test_a_carrier_grade_nat_address_is_internal_too(admin_client, services):
    # Defect 10 of issue 11: 100.64.0.0/10 passed the old check (Python's is_private is false there).
    pid = make_platform(services)
    page = admin_client.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    for field in ("moodle_url", "openedx_api_url", "openedx_webhook_jwks_url"):
        data = {"csrf_token": _csrf(page), field: "https://100.100.100.200/", "moodle_token": "t",
                "openedx_client_id": "c", "openedx_client_secret": "s"}
        resp = admin_client.post(f"/admin/platforms/{pid}", data=data)
        assert resp.status_code == 400, field
        assert "100.100.100.200" in resp.get_data(as_text=True)
    with services.session() as s:
        assert s.get(Platform, pid).bridge_settings in (None, {})


def test_linkedin_organization_id_is_validated_with_help_and_kept_as_digits(admin_client, services):
    form = admin_client.get("/admin/issuers/new").get_data(as_text=True)
    assert 'id="linkedin_organization_id"' in form and "linkedin.com/company/12345678/admin/" in form
    assert 'inputmode="numeric"' in form
    bad = _issuer_form(admin_client, "/admin/issuers/new", linkedin_organization_id="univ-lille")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="linkedin_organization_id-error"' in html and "digits only" in html
    with services.session() as s:
        assert s.scalar(select(Issuer)) is None
    ok = _issuer_form(admin_client, "/admin/issuers/new",
                      linkedin_organization_id=" https://www.linkedin.com/company/12345678/admin/ ")
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with services.session() as s:
        issuer = s.scalar(select(Issuer))
        assert issuer.profile["linkedin_organization_id"] == "12345678"
        issuer_id = issuer.id
    edit = admin_client.get(f"/admin/issuers/{issuer_id}").get_data(as_text=True)
    assert re.search(r'id="linkedin_organization_id"[^>]*value="12345678"', edit)
    assert _issuer_form(admin_client, f"/admin/issuers/{issuer_id}", linkedin_organization_id="").status_code == 302
    with services.session() as s:
        assert s.scalar(select(Issuer)).profile["linkedin_organization_id"] == ""


def test_linkedin_field_in_french(admin_client, services):
    html = admin_client.get("/admin/issuers/new?lang=fr").get_data(as_text=True)
    assert "Identifiant de l’organisation LinkedIn" in html
    bad = _issuer_form(admin_client, "/admin/issuers/new?lang=fr", linkedin_organization_id="abc")
    assert "uniquement des chiffres" in bad.get_data(as_text=True)
