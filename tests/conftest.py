"""Shared fixtures. Every test that takes ``services``/``app`` runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``MICROCRED_TEST_POSTGRES_URL`` (default: the local server at
127.0.0.1:5432, user postgres). When it is unreachable the PostgreSQL half is skipped, but ``.ci/run`` sets
``MICROCRED_REQUIRE_POSTGRES=1`` so a missing server fails CI instead of skipping.
Each PostgreSQL test gets a fresh schema-isolated database.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Test vectors and samples, each with its source and licence in fixtures/SOURCES.md.
FIXTURES = REPO / "tests" / "fixtures"
# The pinned contexts the package ships (the suite reads nothing outside the repository).
CONTEXTS_DIR = REPO / "plugin" / "data" / "contexts"
PG_URL = os.environ.get("MICROCRED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_reachable() -> bool:
    try:
        import psycopg
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return True
    except Exception:
        return False
REQUIRE_PG = os.environ.get("MICROCRED_REQUIRE_POSTGRES") == "1"


def _fresh_pg_database() -> str:
    """Create a throw-away database on the server and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL.replace("postgresql+psycopg", "postgresql"))
    name = f"mc_test_{uuid.uuid4().hex[:12]}"
    admin = base._replace(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    admin = make_url(PG_URL.replace("postgresql+psycopg", "postgresql"))
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_PG_STATE: list[bool] = []


def _pg_available() -> bool:
    if not _PG_STATE:
        _PG_STATE.append(_pg_reachable())
    return _PG_STATE[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"MICROCRED_REQUIRE_POSTGRES=1 but PostgreSQL at {PG_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set MICROCRED_TEST_POSTGRES_URL)")
    url, name = _fresh_pg_database()
    yield url
    _drop_pg_database(name)


@pytest.fixture
def settings(tmp_path, database_url, monkeypatch):
    from plugin.settings import Settings
    from plugin.storage.secrets import generate_kek
    env = {
        "MICROCRED_ENV": "test",
        "MICROCRED_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "MICROCRED_BASE_URL": "http://tool.test",
        "MICROCRED_SECRET_KEY": "x" * 40,
        "MICROCRED_KEK": generate_kek(),
        "MICROCRED_CONTEXTS_FETCH": "false",
        "MICROCRED_MAIL_BACKEND": "file",
        # The suite's platforms, bridges and key servers are real HTTP servers on loopback: the
        # tool may call loopback only because this says so (tests of the refusal drop it).
        "MICROCRED_OUTBOUND_ALLOW": "127.0.0.0/8,::1",
        # Fuzzing sends thousands of requests through one app: limits high enough not to stand in
        # the way (the limit tests set their own; the sign-in limit keeps its default).
        "MICROCRED_RATELIMIT_REGISTRATION": "100000 per minute",
        "MICROCRED_RATELIMIT_VERIFY": "100000 per minute",
        "MICROCRED_RATELIMIT_WEBHOOK": "100000 per minute",
        # The CLI, the app and helper services of a test share one database and expect each
        # other's changes to platforms and keys at once (production: within 2 s).
        "MICROCRED_CONFIG_CACHE_SECONDS": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


@pytest.fixture
def services(settings):
    from plugin.services import build_services
    svc = build_services(settings)
    yield svc
    # An app that started the embedded worker thread would otherwise poll a database the
    # ``database_url`` fixture is about to drop, and log errors into later tests' output.
    worker = svc.extras.get("embedded_worker")
    if worker is not None:
        worker.stop()
    from plugin.issuance import visits  # the thread that writes the page views it counted
    try:
        visits.stop(svc)
    except Exception:  # noqa: BLE001 - a test that dropped its tables has nothing to write to
        pass
    svc.engine.dispose()


@pytest.fixture
def app(services):
    from plugin.app import create_app
    app = create_app(services=services)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def js_verify():
    """The independent JavaScript verifiers (see tests/js_verifiers.py); skips when not installed,
    fails instead when MICROCRED_REQUIRE_JS=1 (CI)."""
    from tests.js_verifiers import run_js_verifiers
    _require_js()
    return run_js_verifiers


@pytest.fixture
def jose_js():
    """npm ``jose`` verifying JAdES seals (tests/js/jades.mjs); skips or fails like ``js_verify``."""
    from tests.js_verifiers import run_jades_js
    _require_js()
    return run_jades_js


def _require_js() -> None:
    """Skip when the JavaScript verifiers are not installed; fail instead in CI."""
    from tests.js_verifiers import REQUIRE_JS, js_available
    missing = js_available()
    if missing:
        if REQUIRE_JS:
            pytest.fail(f"MICROCRED_REQUIRE_JS=1 but {missing}")
        pytest.skip(missing)
