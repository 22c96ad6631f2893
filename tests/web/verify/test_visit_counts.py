"""Page views and verifications of the public verification page (issue 12: a link shared on
LinkedIn brings a wave of verifications): a view runs no write statement; the counts are
written in batches (:mod:`plugin.issuance.visits`) and end up exact, also when several
processes, sharing one database (SQLite, PostgreSQL) or one Redis, count at once.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event, in the request's
thread only (the counter's own flushing thread may write meanwhile, which is the point).
"""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import event, select

from plugin.issuance import service as issuance
from plugin.issuance import visits
from plugin.storage.models import IssuedCredential
from tests.engine_helpers import make_world

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def _issued(services) -> str:
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Ada King", actor="test")
        return row.public_id


def _counts(services, public_id: str) -> tuple[int, int]:
    with services.session() as s:
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        return row.page_views, row.verifications


def _statements_of_this_thread(engine) -> list[str]:
    me, seen = threading.get_ident(), []

    def listener(conn, cursor, statement, *rest):
        if threading.get_ident() == me:
            seen.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    return seen


def _view(client, public_id: str, as_json: bool):
    r = client.get(f"/verify/{public_id}", headers={"Accept": "application/json"} if as_json else {})
    assert r.status_code == 200, r.data[:300]


def test_a_view_runs_no_write_statement_and_is_counted_after_the_flush(client, services):
    public_id = _issued(services)
    _view(client, public_id, False)  # the first view fills the caches (report, page)
    _view(client, public_id, True)
    visits.flush(services)
    assert _counts(services, public_id) == (1, 1)

    statements = _statements_of_this_thread(services.engine)
    for _ in range(3):
        _view(client, public_id, False)
    for _ in range(2):
        _view(client, public_id, True)
    assert client.get(f"/credentials/{public_id}").status_code == 200  # a wallet fetching the credential
    assert statements, "the views read the database"
    writes = [s for s in statements if s.lstrip().upper().startswith(WRITES)]
    assert writes == [], writes
    assert _counts(services, public_id) == (1, 1)  # not written yet...
    assert visits.flush(services) == 6
    assert _counts(services, public_id) == (4, 4)  # ...and exact after the flush
    assert visits.flush(services) == 0  # nothing written twice


def test_the_course_dashboard_shows_every_view_its_process_counted(client, services):
    """The dashboard writes what its process counted before it reads: exact at once."""
    import re

    from plugin.storage.models import CredentialDefinition, Platform
    from tests.web.helpers import launch
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Ada King", actor="test")
        public_id = row.public_id
        course = s.get(CredentialDefinition, world.definition_id).course
        p = Platform(issuer=course.platform_issuer, client_id="c", name="LMS", auth_login_url="https://lms.example/a",
                     auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k", bridge_settings={})
        s.add(p)
        s.flush()
        pid, context = p.id, course.context_id
    for _ in range(5):
        _view(client, public_id, False)
    for _ in range(2):
        _view(client, public_id, True)
    assert visits.counter(services).pending() and _counts(services, public_id) == (0, 0)
    lid = launch(services, ["instructor"], platform_id=pid, context_id=context)
    html = client.get(f"/instructor/dashboard?launch={lid}").get_data(as_text=True)
    figures = dict(re.findall(r'data-count="(\w+)"><span class="stat-label">[^<]*</span> <strong[^>]*>([\d,]+)</strong>',
                              html))
    assert figures["shared"] == "5" and figures["verifications"] == "2"
    assert _counts(services, public_id) == (5, 2) and not visits.counter(services).pending()


def _instances(settings, n=2):
    """``n`` app instances on one database, each with its own engine and counter: processes
    of one deployment, as far as the counts are concerned."""
    from plugin.app import create_app
    from plugin.services import build_services
    out = []
    for _ in range(n):
        svc = build_services(settings)
        app = create_app(services=svc)
        app.config.update(TESTING=True)
        out.append((svc, app))
    return out


def _wave(instances, public_id: str, per_thread: int, threads_per_instance: int) -> int:
    def run(app, as_json):
        client = app.test_client()
        for _ in range(per_thread):
            _view(client, public_id, as_json)
    threads = [threading.Thread(target=run, args=(app, i % 2 == 1))
               for _svc, app in instances for i in range(threads_per_instance)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_thread * len(threads)


def _close(instances):
    for svc, _app in instances:
        visits.stop(svc)
        svc.engine.dispose()


def test_n_views_on_two_instances_sharing_one_database_are_n_counted(services, settings):
    public_id = _issued(services)
    instances = _instances(settings)
    try:
        total = _wave(instances, public_id, per_thread=15, threads_per_instance=4)  # 120 views at once
        # Each instance flushes on its own, one of them twice (the second time: nothing left).
        written = sum(visits.flush(svc) for svc, _app in instances) + visits.flush(instances[0][0])
        assert written == total
        assert _counts(services, public_id) == (total // 2, total // 2)
        # More views, and both instances flushing at the same time
        more = _wave(instances, public_id, per_thread=5, threads_per_instance=2)
        flushers = [threading.Thread(target=visits.flush, args=(svc,)) for svc, _app in instances]
        for t in flushers:
            t.start()
        for t in flushers:
            t.join()
        assert sum(_counts(services, public_id)) == total + more
    finally:
        _close(instances)


def test_counts_left_at_shutdown_are_written(services, settings):
    public_id = _issued(services)
    instances = _instances(settings, 1)
    svc, app = instances[0]
    client = app.test_client()
    for _ in range(3):
        _view(client, public_id, True)
    assert _counts(services, public_id) == (0, 0)
    visits.stop(svc)  # what the process does at exit (atexit)
    svc.engine.dispose()
    assert _counts(services, public_id) == (0, 3)


def _redis_or_skip():
    try:
        from redis import Redis
        Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip("Redis not reachable at 127.0.0.1:6379")


def test_with_redis_every_instance_counts_in_redis_and_one_flush_writes_them_all(services, settings):
    """With MICROCRED_REDIS_URL the counts are shared: the RQ worker's maintenance (or any
    process) writes the views every web process counted."""
    import dataclasses

    from redis import Redis
    _redis_or_skip()
    public_id = _issued(services)
    shared = dataclasses.replace(settings, redis_url="redis://127.0.0.1:6379/0",
                                 rq_queue=f"test-visits-{uuid.uuid4().hex[:8]}")
    instances = _instances(shared)
    try:
        total = _wave(instances, public_id, per_thread=10, threads_per_instance=2)
        key = visits.counter(instances[0][0]).redis_key
        assert sum(int(v) for v in Redis.from_url(shared.redis_url).hgetall(key).values()) == total
        assert _counts(services, public_id) == (0, 0)
        from plugin.jobs.maintenance import Maintenance

        class _NoQueue:
            def retry_later(self, job_id, delay):
                pass
        worker_services = instances[1][0]  # stands for the RQ worker: it counted nothing itself
        done = Maintenance(worker_services, queue=_NoQueue()).run_once()
        assert done["visits"] == total
        assert _counts(services, public_id) == (total // 2, total // 2)
        assert not Redis.from_url(shared.redis_url).exists(key)
    finally:
        _close(instances)
