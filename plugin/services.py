"""The application's services, built once from the settings (no Flask here).

The web app, the CLI, the worker and the tests all get their database, secret
box and other services from :func:`build_services`, so start-up checks (schema
at the right revision, the key-encryption key matching the database) happen
in one place and fail with one clear message.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
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

    @cached_property
    def outbound(self):
        """The address policy of every outbound request (:mod:`plugin.net`)."""
        from plugin.net import OutboundPolicy
        return OutboundPolicy.from_settings(self.settings)

    def http(self, **kwargs):
        """A new session for calling a URL the tool was given (see :func:`plugin.net.outbound_session`)."""
        from plugin.net import outbound_session
        return outbound_session(self.outbound, **kwargs)

    @cached_property
    def limits(self):
        """Rate-limit counters outside web requests (:mod:`plugin.ratelimit`)."""
        from plugin.ratelimit import Limits
        return Limits.from_settings(self.settings)


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
    from plugin.storage import config_cache
    config_cache.configure(engine, settings.config_cache_seconds)
    if check_schema or migrate_schema:
        check_kek(services)
    for what in settings.generated:
        # Said once, on the first run of the embedded default: these files must be kept
        # (the KEK decrypts the signing keys) and backed up, the KEK apart from the database.
        log_event(log, f"embedded default created {what}", logging.WARNING, created=what)
    if settings.generated:
        log_event(log, f"keep {settings.instance_dir}: back up the database, and the key-encryption key "
                       "separately (without it the signing keys are lost)", logging.WARNING)
        settings.generated = []
    return services


def check_kek(services: Services) -> None:
    """Every key-encryption key the database uses must be configured and must open its canary.

    The ``kek_check`` table holds one canary per KEK that sealed something; the first
    use stores one, and a new first KEK (rotation) adds its own. ``microcred keys rewrap``
    re-seals everything with the first KEK and leaves only its canary, after which the
    old KEK may be dropped. Dropping it before the rewrap is refused here, at start-up,
    rather than failing later when a signing key is needed.
    """
    box = services.secrets
    with services.session() as s:
        checks = s.scalars(select(KekCheck)).all()
        if not checks:
            s.add(KekCheck(kek_id=box.current_id, sealed=box.seal(CANARY, CANARY_CONTEXT)))
            return
        used = sorted({c.kek_id for c in checks})
        missing = [kid for kid in used if kid not in box.ids]
        if missing and len(missing) == len(used):
            raise SettingsError(
                "MICROCRED_KEK does not match the key-encryption key that sealed the secrets in this database "
                f"(database expects key id {', '.join(used)}; configured: {', '.join(box.ids)})")
        if missing:
            raise SettingsError(
                f"secrets in this database are still sealed with key-encryption key {', '.join(missing)}, "
                "which is not in MICROCRED_KEK: put it back after the new key and run `microcred keys rewrap` "
                "before removing it")
        for check in checks:
            try:
                ok = box.open(check.sealed, CANARY_CONTEXT) == CANARY
            except KeyEncryptionError:
                ok = False
            if not ok:
                raise SettingsError(f"the key-encryption key check for key id {check.kek_id} failed to decrypt: "
                                    "the kek_check table was altered, or MICROCRED_KEK is wrong")
        if box.current_id not in used:
            # A new first KEK (rotation): it seals from now on, so the database now uses it too.
            s.add(KekCheck(kek_id=box.current_id, sealed=box.seal(CANARY, CANARY_CONTEXT)))
