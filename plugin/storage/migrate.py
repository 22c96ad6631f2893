"""Run Alembic migrations from code (``microcred db upgrade`` and the app's first use)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from plugin.settings import SettingsError
from plugin.storage.db import make_engine, normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", engine: Engine | None = None) -> None:
    _run(command.upgrade, url, revision, engine)


def downgrade(url: str, revision: str, engine: Engine | None = None) -> None:
    _run(command.downgrade, url, revision, engine)


def _run(step, url: str, revision: str, engine: Engine | None) -> None:
    cfg = alembic_config(url)
    eng = engine or make_engine(url)
    try:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, revision)
    except CommandError as exc:  # unknown revision, ...: a person can fix it
        raise SettingsError(f"migration to {revision!r} failed: {exc}") from None
    finally:
        if engine is None:
            eng.dispose()  # do not leave a pool of idle connections behind


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
