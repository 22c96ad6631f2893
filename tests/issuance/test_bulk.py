"""Bulk issue as a job: rows done before an interruption are not done again, and still reported."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from plugin.jobs import lease
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import IssuedCredential, Job, KeyValue
from tests.bridges_support import make_definition

ROWS = [{"line": i + 2, "sub": f"learner-{i}", "email": "", "name": f"Learner {i}"} for i in range(12)]


@pytest.fixture
def definition_id(services):
    with services.session() as s:
        return make_definition(s, services=services, policy={"source": "openedx_webhook", "issuance": "automatic"}).id


def _enqueue(services, definition_id):
    return jobs.enqueue(services, "bulk_issue", {"definition_id": definition_id, "rows": ROWS, "actor": "test",
                                                 "filename": "passed.csv"}, max_attempts=3)


def _credentials(services, definition_id):
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(IssuedCredential)
                        .where(IssuedCredential.definition_id == definition_id))


def test_retried_bulk_job_resumes_where_it_stopped(services, definition_id, monkeypatch):
    # A failure inside the award is kept as a pending issuance (plugin.issuance.pending); what
    # stops the job is a failure around it, e.g. the connection dropping while the row's
    # evidence is written.
    from plugin.issuance import bulk
    real_evidence = bulk._evidence
    calls = []

    def evidence_that_crashes_once(session, definition, learner, *args):
        calls.append(learner.id)
        if len(calls) == 6:
            raise RuntimeError("the database connection dropped")
        return real_evidence(session, definition, learner, *args)
    monkeypatch.setattr(bulk, "_evidence", evidence_that_crashes_once)
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    job_id = _enqueue(services, definition_id)
    worker = EmbeddedWorker(services)
    assert worker.run_once() == "queued"  # rows 1-5 issued, row 6 failed: the job will be retried
    assert _credentials(services, definition_id) == 5
    with services.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(run_after=datetime.now(timezone.utc)))
    assert worker.run_once() == "done"
    assert len(calls) == 6 + 7  # the retry awarded rows 6-12 only, never rows 1-5 again
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.attempts == 2
        assert job.result["counts"] == {"issued": 12, "skipped": 0, "failed": 0, "pending": 0}
        assert [r["outcome"] for r in job.result["rows"]] == ["issued"] * 12
        assert s.scalar(select(func.count()).select_from(KeyValue)) == 0  # the row outcomes went with the job
    assert _credentials(services, definition_id) == 12


def test_worker_that_lost_the_job_issues_nothing_more(services, definition_id, monkeypatch):
    """A frozen worker resumes after another took its job over: its next row is refused."""
    job_id = _enqueue(services, definition_id)
    claimed_id, frozen_owner = EmbeddedWorker(services).claim()
    ctx = jobs.JobContext(services=services, job_id=job_id, attempt=1, max_attempts=3, owner=frozen_owner)
    with services.session() as s:  # meanwhile its lease expired and another worker took the job
        s.execute(update(Job).where(Job.id == job_id)
                  .values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert lease.take_over_expired(services) == [job_id]
    from plugin.issuance.bulk import run_bulk_issue_job
    with pytest.raises(lease.LeaseLost):
        run_bulk_issue_job(services, {"definition_id": definition_id, "rows": ROWS}, ctx)
    assert _credentials(services, definition_id) == 0
    assert EmbeddedWorker(services).run_until_empty() == 1
    assert _credentials(services, definition_id) == 12
