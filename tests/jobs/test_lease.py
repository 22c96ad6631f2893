"""Leases: a running job belongs to its worker while the heartbeat renews it; when the worker
dies the job is taken over, and a worker that lost its lease cannot overwrite the new one's work."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from plugin.jobs import lease
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import Job
from tests.jobs import handlers


@pytest.fixture(autouse=True)
def kinds(monkeypatch):
    monkeypatch.setitem(jobs.JOB_KINDS, "test_flaky", "tests.jobs.handlers:flaky")
    monkeypatch.setitem(jobs.JOB_KINDS, "test_blocking", "tests.jobs.handlers:blocking")
    handlers.RAN.clear()
    handlers.GATE.clear()
    handlers.STARTED.clear()
    yield
    handlers.GATE.set()


def _job(services, job_id):
    with services.session() as s:
        return s.get(Job, job_id)


def _expire(services, job_id):
    """What a dead worker leaves behind: a running row whose lease ran out."""
    with services.session() as s:
        s.execute(update(Job).where(Job.id == job_id)
                  .values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))


def test_a_claimed_job_holds_a_lease_until_it_is_done(services):
    job_id = jobs.enqueue(services, "test_flaky", {"name": "a"})
    worker = EmbeddedWorker(services)
    claimed_id, owner = worker.claim()
    job = _job(services, job_id)
    assert claimed_id == job_id and job.status == "running" and job.lease_owner == owner
    remaining = (job.lease_expires_at - datetime.now(timezone.utc)).total_seconds()
    assert 0 < remaining <= services.settings.job_lease_seconds
    assert jobs.execute_job(services, job_id, claimed=True, owner=owner) == "done"
    job = _job(services, job_id)
    assert job.status == "done" and job.lease_owner is None and job.lease_expires_at is None


def test_job_of_a_dead_worker_is_taken_over_and_finished_by_another(services):
    job_id = jobs.enqueue(services, "test_flaky", {"name": "orphan"})
    claimed_id, dead_owner = EmbeddedWorker(services).claim()  # then the worker "dies"
    assert lease.take_over_expired(services) == []  # the lease is still valid: nobody touches it
    _expire(services, job_id)
    other = EmbeddedWorker(services, maintenance=True)
    assert other.run_until_empty() == 1
    job = _job(services, job_id)
    assert job.status == "done" and job.attempts == 2
    assert handlers.RAN == [("orphan", 2)]


def test_live_heartbeat_keeps_the_job_with_its_worker(services):
    services.settings.job_lease_seconds = 3  # heartbeat every second
    job_id = jobs.enqueue(services, "test_blocking", {"name": "long"})
    worker = EmbeddedWorker(services)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert handlers.STARTED.wait(10)
    first = _job(services, job_id).lease_expires_at
    time.sleep(4.5)  # longer than the lease: only the heartbeat keeps it
    assert lease.take_over_expired(services) == []
    assert _job(services, job_id).lease_expires_at > first
    handlers.GATE.set()
    thread.join(20)
    assert _job(services, job_id).status == "done"


def test_worker_that_lost_its_lease_cannot_overwrite_the_takeover(services):
    """A frozen (not dead) worker wakes up after its job was taken over: its writes are refused."""
    services.settings.job_lease_seconds = 3
    job_id = jobs.enqueue(services, "test_blocking", {"name": "frozen"})
    frozen = EmbeddedWorker(services)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(frozen.run_once()))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lease.Heartbeat, "_run", lambda self: None)  # frozen: no heartbeat
        thread.start()
        assert handlers.STARTED.wait(10)
        _expire(services, job_id)
        assert lease.take_over_expired(services) == [job_id]
    claimed_id, new_owner = EmbeddedWorker(services).claim()
    assert claimed_id == job_id
    handlers.GATE.set()  # the frozen worker resumes: its progress write finds another owner
    thread.join(20)
    assert outcome == ["lost"]
    job = _job(services, job_id)
    assert job.status == "running" and job.lease_owner == new_owner and job.attempts == 2
    assert jobs.execute_job(services, job_id, claimed=True, owner=new_owner) == "done"
    assert _job(services, job_id).result["finished_by"] == new_owner


def test_job_that_kills_its_worker_every_time_fails_after_its_last_attempt(services):
    job_id = jobs.enqueue(services, "test_flaky", {"name": "poison"}, max_attempts=2)
    for _ in range(2):
        EmbeddedWorker(services).claim()
        _expire(services, job_id)
        lease.take_over_expired(services)
    job = _job(services, job_id)
    assert job.status == "failed" and job.attempts == 2
    assert "stopped renewing its lease" in job.last_error and "last attempt" in job.last_error
    assert handlers.RAN == []


def test_running_row_from_before_leases_is_taken_over_once_stale(services):
    job_id = jobs.enqueue(services, "test_flaky", {"name": "legacy"})
    with services.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(status="running", attempts=1))
    assert lease.take_over_expired(services) == []  # just updated: its worker may be alive
    with services.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(
            updated_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    assert lease.take_over_expired(services) == [job_id]
    assert EmbeddedWorker(services).run_until_empty() == 1
    assert _job(services, job_id).status == "done"


def test_two_workers_taking_over_at_once_requeue_the_job_once(services):
    ids = [jobs.enqueue(services, "test_flaky", {"name": f"t{i}"}) for i in range(6)]
    worker = EmbeddedWorker(services)
    for _ in ids:
        worker.claim()
    for job_id in ids:
        _expire(services, job_id)
    found: list[list[int]] = []
    threads = [threading.Thread(target=lambda: found.append(lease.take_over_expired(services))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(i for batch in found for i in batch) == sorted(ids)


def test_rq_execution_takes_a_queued_row_once(services):
    """RQ may deliver a job twice (a takeover dispatches it again): one execution runs it."""
    job_id = jobs.enqueue(services, "test_flaky", {"name": "twice"})
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(jobs.execute_job(services, job_id))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["done", "skipped", "skipped"]
    assert handlers.RAN == [("twice", 1)]
