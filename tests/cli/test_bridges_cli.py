import json

import pytest
from click.testing import CliRunner

from plugin.cli import cli
from tests.bridges_support import SigningKey, make_platform
from tests.evidence.fake_platforms import FakeMoodle, FakeOpenEdx

MOODLE = "https://moodle.test"


@pytest.fixture
def runner(services):
    with services.session() as s:
        make_platform(s, issuer=MOODLE, client_id="m1", product="moodle")
        make_platform(s, client_id="oe-1")
        make_platform(s, client_id="oe-2")
    return CliRunner()


@pytest.fixture
def moodle():
    server = FakeMoodle()
    yield server
    server.close()


def test_moodle_token_is_stored_sealed_and_tested(runner, services, moodle):
    result = runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--moodle-url", moodle.url,
                                 "--moodle-token", FakeMoodle.TOKEN])
    assert result.exit_code == 0, result.output
    assert FakeMoodle.TOKEN not in result.output and '"token": "set"' in result.output
    from plugin.storage.models import Platform
    with services.session() as s:
        stored = json.dumps(s.query(Platform).filter_by(issuer=MOODLE).one().bridge_settings)
    assert FakeMoodle.TOKEN not in stored and "kek1:" in stored
    ok = runner.invoke(cli, ["bridge", "test", "--issuer", MOODLE])
    assert ok.exit_code == 0 and ok.output.startswith("ok") and "accepted the token" in ok.output


def test_bridge_test_says_exactly_what_failed(runner, moodle):
    runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--moodle-url", moodle.url, "--moodle-token", "wrong"])
    result = runner.invoke(cli, ["bridge", "test", "--issuer", MOODLE])
    assert result.exit_code == 1
    assert "FAILED moodle web services (m1): Moodle refused gradereport_overview_get_course_grades: " \
           "Invalid token - token not found (invalidtoken)" in result.output
    moodle.enabled.discard("gradereport_user_get_grade_items")
    runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--moodle-url", moodle.url,
                        "--moodle-token", FakeMoodle.TOKEN])
    result = runner.invoke(cli, ["bridge", "test", "--issuer", MOODLE, "--course", "2"])
    assert "add gradereport_user_get_grade_items to the external service" in result.output


def test_openedx_webhook_key_file_applies_to_every_registration_of_the_issuer(runner, tmp_path):
    key = SigningKey()
    pem = tmp_path / "webhook-public.pem"
    from cryptography.hazmat.primitives import serialization
    pem.write_bytes(key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    result = runner.invoke(cli, ["bridge", "set", "--issuer", "https://lms.example.org",
                                 "--openedx-webhook-key-file", str(pem)])
    assert result.exit_code == 0, result.output
    assert result.output.count("webhook_jwks") == 2  # oe-1 and oe-2
    private = tmp_path / "private.pem"
    private.write_text(key.private_pem)
    refused = runner.invoke(cli, ["bridge", "set", "--issuer", "https://lms.example.org",
                                  "--openedx-webhook-key-file", str(private)])
    assert refused.exit_code == 1 and "private key" in refused.output


def test_openedx_api_credentials_are_checked(runner):
    lms = FakeOpenEdx()
    try:
        args = ["bridge", "set", "--issuer", "https://lms.example.org", "--client-id", "oe-1",
                "--openedx-api-url", lms.url, "--openedx-client-id", FakeOpenEdx.CLIENT_ID]
        assert runner.invoke(cli, args + ["--openedx-client-secret", "nope"]).exit_code == 0
        bad = runner.invoke(cli, ["bridge", "test", "--issuer", "https://lms.example.org", "--client-id", "oe-1"])
        assert bad.exit_code == 1 and "invalid_client" in bad.output
        runner.invoke(cli, args + ["--openedx-client-secret", FakeOpenEdx.CLIENT_SECRET])
        good = runner.invoke(cli, ["bridge", "test", "--issuer", "https://lms.example.org", "--client-id", "oe-1"])
        assert good.exit_code == 0 and "issued a token" in good.output
    finally:
        lms.close()


def test_unknown_platform_and_bad_combinations_are_one_line_errors(runner):
    result = runner.invoke(cli, ["bridge", "set", "--issuer", "https://nowhere", "--moodle-url", "https://x",
                                 "--moodle-token", "t"])
    assert result.exit_code == 1 and "no platform registration for https://nowhere" in result.output
    result = runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--moodle-url", "https://x"])
    assert result.exit_code == 1 and "needs both" in result.output


def test_sync_every_sets_the_platform_catch_up_period(runner, services):
    from plugin.evidence.sync_schedule import platform_period
    from plugin.storage.models import Platform
    result = runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--sync-every", "15m"])
    assert result.exit_code == 0, result.output
    assert '"schedule": {"every": "15m"}' in result.output
    with services.session() as s:
        assert platform_period(services.settings, s.query(Platform).filter_by(issuer=MOODLE).one()) == 900
    runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--sync-every", "off"])
    with services.session() as s:
        assert platform_period(services.settings, s.query(Platform).filter_by(issuer=MOODLE).one()) == 0
    runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--sync-every", "default"])
    with services.session() as s:
        platform = s.query(Platform).filter_by(issuer=MOODLE).one()
        assert "schedule" not in platform.bridge_settings and platform_period(services.settings, platform) == 3600


def test_sync_every_refuses_what_is_not_a_period(runner):
    result = runner.invoke(cli, ["bridge", "set", "--issuer", MOODLE, "--sync-every", "hourly"])
    assert result.exit_code == 2
    assert "'hourly' is not a duration" in result.output and "Traceback" not in result.output
