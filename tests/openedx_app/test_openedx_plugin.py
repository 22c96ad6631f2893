"""The Open edX plugin end to end: a separate Django process, in an environment holding only
the ``microcred-openedx`` distribution and what edx-platform has (``conftest.lms_python``),
emits the real signals; the running tool (a real HTTP server on 127.0.0.1) receives the
signed webhook, accepts it and issues the credential once."""
import dataclasses
import json
import os
import subprocess
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from cryptography.hazmat.primitives import serialization

from plugin.evidence.bridge_config import jwks_from_key_text
from plugin.storage.models import Learner, OneTimeToken, PassEvidence
from tests.bridges_support import COURSE_KEY, ISSUER, Issued, SigningKey, make_definition, make_platform
from tests.openedx_app.conftest import LMS_TESTS


class _Holder:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def tool(settings):
    """The tool served over HTTP on a free loopback port, with its base URL set to it."""
    from plugin.app import create_app
    from plugin.services import build_services
    holder = _Holder()
    server = make_server("127.0.0.1", 0, holder, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    services = build_services(dataclasses.replace(settings, base_url=base))
    holder.app = create_app(services=services)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield services, base, Issued(services)
    server.shutdown()
    services.engine.dispose()


def _run_lms(lms_python, tmp_path, base, key, *args):
    key_file = tmp_path / "webhook-key.pem"
    key_file.write_text(key.private_pem)
    env = dict(os.environ, TEST_LMS_ROOT_URL=ISSUER, TEST_WEBHOOK_URL=base + "/api/webhooks/openedx",
               TEST_WEBHOOK_KEY_FILE=str(key_file), TEST_COURSE_KEY=COURSE_KEY)
    for name in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH"):
        env.pop(name, None)
    proc = subprocess.run([str(lms_python), str(LMS_TESTS / "emit_signal.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _register(services, public_jwk, policy=None):
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": {"keys": [public_jwk]}}})
        make_definition(s, policy=policy or {"source": "openedx_webhook", "issuance": "automatic"},
                        platform_id=platform.id, services=services)


def test_real_signal_produces_a_webhook_the_tool_accepts_and_issues_once(lms_python, tmp_path, tool):
    services, base, issued = tool
    key = SigningKey()
    # The admin registers the key the plugin publishes (its JWKS has a thumbprint kid).
    probe = _run_lms(lms_python, tmp_path, base, key)
    published = probe["jwks"]["keys"][0]
    assert published["alg"] == "EdDSA" and published["x"] == key.public_jwk["x"]
    # The admin may register the public key file instead: the tool computes the same kid.
    public_pem = key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert jwks_from_key_text(public_pem)["keys"][0]["kid"] == published["kid"]
    # Before registration the tool rejected the webhook (unknown issuer): the plugin logged it.
    assert probe["responses"] == [["on_course_passing_status_updated", "rejected"]]
    _register(services, published)

    out = _run_lms(lms_python, tmp_path, base, key, "--concurrent", "5")
    assert out["responses"] == [["on_course_passing_status_updated", "accepted"]]
    # The LMS's environment has neither the tool's web stack nor its generic top-level packages.
    assert out["heavy_modules"] == [] and out["importable"] == []
    # One signed token delivered five times at once: one acceptance, four replays.
    assert sorted(out["concurrent"]) == ["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]
    with services.session() as s:
        ada = s.scalar(select(Learner).where(Learner.sub == "ext-42"))
        assert ada.platform_issuer == ISSUER and ada.external_ids == {"openedx_username": "ada"}
        assert ada.email is None  # PII is not shared unless MICROCRED_WEBHOOK_SEND_PII
        grace = s.scalar(select(Learner).where(Learner.sub == "ext-43"))
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 2
        assert s.scalar(select(func.count()).select_from(OneTimeToken)) == 2
    credentials = issued.all()
    assert sorted(c["learner_id"] for c in credentials) == sorted([ada.id, grace.id])  # once each
    for credential in credentials:
        json_report, jwt_report = issued.verify(credential)
        assert json_report.ok and jwt_report.ok, (json_report.summary(), jwt_report.summary())
        assert credential["document"]["evidence"][0]["assessmentSource"].startswith("Open edX")


def test_failing_status_is_sent_and_recorded_without_issuing(lms_python, tmp_path, tool):
    services, base, issued = tool
    key = SigningKey()
    probe = _run_lms(lms_python, tmp_path, base, key)
    _register(services, probe["jwks"]["keys"][0])
    out = _run_lms(lms_python, tmp_path, base, key, "--failing")
    assert out["responses"] == [["on_course_passing_status_updated", "accepted"]]
    assert issued.all() == []
    with services.session() as s:
        evidence = s.scalar(select(PassEvidence))
        assert evidence.passed is False and "not passed" in evidence.details["reason"]


def test_a_rate_limited_delivery_waits_as_told_and_is_delivered(lms_python, tmp_path, tool):
    """The tool answers 429 + Retry-After past MICROCRED_RATELIMIT_WEBHOOK: the plugin waits that
    long and re-sends the same token, instead of dropping the pass as a configuration error."""
    services, base, issued = tool
    key = SigningKey()
    probe = _run_lms(lms_python, tmp_path, base, key)
    _register(services, probe["jwks"]["keys"][0])
    services.settings.ratelimit_webhook = "1 per hour"
    out = _run_lms(lms_python, tmp_path, base, key, "--deliver", "3")  # the signal's delivery spends the hour's budget
    assert out["responses"] == [["on_course_passing_status_updated", "accepted"]]
    assert out["delivered"] == "failed" and len(out["slept"]) == 2  # limited each time, waited as told
    assert all(1 <= s <= 120 for s in out["slept"])
    services.settings.ratelimit_webhook = "100000 per minute"
    out = _run_lms(lms_python, tmp_path, base, key, "--deliver", "3")
    assert out["delivered"] == "accepted" and out["slept"] == []


CCX_KEY = "ccx-v1:DemoX+MC101+2026+ccx@7"


def test_a_ccx_pass_produces_a_signed_webhook_for_the_ccx_course(lms_python, tmp_path, tool):
    """CCX_COURSE_PASSING_STATUS_UPDATED carries a CcxCourseData (no ``course_key``): the webhook
    names the CCX (the context of launches inside it) and its master course."""
    services, base, issued = tool
    key = SigningKey()
    probe = _run_lms(lms_python, tmp_path, base, key)
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": {"keys": [probe["jwks"]["keys"][0]]}}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, context_id=CCX_KEY,
                        platform_id=platform.id, services=services)
    out = _run_lms(lms_python, tmp_path, base, key, "--signal", "ccx")
    assert out["responses"] == [["on_course_passing_status_updated", "accepted"]]
    (credential,) = issued.all()
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok
    with services.session() as s:
        evidence = s.scalar(select(PassEvidence))
        assert evidence.passed is True and evidence.details["course_key"] == CCX_KEY


def test_a_downloadable_certificate_issues_with_its_grade(lms_python, tmp_path, tool):
    services, base, issued = tool
    key = SigningKey()
    probe = _run_lms(lms_python, tmp_path, base, key)
    _register(services, probe["jwks"]["keys"][0])
    out = _run_lms(lms_python, tmp_path, base, key, "--signal", "certificate")
    assert out["responses"] == [["on_certificate_created", "accepted"]]
    (credential,) = issued.all()
    assert credential["document"]["evidence"][0]["assessmentScore"] == "87/100"
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok


def test_a_certificate_that_is_not_downloadable_sends_nothing(lms_python, tmp_path, tool):
    services, base, issued = tool
    key = SigningKey()
    probe = _run_lms(lms_python, tmp_path, base, key)
    _register(services, probe["jwks"]["keys"][0])
    out = _run_lms(lms_python, tmp_path, base, key, "--signal", "certificate", "--failing")
    assert out["responses"] == [["on_certificate_created", None]]
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 0
    assert issued.all() == []
