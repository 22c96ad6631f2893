"""Page views and verifications of credentials (the course dashboard shows them), counted
without making a reader wait.

A view adds one to a counter in this process and writes what is pending at once when the
database can take a write without waiting. On SQLite, while another thread or process holds
the write lock, the count stays pending and is written by a later view of this process:
a public page never queues behind a bulk issue for a statistic. On PostgreSQL every view
writes at once, as before (its row-level writes do not wait for other writers).
"""
from __future__ import annotations

import threading
import weakref
from collections import Counter

from sqlalchemy import update
from sqlalchemy.orm import Session

from plugin.storage.db import take_write_lock
from plugin.storage.models import IssuedCredential

COLUMNS = ("page_views", "verifications")
_lock = threading.Lock()
_pending: "weakref.WeakKeyDictionary[object, Counter]" = weakref.WeakKeyDictionary()  # per engine


def pending(engine) -> dict[tuple[int, str], int]:
    with _lock:
        return dict(_pending.get(engine, {}))


def count(session: Session, credential_row_id: int, column: str) -> bool:
    """One more ``column`` for the credential; commits the session when it writes. Returns
    whether the counts were written now (else they wait for a later view)."""
    if column not in COLUMNS:
        raise ValueError(f"unknown counter {column}")
    engine = session.get_bind()
    with _lock:
        _pending.setdefault(engine, Counter())[(credential_row_id, column)] += 1
    return flush(session)


def flush(session: Session, *, wait: bool = False) -> bool:
    """Write this process's pending counts for the session's database (and commit)."""
    engine = session.get_bind()
    with _lock:
        if not _pending.get(engine):
            return True
    if not take_write_lock(session, wait=wait):
        return False
    with _lock:
        batch = _pending.pop(engine, Counter())
    try:
        for (row_id, column), n in sorted(batch.items()):
            session.execute(update(IssuedCredential).where(IssuedCredential.id == row_id)
                            .values({column: getattr(IssuedCredential, column) + n})
                            .execution_options(synchronize_session=False))
        session.commit()
    except BaseException:
        session.rollback()
        with _lock:
            _pending.setdefault(engine, Counter()).update(batch)
        raise
    return True
