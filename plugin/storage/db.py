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
_READING = "microcred_sqlite_deferred"
_UPGRADE = "microcred_sqlite_upgrade"
_RELEASE = "microcred_sqlite_release"
_READ_STATEMENTS = ("SELECT", "PRAGMA", "EXPLAIN")


def is_write(statement: str, context=None) -> bool:
    """Whether a statement needs SQLite's write lock (conservative: anything but a plain read)."""
    head = statement.lstrip().upper()
    if not head.startswith(_READ_STATEMENTS):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


def reading_only(session: Session) -> bool:
    """Whether the session is in a SQLite transaction that has not written (nor asked to):
    it holds no write lock. Always false on PostgreSQL, which has no database-wide write lock."""
    if session.get_bind().dialect.name != "sqlite" or session.new or session.dirty or session.deleted:
        return False
    return bool(session.connection().info.get(_READING))


def take_write_lock(session: Session, *, wait: bool = True) -> bool:
    """Start writing now on SQLite (what the first write would do): later reads of the
    transaction see the latest commits and no other writer runs until it ends. With
    ``wait=False``, only if nobody else is writing: ``False`` (and the transaction goes on
    reading) when another thread or process holds the lock, for writes that may be put off
    rather than make a reader wait. Always ``True`` on PostgreSQL (nothing to do)."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    conn = session.connection()
    if conn.info.get(_READING):
        return conn.info[_UPGRADE](conn, wait)
    return True


@contextmanager
def write_apart(session: Session):
    """In a SQLite transaction that has not written (:func:`reading_only`): the block's writes
    are committed at its end, on their own, and the transaction goes on reading without the
    write lock, so what follows (signing) does not hold up other writers. Done on the
    session's own connection (a second one could exhaust the pool when many threads do
    this at once). When the block raises, its writes stay in the caller's transaction and
    share its fate. Anywhere else the block simply runs in the caller's transaction."""
    if not reading_only(session):
        yield
        return
    conn = session.connection()
    yield
    session.flush()
    info = conn.info
    if info.get(_HOLDS):
        driver = conn.connection.driver_connection
        driver.execute("COMMIT")
        info[_RELEASE](info)
        driver.execute("BEGIN")
        info[_READING] = True


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
            cur.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_TIMEOUT * 1000}")
            cur.close()
            # pysqlite's own transaction handling turns a SAVEPOINT into the start of the
            # transaction and its RELEASE into a COMMIT, so a savepoint (session.begin_nested)
            # would commit the outer work early and a later rollback would undo nothing.
            # Let SQLAlchemy issue BEGIN itself (the documented recipe).
            dbapi_conn.isolation_level = None

        # Reads never wait for writers: a transaction starts with a plain (deferred) BEGIN and,
        # in WAL mode, reads a snapshot while another connection writes. The write lock is
        # taken at the transaction's first write (INSERT/UPDATE/DELETE, a SAVEPOINT, DDL or a
        # SELECT ... FOR UPDATE, which SQLite cannot express): the read snapshot is ended (it
        # wrote nothing) and the transaction goes on under BEGIN IMMEDIATE, seeing every commit
        # made meanwhile. That is PostgreSQL's READ COMMITTED as far as the code can tell (rows
        # read before the first write may have changed since), which every path already
        # respects: exactly-once rests on unique indexes, counters on UPDATE ... RETURNING-style
        # statements, FOR UPDATE reads start the write lock. Upgrading the deferred transaction
        # in place instead would fail at once with SQLITE_BUSY_SNAPSHOT whenever another
        # connection had committed since its first read.
        #
        # The threads of this process queue for the write lock on a Python lock: a transaction
        # that ends hands it to the next waiter at once, where SQLite's own busy handler would
        # have the waiters sleep and poll (1, 2, 5 ... 100 ms), which made the slowest of 8
        # concurrent webhooks wait seconds. Other processes still meet the busy handler
        # (busy_timeout).
        write_lock = threading.Lock()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # Sent on the driver's connection: transaction control, like psycopg's implicit BEGIN
            # on PostgreSQL, is not one of the statements SQLAlchemy's events count.
            _release(conn.info)
            conn.connection.driver_connection.execute("BEGIN")
            conn.info[_READING] = True
            conn.info[_UPGRADE] = _take_write_lock
            conn.info[_RELEASE] = _release

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_write_intent(conn, _cursor, statement, _parameters, context, _executemany):
            if conn.info.get(_READING) and is_write(statement, context):
                _take_write_lock(conn)

        def _take_write_lock(conn, wait: bool = True) -> bool:
            if not write_lock.acquire(blocking=wait, timeout=SQLITE_LOCK_TIMEOUT if wait else -1):
                if not wait:
                    return False
                raise sqlite3.OperationalError("database is locked (waited for another thread's transaction)")
            conn.info[_HOLDS] = True
            conn.info.pop(_READING, None)
            driver = conn.connection.driver_connection
            try:
                driver.execute("COMMIT")  # the read snapshot: nothing was written in it
                if wait:
                    driver.execute("BEGIN IMMEDIATE")
                else:  # another process may be writing: do not wait for it either
                    driver.execute("PRAGMA busy_timeout=0")
                    try:
                        driver.execute("BEGIN IMMEDIATE")
                    finally:
                        driver.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_TIMEOUT * 1000}")
            except BaseException as exc:
                _release(conn.info)
                if not driver.in_transaction:  # stay inside a transaction, as SQLAlchemy believes
                    driver.execute("BEGIN")
                    conn.info[_READING] = True
                if not wait and isinstance(exc, sqlite3.OperationalError):
                    return False
                raise
            return True

        def _release(info) -> None:
            info.pop(_READING, None)
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
