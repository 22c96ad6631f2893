"""Page views and verifications of credentials (the course dashboard shows them), counted
without a database write on the request path.

A view adds one to a counter: in this process (the default), or in Redis when
``MICROCRED_REDIS_URL`` is set (one ``HINCRBY``, shared by every process of the instance).
The counts are written to ``issued_credential.page_views`` / ``verifications`` in batches
(one ``UPDATE ... SET n = n + k`` per credential, so several processes never lose each
other's increments):

* every ``MICROCRED_VISIT_FLUSH_SECONDS`` (default 5) by a thread of the process that
  counted (started at its first view), and by the workers' maintenance round (RQ worker,
  embedded worker: what is pending in Redis, and in this process);
* when the process exits normally (``atexit``);
* before the course dashboard reads them (:func:`flush`), so an instructor's own process
  shows exact figures.

A process that crashes loses what it had not written yet: at most the last
``MICROCRED_VISIT_FLUSH_SECONDS`` of views (with Redis, only an increment taken out of Redis by
a flush that died before its commit). A failed write puts the counts back, to be written by
the next flush.
"""
from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections import Counter

from sqlalchemy import bindparam, update

from plugin.storage.models import IssuedCredential

log = logging.getLogger("microcred.visits")

COLUMNS = ("page_views", "verifications")
DEFAULT_FLUSH_SECONDS = 5.0
_table = IssuedCredential.__table__
_STATEMENT = (update(_table).where(_table.c.id == bindparam("rid"))
              .values(page_views=_table.c.page_views + bindparam("pv"),
                      verifications=_table.c.verifications + bindparam("vf")))


class VisitCounter:
    """The counts of one ``Services`` (one database) in this process."""

    def __init__(self, services):
        self.services = services
        self.interval = float(getattr(services.settings, "visit_flush_seconds", DEFAULT_FLUSH_SECONDS))
        self._lock = threading.Lock()
        self._pending: Counter = Counter()  # (row id, column) -> views not written yet
        self._flushing = threading.Lock()  # one flush at a time per process and database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._redis = None
        self.redis_key = None
        if services.settings.redis_url:
            from redis import Redis
            # Short timeouts: an unreachable Redis never holds a page; the count stays here instead.
            self._redis = Redis.from_url(services.settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self.redis_key = f"microcred:{services.settings.rq_queue}:visits"

    # ------------------------------------------------------------------ counting
    def count(self, row_id: int, column: str) -> None:
        """One more ``column`` for the credential row: no database statement."""
        if column not in COLUMNS:
            raise ValueError(f"unknown counter {column}")
        if self._redis is not None:
            try:
                self._redis.hincrby(self.redis_key, f"{row_id}:{column}", 1)
                self._start()
                return
            except Exception:  # noqa: BLE001 - Redis away for a moment: count here, written all the same
                log.warning("could not count a visit in Redis; counted in this process", exc_info=True)
        with self._lock:
            self._pending[(row_id, column)] += 1
        self._start()

    def pending(self) -> dict[tuple[int, str], int]:
        """What this process has counted and not written yet (Redis's share left out)."""
        with self._lock:
            return dict(self._pending)

    # ------------------------------------------------------------------ writing
    def _take(self) -> Counter:
        with self._lock:
            batch, self._pending = self._pending, Counter()
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline(transaction=True)  # MULTI: read and empty at once
                pipe.hgetall(self.redis_key)
                pipe.delete(self.redis_key)
                shared, _ = pipe.execute()
                for field, n in shared.items():
                    row_id, column = field.decode().split(":", 1)
                    if column in COLUMNS:
                        batch[(int(row_id), column)] += int(n)
            except Exception:  # noqa: BLE001 - written by a later flush
                log.warning("could not read the visit counts from Redis", exc_info=True)
        return batch

    def flush(self) -> int:
        """Write every pending count (this process's and Redis's); returns how many views were
        written. On failure the counts are kept for the next flush and the error is raised."""
        with self._flushing:
            batch = self._take()
            if not batch:
                return 0
            rows: dict[int, dict[str, int]] = {}
            for (row_id, column), n in batch.items():
                rows.setdefault(row_id, {"rid": row_id, "pv": 0, "vf": 0})["pv" if column == "page_views" else "vf"] += n
            try:
                # In id order: two processes flushing at once lock the rows in the same order.
                with self.services.engine.begin() as conn:
                    conn.execute(_STATEMENT, [rows[k] for k in sorted(rows)])
            except BaseException:
                with self._lock:
                    self._pending.update(batch)  # kept in this process: the next flush writes them
                raise
            return sum(batch.values())

    # ------------------------------------------------------------------ the thread
    def _start(self) -> None:
        if self._thread is not None or self.interval <= 0:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="microcred-visit-counts", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the database is away for a moment: the next round
                log.warning("could not write the visit counts; trying again later", exc_info=True)

    def stop(self, *, flush: bool = True) -> None:
        """Stop the thread and (by default) write what is pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if flush:
            self.flush()


_counters: "weakref.WeakSet[VisitCounter]" = weakref.WeakSet()
_create = threading.Lock()


def counter(services) -> VisitCounter:
    """The counter of ``services`` (made on first use)."""
    found = services.extras.get("visits")
    if found is None:
        with _create:
            found = services.extras.get("visits")
            if found is None:
                found = services.extras["visits"] = VisitCounter(services)
                _counters.add(found)
    return found


def count(services, row_id: int, column: str) -> None:
    """One more page view (``page_views``) or verification (``verifications``) of a credential."""
    counter(services).count(row_id, column)


def flush(services) -> int:
    """Write the pending counts now (this process's, and Redis's when configured); returns
    how many views were written. For the dashboard, the workers, the shutdown and the tests."""
    found = services.extras.get("visits")
    if found is None and not services.settings.redis_url:
        return 0  # nothing counted in this process
    return counter(services).flush()


def stop(services) -> None:
    """Stop the flushing thread of ``services`` after a last flush (tests, an app's shutdown)."""
    found = services.extras.pop("visits", None)
    if found is not None:
        _counters.discard(found)
        found.stop()


def flush_all() -> int:
    """Write what every counter of this process holds (a gunicorn worker that exits)."""
    written = 0
    for c in list(_counters):
        try:
            written += c.flush()
        except Exception:  # noqa: BLE001 - the database may be away: said in the log
            log.warning("could not write the visit counts", exc_info=True)
    return written


@atexit.register
def _flush_at_exit() -> None:
    for c in list(_counters):
        try:
            c.stop()
        except Exception:  # noqa: BLE001 - the database may already be gone at exit
            log.warning("could not write the visit counts at exit", exc_info=True)
