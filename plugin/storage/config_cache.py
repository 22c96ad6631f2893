"""A per-process cache of what every LTI request reads and admins rarely change: platform
registrations, their deployments, the tool's own keys, and the courses' credential
definitions (with their versions).

Every login, launch and framed page used to read these rows (and unseal the tool's private
key) again; now each process keeps them, per database engine, until they change:

* **in this process**: a session that inserts, updates or deletes a :data:`WATCHED` row
  clears the cache when it commits (and when it rolls back), so the next request reads
  the new rows;
* **in other processes** (other gunicorn workers, the CLI, another machine): the same
  flush writes a new random value to the ``key_value`` row :data:`GENERATION_KEY`, in the
  same transaction; each process reads that row at most every ``check_seconds``
  (``MICROCRED_CONFIG_CACHE_SECONDS``, default 2; 0 reads it once per database session,
  i.e. per request) and drops its cache when the value moved.

While a session holds uncommitted changes to these tables it neither reads nor fills the
cache (it must see its own changes, and nobody else may see them before the commit).

Values handed out are never the cached objects themselves: ORM rows are rebuilt from a
snapshot of their columns and attached with ``merge(load=False)`` (no SQL), so callers may
read, lazy-load and even modify them as usual.
"""
from __future__ import annotations

import copy
import secrets
import threading
import time
import typing as t
import weakref

from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached

from plugin.storage.db import upsert_insert
from plugin.storage.models import (CredentialDefinition, DefinitionVersion, Deployment, KeyValue, Platform,
                                   ToolKey)

WATCHED = (Platform, Deployment, ToolKey, CredentialDefinition, DefinitionVersion)
GENERATION_KEY = "config:generation"
DEFAULT_CHECK_SECONDS = 2.0
_FAR_FUTURE_DAYS = 36500
_DIRTY = "microcred_config_dirty"
_CHECKED = "microcred_config_checked"  # with check_seconds 0: read once per session


class _EngineCache:
    def __init__(self, check_seconds: float):
        self.check_seconds = check_seconds
        self.values: dict[t.Any, t.Any] = {}
        self.generation: t.Any = None
        self.checked_at = float("-inf")
        self.epoch = 0  # bumped by every clear: a value computed before a clear is not stored
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.values.clear()
            self.epoch += 1
            self.checked_at = float("-inf")


_CACHES: "weakref.WeakKeyDictionary[Engine, _EngineCache]" = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def configure(engine: Engine, check_seconds: float = DEFAULT_CHECK_SECONDS) -> None:
    """Set how often this process looks for changes made elsewhere (``build_services`` calls it)."""
    _cache_of(engine).check_seconds = check_seconds


def _cache_of(engine: Engine) -> _EngineCache:
    cache = _CACHES.get(engine)
    if cache is None:
        with _CACHES_LOCK:
            cache = _CACHES.get(engine)
            if cache is None:
                cache = _CACHES[engine] = _EngineCache(DEFAULT_CHECK_SECONDS)
    return cache


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if hasattr(bind, "engine") else bind


def clear(engine: Engine) -> None:
    _cache_of(engine).clear()


def cached(session: Session, key: t.Any, compute: t.Callable[[], t.Any]) -> t.Any:
    """``compute()`` once per process until a watched table changes; the value must not be modified."""
    if session.info.get(_DIRTY):
        return compute()
    cache = _cache_of(_engine(session))
    now = time.monotonic()
    if now - cache.checked_at >= cache.check_seconds and not (cache.check_seconds <= 0 and session.info.get(_CHECKED)):
        generation = session.scalar(select(KeyValue.value).where(KeyValue.key == GENERATION_KEY))
        session.info[_CHECKED] = True
        with cache.lock:
            if generation != cache.generation:
                cache.values.clear()
                cache.epoch += 1
                cache.generation = generation
            cache.checked_at = now
    with cache.lock:
        if key in cache.values:
            return cache.values[key]
        epoch = cache.epoch
    value = compute()
    with cache.lock:
        if cache.epoch == epoch and not session.info.get(_DIRTY):  # not what compute() itself changed
            cache.values[key] = value
    return value


# --------------------------------------------------------------------------- ORM rows
def snapshot(row: t.Any) -> tuple[type, dict[str, t.Any]] | None:
    """The column values of a row (``None`` stays ``None``)."""
    if row is None:
        return None
    mapper = inspect(row).mapper
    return type(row), {attr.key: copy.deepcopy(getattr(row, attr.key)) for attr in mapper.column_attrs}


def revive(session: Session, snap: tuple[type, dict[str, t.Any]] | None) -> t.Any:
    """A row of ``session`` built from a snapshot, without SQL."""
    if snap is None:
        return None
    model, values = snap
    mapper = inspect(model)
    key = mapper.identity_key_from_primary_key([values[c.key] for c in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:  # the session's own copy wins (it may hold changes not yet flushed)
        return held
    row = mapper.class_manager.new_instance()  # instrumented, __init__ not run
    for key, value in values.items():
        setattr(row, key, copy.deepcopy(value))
    make_transient_to_detached(row)
    return session.merge(row, load=False)


# --------------------------------------------------------------------------- invalidation
def _touches_watched(session: Session) -> bool:
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, WATCHED):
            return True
    return any(isinstance(obj, WATCHED) and session.is_modified(obj) for obj in session.dirty)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context, _instances) -> None:
    if _touches_watched(session):
        session.info[_DIRTY] = True
        session.info[_DIRTY + "_bump"] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if not session.info.pop(_DIRTY + "_bump", False):
        return
    from datetime import datetime, timedelta, timezone
    conn = session.connection()
    value = {"v": secrets.token_hex(8)}
    expires = datetime.now(timezone.utc) + timedelta(days=_FAR_FUTURE_DAYS)
    stmt = upsert_insert(conn, KeyValue.__table__).values(key=GENERATION_KEY, value=value, expires_at=expires)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


@event.listens_for(Session, "after_transaction_end")
def _settle(session: Session, transaction) -> None:
    """At the end of the outermost transaction (commit or rollback) of a session that
    changed watched rows, this process forgets what it cached."""
    if transaction.parent is not None or not session.info.pop(_DIRTY, False):
        return
    try:
        clear(_engine(session))
    except Exception:  # an unbound session has nothing cached
        pass
