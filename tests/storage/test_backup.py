"""Backup and restore drill: `microcred backup` then `microcred restore` into a new database
(PostgreSQL and SQLite, and from SQLite into PostgreSQL); the restored credentials still
verify, revocations still hold, and the restored tool issues again. The KEK never leaves."""
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugin.app import create_app
from plugin.cli import cli
from plugin.settings import Settings
from plugin.status.service import set_status
from plugin.storage.models import IssuedCredential
from plugin.storage.secrets import generate_kek
from tests.bridges_support import Issued, SigningKey, make_definition, make_platform, passing_claims
from tests.conftest import _drop_pg_database, _fresh_pg_database, _pg_available


def microcred(*args):
    result = CliRunner().invoke(cli, list(map(str, args)))
    return result.exit_code, result.output


@pytest.fixture
def target(tmp_path, database_url):
    """An empty database of the same kind as the test's, for the restore."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url, name = _fresh_pg_database()
    yield url
    _drop_pg_database(name)


def _issue_two_and_revoke_one(client, services):
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id,
                        services=services)
    for sub in ("ext-1", "ext-2"):
        resp = client.post("/api/webhooks/openedx", data=key.sign(passing_claims(sub=sub)),
                           content_type="application/jwt")
        assert resp.get_json()["results"][0]["action"] == "issued"
    with services.session() as s:
        revoked = s.scalars(select(IssuedCredential).order_by(IssuedCredential.id)).first()
        set_status(s, revoked, "revoked", "drill")
        s.commit()
        return key, revoked.public_id


def _drill(client, services, settings, tmp_path, monkeypatch, target_url):
    key, revoked_id = _issue_two_and_revoke_one(client, services)
    file = tmp_path / "microcred.backup"
    code, out = microcred("backup", file)
    assert code == 0, out
    assert "backed up" in out and "the KEK is not in the file" in out

    # Never the KEK, nor the secret key, in any member of the archive.
    with zipfile.ZipFile(file) as archive:
        blob = b"".join(archive.read(name) for name in archive.namelist())
    for secret in [*settings.kek, settings.secret_key]:
        assert secret.encode() not in blob

    monkeypatch.setenv("DATABASE_URL", target_url)
    code, out = microcred("restore", file)
    assert code == 0, out
    assert "restored" in out

    restored = _services(target_url)
    try:
        issued = Issued(restored)
        credentials = {c["public_id"]: c for c in issued.all()}
        assert len(credentials) == 2
        for public_id, credential in credentials.items():
            json_report, jwt_report = issued.verify(credential)
            if public_id == revoked_id:
                assert not json_report.ok and "revoked" in json_report.summary().lower()
            else:
                assert json_report.ok and jwt_report.ok, (json_report.summary(), jwt_report.summary())
        # The restored tool goes on: a new pass issues with a new status-list index.
        app = create_app(services=restored)
        resp = app.test_client().post("/api/webhooks/openedx", data=key.sign(passing_claims(sub="ext-3")),
                                      content_type="application/jwt")
        assert resp.get_json()["results"][0]["action"] == "issued", resp.get_json()
        newest = max(issued.all(), key=lambda c: c["id"])
        json_report, _ = issued.verify(newest)
        assert json_report.ok, json_report.summary()
    finally:
        restored.engine.dispose()
    return file


def _services(url):
    from plugin.services import build_services
    return build_services(Settings.from_env(database_url=url), migrate_schema=False)


def test_restore_drill_credentials_still_verify(client, services, settings, tmp_path, monkeypatch, target):
    file = _drill(client, services, settings, tmp_path, monkeypatch, target)

    # A database with data is not overwritten without --force.
    code, out = microcred("restore", file)
    assert code == 1 and "not empty" in out and "--force" in out
    code, out = microcred("restore", file, "--force")
    assert code == 0, out


def test_restore_refuses_a_kek_that_does_not_open_the_backup(client, services, settings, tmp_path, monkeypatch,
                                                              target):
    _issue_two_and_revoke_one(client, services)
    file = tmp_path / "microcred.backup"
    assert microcred("backup", file)[0] == 0
    monkeypatch.setenv("DATABASE_URL", target)
    monkeypatch.setenv("MICROCRED_KEK", generate_kek())
    code, out = microcred("restore", file)
    assert code == 1 and "key-encryption key id" in out and "MICROCRED_KEK" in out
    assert len(out.strip().splitlines()) == 1
    from plugin.storage.backup import is_empty
    from plugin.storage.db import make_engine
    engine = make_engine(target)
    try:
        assert is_empty(engine)  # nothing was written
    finally:
        engine.dispose()


def test_clear_errors_for_what_is_not_a_backup(services, tmp_path, monkeypatch):
    code, out = microcred("restore", tmp_path / "missing.backup")
    assert code == 1 and "no such file" in out
    junk = tmp_path / "junk.backup"
    junk.write_text("hello")
    code, out = microcred("restore", junk)
    assert code == 1 and "not a microcred backup" in out
    file = tmp_path / "one.backup"
    assert microcred("backup", file)[0] == 0
    code, out = microcred("backup", file)
    assert code == 1 and "already exists" in out


@pytest.mark.postgres
def test_a_sqlite_backup_restores_into_postgresql(tmp_path, monkeypatch, settings, database_url):
    if not database_url.startswith("sqlite") or not _pg_available():
        pytest.skip("runs once, from the SQLite parametrisation, with PostgreSQL reachable")
    from plugin.services import build_services
    services = build_services(settings)
    try:
        client = create_app(services=services).test_client()
        url, name = _fresh_pg_database()
        try:
            _drill(client, services, settings, tmp_path, monkeypatch, url)
        finally:
            _drop_pg_database(name)
    finally:
        services.engine.dispose()
