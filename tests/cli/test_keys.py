"""Key-encryption key start-up errors, rotation and `microcred keys rewrap`."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugin.cli import cli
from plugin.evidence.moodle import MoodleSource
from plugin.services import build_services
from plugin.settings import Settings, SettingsError
from plugin.storage.models import IssuerKey, KekCheck, Platform, ToolKey
from plugin.storage.secrets import (SecretBox, generate_kek, issuer_key_context, platform_secret_context,
                                    sealed_paths, tool_key_context)
from tests.sealed import PLATFORM_TOKEN, seed_sealed_keys


def run(*args):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def open_everything(seeded) -> None:
    """Build the services with MICROCRED_KEK as set and open every sealed value (raises if one cannot)."""
    svc = build_services(Settings.from_env(), migrate_schema=False)
    try:
        with svc.session() as s:
            key = s.scalars(select(IssuerKey)).one()
            assert svc.secrets.open(key.private_sealed, issuer_key_context(key.issuer_id, key.key_id)) \
                == seeded.issuer_pem
            tool = s.scalars(select(ToolKey)).one()
            assert svc.secrets.open(tool.private_sealed, tool_key_context(tool.kid)) == seeded.tool_pem
            platform = s.get(Platform, seeded.platform_id)
            [(path, value)] = sealed_paths(platform.bridge_settings)
            assert svc.secrets.open(value, platform_secret_context(platform.id, path)) == PLATFORM_TOKEN
            assert platform.bridge_settings["moodle"]["url"] == "https://lms.test"  # the rest is untouched
            # and the bridge that uses the token still opens it
            assert MoodleSource.for_platform(svc, platform).client.token == PLATFORM_TOKEN.decode()
    finally:
        svc.engine.dispose()


@pytest.fixture
def seeded(services):
    return seed_sealed_keys(services)


def test_wrong_kek_is_a_start_up_error(settings, services, monkeypatch):
    monkeypatch.setenv("MICROCRED_KEK", generate_kek())
    one_line_error(run("db", "upgrade"), "MICROCRED_KEK does not match")
    one_line_error(run("serve", "--port", "5999"), "MICROCRED_KEK does not match")
    with pytest.raises(SettingsError, match="does not match"):
        build_services(Settings.from_env())


def test_malformed_kek_is_refused_before_touching_the_database(settings, monkeypatch):
    monkeypatch.setenv("MICROCRED_KEK", "not-a-key")
    one_line_error(run("db", "upgrade"), "MICROCRED_KEK must be urlsafe-base64", "microcred keys new-kek")
    assert run("db", "current").stdout.startswith("empty")


def test_missing_kek_in_production(settings, monkeypatch):
    monkeypatch.setenv("MICROCRED_ENV", "production")
    monkeypatch.setenv("MICROCRED_BASE_URL", "https://tool.example")
    monkeypatch.delenv("MICROCRED_KEK")
    one_line_error(run("db", "upgrade"), "MICROCRED_KEK")


def test_rotation_then_rewrap_then_drop_the_old_kek(settings, services, seeded, monkeypatch):
    old = settings.kek[0]
    new = run("keys", "new-kek").stdout.strip()
    SecretBox([new])  # a usable key

    # 1. new key first, old second: everything still opens, new secrets are sealed with the new key
    monkeypatch.setenv("MICROCRED_KEK", f"{new},{old}")
    assert run("db", "upgrade").exit_code == 0
    open_everything(seeded)

    # 2. dropping the old key now would lose the signing keys: refused at start-up
    monkeypatch.setenv("MICROCRED_KEK", new)
    one_line_error(run("db", "upgrade"), "still sealed with", "keys rewrap")
    one_line_error(run("serve", "--port", "5999"), "still sealed with", "keys rewrap")

    # 3. rewrap with both keys configured
    monkeypatch.setenv("MICROCRED_KEK", f"{new},{old}")
    result = run("keys", "rewrap")
    assert result.exit_code == 0, result.output
    assert "1 issuer keys, 1 tool keys, 1 platform secrets" in result.stdout

    # 4. the old key can go; the new one alone opens everything; the old one alone is refused
    monkeypatch.setenv("MICROCRED_KEK", new)
    assert run("db", "upgrade").exit_code == 0
    open_everything(seeded)
    with services.session() as s:
        assert {c.kek_id for c in s.scalars(select(KekCheck))} == {SecretBox([new]).current_id}
        assert all(k.private_sealed.split(":")[1] == SecretBox([new]).current_id for k in s.scalars(select(IssuerKey)))
    monkeypatch.setenv("MICROCRED_KEK", old)
    one_line_error(run("db", "upgrade"), "does not match")


def test_rewrap_fails_whole_when_a_value_cannot_be_opened(settings, services, seeded, monkeypatch):
    stranger = SecretBox([generate_kek()])
    with services.session() as s:
        key = s.scalars(select(ToolKey)).one()
        key.private_sealed = stranger.seal(b"x", tool_key_context(key.kid))
        before = s.scalars(select(IssuerKey)).one().private_sealed
    result = run("keys", "rewrap")
    one_line_error(result, "not in MICROCRED_KEK")
    with services.session() as s:
        assert s.scalars(select(IssuerKey)).one().private_sealed == before  # nothing half-done


def test_keys_is_a_group_with_help():
    result = run("keys", "--help")
    assert result.exit_code == 0
    assert "rewrap" in result.stdout and "new-kek" in result.stdout


def test_rewrap_reseals_edc_seal_keys_and_edc_issuer_passwords(settings, services, monkeypatch):
    from plugin.issuance import edc_sealing
    from plugin.storage.models import Issuer, IssuerSeal
    from tests.edc_support import make_seal
    m = make_seal("ec")
    with services.session() as s:
        issuer = Issuer(slug="uni", name="University")
        other = Issuer(slug="uni2", name="University 2")
        s.add_all([issuer, other])
        s.flush()
        key, chain = edc_sealing.load_seal_material(m.pkcs12(b"pw"), "pw")
        edc_sealing.set_own_seal(s, services, issuer, key, chain, actor="t")
        edc_sealing.set_edc_issuer(s, services, other, url="https://edci.example", password="pw1", token="tk",
                                   actor="t")
    new = generate_kek()
    monkeypatch.setenv("MICROCRED_KEK", f"{new},{settings.kek[0]}")
    result = run("keys", "rewrap")
    assert result.exit_code == 0 and "3 seal secrets" in result.stdout, result.output
    monkeypatch.setenv("MICROCRED_KEK", new)
    svc = build_services(Settings.from_env(), migrate_schema=False)
    try:
        with svc.session() as s:
            own, edci = s.scalars(select(IssuerSeal).order_by(IssuerSeal.id)).all()
            key, _chain = edc_sealing.own_material(svc, own)
            assert key.private_numbers() == m.key.private_numbers()
            client = edc_sealing.edc_issuer_client(svc, edci)
            assert (client.password, client.token) == ("pw1", "tk")
    finally:
        svc.engine.dispose()
