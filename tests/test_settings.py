"""Settings: production refuses to start without its secrets; the embedded default needs nothing."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from plugin.settings import Settings, SettingsError
from plugin.storage.secrets import generate_kek

PRODUCTION = {
    "MICROCRED_ENV": "production",
    "MICROCRED_SECRET_KEY": "s" * 48,
    "MICROCRED_KEK": generate_kek(),
    "DATABASE_URL": "postgresql://microcred@db.internal/microcred",
    "MICROCRED_BASE_URL": "https://credentials.example.edu",
}


def test_complete_production_settings_are_accepted():
    s = Settings.from_env(dict(PRODUCTION))
    assert s.is_production and s.secure_cookies
    assert s.generated == []


@pytest.mark.parametrize("missing", ["MICROCRED_SECRET_KEY", "MICROCRED_KEK", "DATABASE_URL"])
def test_production_refuses_to_start_without_each_secret(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    assert str(err.value) == f"production settings refuse to start without {missing} (see docs/settings.md)"


def test_production_names_every_missing_secret_at_once():
    with pytest.raises(SettingsError, match="without MICROCRED_SECRET_KEY, MICROCRED_KEK, DATABASE_URL"):
        Settings.from_env({"MICROCRED_ENV": "production", "MICROCRED_BASE_URL": "https://x.example"})


def test_production_refuses_an_http_base_url():
    with pytest.raises(SettingsError, match="MICROCRED_BASE_URL must be https in production: LTI platforms require it"):
        Settings.from_env({**PRODUCTION, "MICROCRED_BASE_URL": "http://credentials.example.edu"})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env({**PRODUCTION, "MICROCRED_SECRET_KEY": "short"})


def test_production_does_not_create_anything(tmp_path):
    Settings.from_env({**PRODUCTION, "MICROCRED_INSTANCE_DIR": str(tmp_path / "inst")})
    assert not (tmp_path / "inst").exists()


@pytest.mark.parametrize("name,value,message", [
    ("MICROCRED_ENV", "staging", "MICROCRED_ENV must be one of"),
    ("MICROCRED_BASE_URL", "ftp://x", "MICROCRED_BASE_URL must be an absolute http(s) URL"),
    ("MICROCRED_BASE_URL", "localhost:5000", "MICROCRED_BASE_URL must be an absolute http(s) URL"),
    ("MICROCRED_TRUSTED_PROXIES", "two", "MICROCRED_TRUSTED_PROXIES must be an integer"),
    ("MICROCRED_CONTEXTS_FETCH", "maybe", "MICROCRED_CONTEXTS_FETCH must be true or false, got 'maybe'"),
    ("MICROCRED_SMTP_STARTTLS", "sometimes", "MICROCRED_SMTP_STARTTLS must be true or false"),
    ("MICROCRED_SMTP_PORT", "smtp", "MICROCRED_SMTP_PORT must be an integer"),
    ("MICROCRED_MAIL_BACKEND", "pigeon", "MICROCRED_MAIL_BACKEND must be"),
    ("MICROCRED_JOB_LEASE_SECONDS", "1", "MICROCRED_JOB_LEASE_SECONDS must be between 3 and 3600, got 1"),
    ("MICROCRED_JOB_LEASE_SECONDS", "soon", "MICROCRED_JOB_LEASE_SECONDS must be an integer"),
    ("MICROCRED_RQ_QUEUE", "my queue", "MICROCRED_RQ_QUEUE must be 1-100 letters"),
    ("MICROCRED_SYNC_EVERY", "hourly", "MICROCRED_SYNC_EVERY: 'hourly' is not a duration"),
    ("MICROCRED_SYNC_EVERY", "5s", "MICROCRED_SYNC_EVERY: '5s' is too short: the shortest period is 10 seconds"),
    ("MICROCRED_SYNC_EVERY", "40d", "MICROCRED_SYNC_EVERY: '40d' is too long"),
    ("MICROCRED_VISIT_FLUSH_SECONDS", "often", "MICROCRED_VISIT_FLUSH_SECONDS must be a number of seconds, got 'often'"),
    ("MICROCRED_VISIT_FLUSH_SECONDS", "0", "MICROCRED_VISIT_FLUSH_SECONDS must be between 0.1 and 300, got '0'"),
])
def test_bad_values_are_named(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({"MICROCRED_INSTANCE_DIR": str(tmp_path), name: value})


def test_embedded_default_keeps_its_secrets_between_runs(tmp_path):
    env = {"MICROCRED_INSTANCE_DIR": str(tmp_path / "inst")}
    first = Settings.from_env(env)
    assert len(first.generated) == 4  # folder, SQLite file, secret key, KEK
    second = Settings.from_env(env)
    # the SQLite file is created on first use (build_services), the rest is already there
    assert not [what for what in second.generated if "SQLite" not in what]
    assert (second.secret_key, second.kek) == (first.secret_key, first.kek)
    assert oct((tmp_path / "inst" / "kek").stat().st_mode & 0o777) == "0o600"


def test_embedded_default_needs_no_environment_and_says_what_it_created(tmp_path):
    """A clean environment in an empty folder: `microcred db upgrade` just works."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-m", "plugin", "db", "upgrade"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    instance = tmp_path / "instance"
    for name in ("microcred.sqlite3", "secret_key", "kek"):
        assert (instance / name).is_file()
    for said in ("instance folder", "SQLite database", "secret key", "key-encryption key",
                 "key-encryption key separately"):
        assert said in result.stderr, result.stderr
    assert (instance / "kek").read_text().strip() not in result.stderr  # named, never printed
    again = subprocess.run([sys.executable, "-m", "plugin", "db", "upgrade"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "created" not in again.stderr


def test_secrets_stay_out_of_repr():
    s = Settings.from_env({**PRODUCTION, "MICROCRED_SMTP_PASSWORD": "smtp-pass-123"})
    text = repr(s)
    assert "credentials.example.edu" in text
    for secret in (PRODUCTION["MICROCRED_SECRET_KEY"], PRODUCTION["MICROCRED_KEK"], "smtp-pass-123"):
        assert secret not in text


@pytest.mark.parametrize("value,seconds", [("", 3600), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400),
                                           ("600", 600), ("off", 0), ("0", 0), (" 30 M ", 1800)])
def test_sync_period_reads_durations(tmp_path, value, seconds):
    assert Settings.from_env({"MICROCRED_INSTANCE_DIR": str(tmp_path), "MICROCRED_SYNC_EVERY": value}).sync_every == seconds


def test_job_settings_defaults(tmp_path):
    s = Settings.from_env({"MICROCRED_INSTANCE_DIR": str(tmp_path)})
    assert (s.job_lease_seconds, s.rq_queue, s.sync_every) == (30, "microcred", 3600)
