"""The application's services, built once from the settings (no Flask here).

The web app, the CLI, the worker and the tests all get their database, secret
box and other services from :func:`build_services`, so start-up checks (schema
at the right revision, the key-encryption key matching the database) happen
in one place and fail with one clear message.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from plugin.logging import log_event
from plugin.settings import Settings, SettingsError
from plugin.storage import migrate
from plugin.storage.db import make_engine, make_session_factory, transaction
from plugin.storage.models import KekCheck
from plugin.storage.secrets import CANARY, CANARY_CONTEXT, KeyEncryptionError, SecretBox

log = logging.getLogger("microcred")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secrets: SecretBox
    extras: dict[str, Any] = field(default_factory=dict)

    def session(self):
        """A transactional session: ``with services.session() as s: ...``."""
        return transaction(self.sessions)


def build_services(settings: Settings, *, migrate_schema: bool | None = None, check_schema: bool = True) -> Services:
    """Connect, bring the schema up (embedded default) or check it (production), check the KEK."""
    try:
        box = SecretBox(settings.kek)
    except KeyEncryptionError as exc:
        raise SettingsError(str(exc)) from None
    engine = make_engine(settings.database_url)
    if migrate_schema is None:
        migrate_schema = not settings.is_production
    try:
        if migrate_schema:
            if not migrate.is_up_to_date(engine):
                migrate.upgrade(settings.database_url, engine=engine)
                log_event(log, "database schema upgraded", revision=migrate.head_revision())
        elif check_schema and not migrate.is_up_to_date(engine):
            raise SettingsError(
                f"database schema is at {migrate.current_revision(engine) or 'nothing'}, "
                f"this version needs {migrate.head_revision()}: run `microcred db upgrade`")
    except SettingsError:
        raise
    except Exception as exc:  # cannot connect, permission denied, ...
        raise SettingsError(f"cannot use the database {engine.url.render_as_string(hide_password=True)}: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    services = Services(settings=settings, engine=engine, sessions=make_session_factory(engine), secrets=box)
    if check_schema or migrate_schema:
        check_kek(services)
    for path in settings.generated:
        # Said once, on the first run of the embedded default: these files must be kept
        # (the KEK decrypts the signing keys) and backed up with the database.
        log_event(log, f"embedded default created {path}; back it up with the database", logging.WARNING, path=path)
    return services


def check_kek(services: Services) -> None:
    """The configured KEK must open the stored canary; the first use stores one."""
    box = services.secrets
    with services.session() as s:
        checks = s.scalars(select(KekCheck)).all()
        if not checks:
            s.add(KekCheck(kek_id=box.current_id, sealed=box.seal(CANARY, CANARY_CONTEXT)))
            return
        for check in checks:
            if box.knows(check.sealed):
                try:
                    if box.open(check.sealed, CANARY_CONTEXT) == CANARY:
                        if check.kek_id != box.current_id:
                            s.add(KekCheck(kek_id=box.current_id, sealed=box.seal(CANARY, CANARY_CONTEXT)))
                        return
                except KeyEncryptionError:
                    pass
    raise SettingsError(
        "MICROCRED_KEK does not match the key-encryption key that sealed the secrets in this database "
        f"(database expects one of: {', '.join(sorted({c.kek_id for c in checks}))}; configured: "
        f"{', '.join(k for k, _ in box._keys)})")
