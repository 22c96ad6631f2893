"""Short-lived values in the ``key_value`` table (JSON, with an expiry): caches, states, nonces.

Usable from every layer (no Flask); expired rows read as missing and are purged by
:func:`kv_purge`, which the worker's maintenance round runs (:mod:`plugin.jobs.maintenance`).
"""
from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.orm import Session

from plugin.storage.models import KeyValue

DEFAULT_TTL = 3600
KEY_MAX = 255


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _wrap(value: t.Any) -> dict:
    # The column holds JSON objects; wrap so any JSON value (True, str, list) round-trips.
    return {"v": value}


def kv_get(session: Session, key: str) -> t.Any:
    row = session.get(KeyValue, key)
    if row is None or row.expires_at <= _now():
        return None
    return (row.value or {}).get("v")


def kv_set(session: Session, key: str, value: t.Any, ttl: int | float | None = None) -> None:
    if len(key) > KEY_MAX:
        raise ValueError("key too long")
    session.merge(KeyValue(key=key, value=_wrap(value), expires_at=_now() + timedelta(seconds=ttl or DEFAULT_TTL)))
    session.flush()


def kv_add(session: Session, key: str, value: t.Any, ttl: int | float | None = None) -> None:
    """Like :func:`kv_set` for a key nobody used before (a fresh random one): one INSERT, no read
    first, sent with the session's next flush."""
    if len(key) > KEY_MAX:
        raise ValueError("key too long")
    session.add(KeyValue(key=key, value=_wrap(value), expires_at=_now() + timedelta(seconds=ttl or DEFAULT_TTL)))


def kv_delete(session: Session, key: str) -> None:
    session.execute(delete(KeyValue).where(KeyValue.key == key))


def kv_purge(session: Session) -> None:
    session.execute(delete(KeyValue).where(KeyValue.expires_at < _now()))
