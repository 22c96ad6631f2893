"""The Moodle plugin ``local_microcred``: its PHP lints, and what its signing and payload code
produce is accepted by the tool's own webhook (``POST /api/webhooks/moodle``), once.

The PHP runs for real (``php`` from Debian's ``php-cli``, which ``.ci/run`` installs) through
``sign_event.php``, which loads only the plugin's Moodle-free classes (``jwt``, ``payload``).
The PHP tests skip when ``php`` is not installed, except with MICROCRED_REQUIRE_PHP=1 (set by .ci/run), where they must run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from plugin.evidence import bridge_config
from plugin.storage.models import IssuedCredential, Learner, OneTimeToken, PassEvidence
from tests.bridges_support import make_definition, make_platform

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "integrations" / "moodle" / "local_microcred"
DRIVER = Path(__file__).with_name("sign_event.php")
MOODLE = "https://moodle.example.edu"
AUDIENCE = "http://tool.test/api/webhooks/moodle"
URL = "/api/webhooks/moodle"

PHP = shutil.which("php")
needs_php = pytest.mark.skipif(PHP is None and os.environ.get("MICROCRED_REQUIRE_PHP") != "1",
                               reason="php is not installed (CI installs Debian's php-cli)")


def php(request: dict) -> dict:
    if PHP is None:
        pytest.fail("php is not installed: CI must run the plugin's PHP tests (apt-get install php-cli)")
    done = subprocess.run([PHP, str(DRIVER)], input=json.dumps(request), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def keypair():
    return php({"op": "keypair"}) if (PHP or os.environ.get("MICROCRED_REQUIRE_PHP") == "1") else None


def event(**overrides) -> dict:
    base = {"courseid": 2, "userid": 4, "trigger": "course_completed",
            "completion": {"enabled": True, "completed": True, "missing": []},
            "course_total": {"grade": 232.5, "grademin": 0, "grademax": 300, "gradepass": 50, "itemtype": "course"},
            "grade_items": [{"name": "Final exam", "idnumber": "FINAL", "itemtype": "mod", "grade": 80,
                             "grademin": 0, "grademax": 100, "gradepass": 0}]}
    base.update(overrides)
    return base


def sign(keypair, **options) -> str:
    request = {"op": "sign", "secret": keypair["secret"], "public": keypair["public"], "issuer": MOODLE + "/",
               "audience": AUDIENCE, "event": options.pop("event", event()), **options}
    answer = php(request)
    assert "token" in answer, answer
    return answer["token"]


def setup_course(services, keypair, policy: dict) -> int:
    with services.session() as s:
        platform = make_platform(s, issuer=MOODLE, product="moodle")
        bridge_config.set_webhook_key(platform, json.dumps(keypair["jwk"]), "moodle")
        return make_definition(s, issuer=MOODLE, context_id="2", platform_id=platform.id, services=services,
                               policy={"source": "moodle", "issuance": "automatic", **policy}).id


def count(services, model) -> int:
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@needs_php
def test_every_plugin_file_is_valid_php():
    files = sorted(PLUGIN.rglob("*.php")) + [DRIVER]
    assert len(files) >= 15
    for path in files:
        done = subprocess.run([PHP or "php", "-l", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{path}: {done.stdout}{done.stderr}"


@needs_php
def test_the_public_key_registers_in_the_tool_with_the_same_kid(keypair):
    from jwcrypto.jwk import JWK
    jwk = keypair["jwk"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == JWK(**jwk).thumbprint()  # RFC 7638, as the tool computes it
    assert bridge_config.jwks_from_key_text(json.dumps({"keys": [jwk]})) == {"keys": [jwk]}
    with pytest.raises(bridge_config.BridgeConfigError, match="private"):
        bridge_config.jwks_from_key_text(json.dumps({**jwk, "d": keypair["secret"]}))


@needs_php
def test_a_course_completion_signed_in_php_issues_at_once_and_only_once(client, services, keypair):
    definition_id = setup_course(services, keypair, {"rule": "completion"})
    token = sign(keypair)
    header, claims = (json.loads(_b64(part)) for part in token.split(".")[:2])
    assert header == {"alg": "EdDSA", "kid": keypair["jwk"]["kid"], "typ": "JWT"}
    assert claims["iss"] == MOODLE and claims["aud"] == AUDIENCE and claims["exp"] - claims["iat"] == 300
    resp = client.post(URL, data=token, content_type="application/jwt")
    assert resp.status_code == 200, resp.get_json()
    (result,) = resp.get_json()["results"]
    assert (result["definition_id"], result["action"]) == (definition_id, "issued")
    with services.session() as s:
        learner = s.scalar(select(Learner))
        assert (learner.platform_issuer, learner.sub, learner.name, learner.email) == (MOODLE, "4", None, None)
        evidence = s.scalar(select(PassEvidence))
        assert evidence.source == "moodle" and evidence.details["via"] == "local_microcred"
        assert evidence.details["trigger"] == "course_completed"
    again = client.post(URL, data=token, content_type="application/jwt")
    assert again.status_code == 409 and again.get_json()["error"] == "replayed"
    assert count(services, IssuedCredential) == 1
    assert count(services, OneTimeToken) == 1


@needs_php
def test_the_course_totals_grade_to_pass_decides_course_passed(client, services, keypair):
    """What no Moodle web service gives (issue 13, defect 4) the plugin reads inside Moodle."""
    setup_course(services, keypair, {"rule": "course_passed"})
    below = event(userid=5, trigger="user_graded", completion={"enabled": False},
                  course_total={"grade": 40, "grademin": 0, "grademax": 300, "gradepass": 150})
    resp = client.post(URL, data=sign(keypair, event=below), content_type="application/jwt")
    (result,) = resp.get_json()["results"]
    assert result["action"] == "not_passed" and "50 %" in result["reason"]
    resp = client.post(URL, data=sign(keypair, event=event(trigger="user_graded")), content_type="application/jwt")
    (result,) = resp.get_json()["results"]
    assert result["action"] == "issued"
    with services.session() as s:
        evidence = s.scalar(select(PassEvidence).where(PassEvidence.passed.is_(True)))
        assert (evidence.score, round(evidence.pass_mark, 4)) == (77.5, 16.6667)


@needs_php
def test_a_named_assessment_and_names_only_when_moodle_sends_them(client, services, keypair):
    setup_course(services, keypair, {"rule": "assessment_grade", "assessment": "FINAL", "threshold": 75})
    with_pii = event(trigger="user_graded", pii={"name": "Léa Martin", "email": "lea@example.edu"})
    resp = client.post(URL, data=sign(keypair, event=with_pii), content_type="application/jwt")
    assert resp.get_json()["results"][0]["action"] == "issued"
    with services.session() as s:
        assert s.scalar(select(Learner.name)) == "Léa Martin"


@needs_php
@pytest.mark.parametrize("options, status, code", [
    ({"now": int(time.time()) - 2000}, 401, "expired"),
    ({"audience": "http://tool.test/api/webhooks/openedx"}, 401, "wrong_audience"),
    ({"issuer": "https://other.example.edu"}, 401, "unknown_issuer"),
])
def test_what_the_tool_refuses(client, services, keypair, options, status, code):
    setup_course(services, keypair, {"rule": "completion"})
    resp = client.post(URL, data=sign(keypair, **options), content_type="application/jwt")
    assert (resp.status_code, resp.get_json()["error"]) == (status, code)
    assert count(services, PassEvidence) == 0


@needs_php
def test_a_key_of_another_site_does_not_verify(client, services, keypair):
    setup_course(services, keypair, {"rule": "completion"})
    stranger = php({"op": "keypair"})
    forged = sign({**stranger, "jwk": keypair["jwk"]})
    head, payload, signature = forged.split(".")
    # The stranger's token names its own kid; give it the registered one: the signature still fails.
    header = json.loads(_b64(head))
    header["kid"] = keypair["jwk"]["kid"]
    import base64
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    resp = client.post(URL, data=f"{head}.{payload}.{signature}", content_type="application/jwt")
    assert (resp.status_code, resp.get_json()["error"]) == (401, "bad_signature")


@needs_php
def test_the_payload_code_refuses_what_the_tool_would_refuse(keypair):
    assert "unknown trigger" in php({"op": "data", "event": event(trigger="graded")})["error"]
    assert "jti" in php({"op": "sign", "secret": keypair["secret"], "public": keypair["public"], "issuer": MOODLE,
                         "audience": AUDIENCE, "jti": "short", "event": event()})["error"]
    data = php({"op": "data", "event": event(course_total={"grade": None, "grademin": 10, "grademax": 20,
                                                            "gradepass": 10})})
    # A grade to pass equal to the minimum is no grade to pass (grade_grade::is_passed).
    assert data["course_total"] == {"name": None, "idnumber": "", "itemtype": "mod", "grade": None, "grademin": 10.0,
                                    "grademax": 20.0, "gradepass": None}
    assert data["user"] == {"id": "4"} and data["courseid"] == "2"
    no_key = php({"op": "sign", "secret": "", "public": "", "issuer": MOODLE, "audience": AUDIENCE,
                  "event": event()})
    assert "public key" in no_key["error"]


def test_the_zip_has_moodles_layout(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_plugin_zip", ROOT / "integrations" / "moodle" /
                                                  "build_plugin_zip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.build(tmp_path)
    assert path.name == "local_microcred-0.1.0.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {"microcred/version.php", "microcred/db/install.php", "microcred/db/events.php",
            "microcred/classes/privacy/provider.php", "microcred/classes/task/send_webhook.php",
            "microcred/lang/en/local_microcred.php", "microcred/lang/fr/local_microcred.php",
            "microcred/jwks.php", "microcred/settings.php"} <= names
    assert all(n.startswith("microcred/") for n in names)


def test_english_and_french_strings_match():
    import re
    keys = {lang: re.findall(r"^\$string\['([^']+)'\]", (PLUGIN / "lang" / lang / "local_microcred.php")
                             .read_text(encoding="utf-8"), re.M) for lang in ("en", "fr")}
    assert keys["en"] == sorted(keys["en"]) and keys["en"] == keys["fr"]
    used = set()
    for path in PLUGIN.rglob("*.php"):
        used |= set(re.findall(r"get_string\('([a-z_:]+)', 'local_microcred'", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"'(privacy:metadata:[a-z_:]+)'", path.read_text(encoding="utf-8")))
    assert used <= set(keys["en"]), used - set(keys["en"])


def _b64(part: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
