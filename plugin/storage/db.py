"""Engine and session handling (no Flask here: the web layer binds a session per request)."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


SQLITE_LOCK_TIMEOUT = 30  # seconds, as busy_timeout
_HOLDS = "microcred_sqlite_write_lock"


def normalise_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # pysqlite's own transaction handling turns a SAVEPOINT into the start of the
            # transaction and its RELEASE into a COMMIT, so a savepoint (session.begin_nested)
            # would commit the outer work early and a later rollback would undo nothing.
            # Let SQLAlchemy issue BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None

        # The threads of this process queue for SQLite's write lock on a Python lock: a
        # transaction that ends hands it to the next waiter at once, where SQLite's own busy
        # handler would have the waiters sleep and poll (1, 2, 5 ... 100 ms), which made the
        # slowest of 8 concurrent webhooks wait seconds. Other processes still meet the busy
        # handler (busy_timeout).
        write_lock = threading.Lock()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # IMMEDIATE takes the write lock at BEGIN: two transactions that read then write
            # wait for each other (busy_timeout) instead of failing with "database is locked".
            # Sent on the driver's connection: transaction control, like psycopg's implicit BEGIN
            # on PostgreSQL, is not one of the statements SQLAlchemy's events count.
            if not write_lock.acquire(timeout=SQLITE_LOCK_TIMEOUT):
                raise sqlite3.OperationalError("database is locked (waited for another thread's transaction)")
            conn.info[_HOLDS] = True
            try:
                conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn.info)
                raise

        def _release(info) -> None:
            if info.pop(_HOLDS, False):
                write_lock.release()

        event.listen(engine, "commit", lambda conn: _release(conn.info))
        event.listen(engine, "rollback", lambda conn: _release(conn.info))
        # A connection that goes back to the pool (or is closed) mid-transaction lets go too.
        event.listen(engine.pool, "reset", lambda dbapi_conn, record, reset_state: _release(record.info))
        event.listen(engine.pool, "checkin", lambda dbapi_conn, record: _release(record.info))
        event.listen(engine.pool, "invalidate", lambda dbapi_conn, record, exc: _release(record.info))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def upsert_insert(session_or_conn, target):
    """``INSERT`` of the session's dialect with ``ON CONFLICT`` support (PostgreSQL or SQLite):
    ``upsert_insert(s, Model).values(...).on_conflict_do_nothing()``."""
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(target)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]):
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
