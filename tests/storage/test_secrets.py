"""Secrets at rest: sealed with the KEK, bound to their row, never in clear in the database or the logs."""
from __future__ import annotations

import logging
import sqlite3
import subprocess

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from plugin.storage.models import IssuerKey, Platform, ToolKey
from plugin.storage.secrets import (KeyEncryptionError, SecretBox, generate_kek, issuer_key_context,
                                    platform_secret_context, sealed_paths, tool_key_context)
from tests.sealed import PLATFORM_TOKEN, seed_sealed_keys


def test_seal_round_trip_is_bound_to_its_context():
    box = SecretBox([generate_kek()])
    sealed = box.seal(b"private key bytes", "issuer-key:1:a")
    assert b"private key bytes" not in sealed.encode()
    assert box.open(sealed, "issuer-key:1:a") == b"private key bytes"
    with pytest.raises(KeyEncryptionError, match="tampered with or moved"):
        box.open(sealed, "issuer-key:2:a")  # copied to another row


def test_another_kek_cannot_open_and_says_which_key_is_missing():
    sealed = SecretBox([generate_kek()]).seal(b"x", "c")
    with pytest.raises(KeyEncryptionError, match="not in MICROCRED_KEK"):
        SecretBox([generate_kek()]).open(sealed, "c")


@pytest.mark.parametrize("bad", ["short", "!!!not base64!!!", "", "a" * 60])
def test_malformed_kek_is_refused_with_a_hint(bad):
    with pytest.raises(KeyEncryptionError, match="32 random bytes"):
        SecretBox([bad])


def test_rotation_new_key_seals_old_key_still_opens():
    old, new = generate_kek(), generate_kek()
    sealed_old = SecretBox([old]).seal(b"v", "c")
    box = SecretBox([new, old])
    assert box.open(sealed_old, "c") == b"v"
    rewrapped = box.rewrap(sealed_old, "c")
    assert SecretBox([new]).open(rewrapped, "c") == b"v"


def dump_database(url: str) -> bytes:
    """Everything a database dump (a backup) would hold."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database)
        try:
            text = "\n".join(conn.iterdump()).encode()
        finally:
            conn.close()
        with open(parsed.database, "rb") as fh:
            return text + fh.read()
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--no-owner", plain], check=True, capture_output=True, timeout=120).stdout


def test_private_keys_never_in_clear_in_a_dump_or_the_logs(services, app, caplog):
    caplog.set_level(logging.DEBUG)
    seeded = seed_sealed_keys(services)
    # the keys are really there, and really usable
    with services.session() as s:
        key = s.scalars(select(IssuerKey)).one()
        assert services.secrets.open(key.private_sealed, issuer_key_context(key.issuer_id, key.key_id)) \
            == seeded.issuer_pem
        tool = s.scalars(select(ToolKey)).one()
        assert services.secrets.open(tool.private_sealed, tool_key_context(tool.kid)) == seeded.tool_pem
        platform = s.get(Platform, seeded.platform_id)
        [(path, value)] = sealed_paths(platform.bridge_settings)
        assert services.secrets.open(value, platform_secret_context(platform.id, path)) == PLATFORM_TOKEN
    assert app.test_client().get("/healthz").status_code == 200

    dump = dump_database(services.settings.database_url)
    assert b"kek1:" in dump  # the dump does hold the sealed values
    for clear in seeded.clear_forms():
        assert clear.encode() not in dump, "a secret is in clear in the database"
    logs = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for clear in seeded.clear_forms():
        assert clear not in logs
    for kek in services.settings.kek:
        assert kek.encode() not in dump and kek not in logs
