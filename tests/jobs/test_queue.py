import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import Job
from tests.jobs import handlers
from tests.jobs.workers import REDIS_URL, redis_or_skip


@pytest.fixture(autouse=True)
def flaky_kind(monkeypatch):
    monkeypatch.setitem(jobs.JOB_KINDS, "test_flaky", "tests.jobs.handlers:flaky")
    handlers.RAN.clear()


def _job(services, job_id):
    with services.session() as s:
        return s.get(Job, job_id)


def test_failing_job_is_retried_with_backoff_then_succeeds(services, monkeypatch):
    job_id = jobs.enqueue(services, "test_flaky", {"name": "a", "succeed_on": 3})
    worker = EmbeddedWorker(services)
    assert worker.run_once() == "queued"
    job = _job(services, job_id)
    assert job.status == "queued" and job.attempts == 1
    assert "platform unreachable" in job.last_error
    run_after = job.run_after.replace(tzinfo=job.run_after.tzinfo or timezone.utc)  # SQLite gives naive UTC
    wait = (run_after - datetime.now(timezone.utc)).total_seconds()
    assert 1.0 < wait <= 2.2  # first retry after BACKOFF_BASE (2 s) plus jitter
    assert worker.run_once() is None  # not due yet
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    with services.session() as s:
        s.get(Job, job_id).run_after = datetime.now(timezone.utc)
    assert worker.run_until_empty() == 2
    job = _job(services, job_id)
    assert job.status == "done" and job.attempts == 3 and job.last_error is None
    assert job.result == {"answer": "A", "name": "a", "progress": {"done": 1, "total": 1}}
    assert handlers.RAN == [("a", 1), ("a", 2), ("a", 3)]


def test_backoff_grows_exponentially_and_is_capped():
    assert jobs.backoff_delay(1, base=2, cap=100) == pytest.approx(2, rel=0.11)
    assert jobs.backoff_delay(4, base=2, cap=100) == pytest.approx(16, rel=0.11)
    assert jobs.backoff_delay(20, base=2, cap=100) == pytest.approx(100, rel=0.11)


def test_job_fails_for_good_after_max_attempts(services, monkeypatch):
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    job_id = jobs.enqueue(services, "test_flaky", {"name": "b", "succeed_on": 99}, max_attempts=3)
    EmbeddedWorker(services).run_until_empty()
    job = _job(services, job_id)
    assert job.status == "failed" and job.attempts == 3
    assert "attempt 3" in job.last_error


def test_job_enqueued_in_a_rolled_back_transaction_never_runs(services):
    with pytest.raises(RuntimeError):
        with services.session() as s:
            jobs.enqueue(services, "test_flaky", {"name": "c"}, session=s)
            raise RuntimeError("the request failed")
    assert EmbeddedWorker(services).run_until_empty() == 0
    with services.session() as s:
        assert s.scalars(select(Job)).all() == []


def test_unknown_kind_is_refused_at_enqueue(services):
    with pytest.raises(jobs.UnknownJobKind):
        jobs.enqueue(services, "no_such_kind", {})


def test_concurrent_workers_run_each_job_exactly_once(services):
    ids = [jobs.enqueue(services, "test_flaky", {"name": f"j{i}"}) for i in range(24)]
    workers = [EmbeddedWorker(services) for _ in range(4)]
    threads = [threading.Thread(target=w.run_until_empty) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(name for name, _ in handlers.RAN) == sorted(f"j{i}" for i in range(24))
    with services.session() as s:
        assert {j.status for j in s.scalars(select(Job).where(Job.id.in_(ids)))} == {"done"}


def test_redis_backend_runs_and_retries_jobs_with_rq(services, monkeypatch):
    from rq import Queue, SimpleWorker

    from plugin.jobs import rq_tasks
    conn = redis_or_skip()
    name = f"microcred-test-{uuid.uuid4().hex[:8]}"
    services.settings.redis_url = REDIS_URL
    services.extras["rq_queue"] = name
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    queue = jobs.get_queue(services)
    assert queue.backend == "redis"
    try:
        with services.session() as s:
            job_id = jobs.enqueue(services, "test_flaky", {"name": "r", "succeed_on": 2}, session=s)
            assert Queue(name, connection=conn).count == 0  # pushed only once committed
        assert Queue(name, connection=conn).count == 1
        with pytest.raises(RuntimeError):
            with services.session() as s:
                jobs.enqueue(services, "test_flaky", {"name": "never"}, session=s)
                raise RuntimeError("request failed")
        assert Queue(name, connection=conn).count == 1  # the rolled-back job was never dispatched
        rq_tasks.bind(services)
        SimpleWorker([name], connection=conn).work(burst=True)
        job = _job(services, job_id)
        assert job.status == "done" and job.attempts == 2
        assert handlers.RAN == [("r", 1), ("r", 2)]
        # The embedded worker leaves Redis jobs alone only because it is not run with Redis;
        # the row is already done, so running it again does nothing.
        assert jobs.execute_job(services, job_id) == "skipped"
    finally:
        rq_tasks.bind(None)
        Queue(name, connection=conn).delete(delete_jobs=True)
