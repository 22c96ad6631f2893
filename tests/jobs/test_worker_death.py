"""A worker killed with -9 in the middle of a bulk issue: another worker takes the job over
and finishes it, every credential issued exactly once and reported as issued.

Real ``microcred worker`` processes, on SQLite and PostgreSQL, with the embedded queue and
with RQ (Redis). The lease is shortened to 8 s so the test is quick; with the default 30 s
lease the takeover happens within 40 s of the death (see docs/bridges.md).
"""
import time

import pytest
from sqlalchemy import func, select

from plugin.jobs import queue as jobs
from plugin.storage.models import IssuedCredential, Job, KeyValue
from tests.bridges_support import Issued, make_definition
from tests.jobs.workers import WorkerProcess, drop_rq_queue, use_rq, wait_for

pytestmark = pytest.mark.slow
ROWS = 300
LEASE = "8"


@pytest.fixture(params=["embedded", "rq"])
def backend(request, services, monkeypatch):
    monkeypatch.setenv("MICROCRED_JOB_LEASE_SECONDS", LEASE)
    if request.param == "embedded":
        yield "embedded"
        return
    name = use_rq(services, monkeypatch)
    yield "rq"
    drop_rq_queue(name)


def _job(services, job_id):
    with services.session() as s:
        return s.get(Job, job_id)


def _issued(services, definition_id):
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(IssuedCredential)
                        .where(IssuedCredential.definition_id == definition_id))


def test_killed_worker_job_is_finished_by_another_exactly_once(services, backend, tmp_path):
    with services.session() as s:
        definition = make_definition(s, services=services, policy={"source": "openedx_webhook",
                                                                   "issuance": "automatic"})
        definition_id = definition.id
    rows = [{"line": i + 2, "sub": f"learner-{i}", "email": "", "name": f"Learner {i}"} for i in range(ROWS)]
    job_id = jobs.enqueue(services, "bulk_issue", {"definition_id": definition_id, "rows": rows, "actor": "test",
                                                  "filename": "passed.csv", "batch_size": 25}, max_attempts=3)

    first = WorkerProcess(tmp_path / "worker1.log")
    second = None
    try:
        def started():
            progress = (_job(services, job_id).result or {}).get("progress") or {}
            return (progress.get("done") or 0) >= 30
        wait_for(started, 180, what="the first worker's progress", worker=first)
        first.kill9()
        killed_at = time.monotonic()
        job = _job(services, job_id)
        before = _issued(services, definition_id)
        assert job.status == "running", (f"the job must be cut in the middle (status {job.status}, "
                                         f"last error {job.last_error}):\n{first.output()}")
        assert 0 < before < ROWS

        second = WorkerProcess(tmp_path / "worker2.log")
        wait_for(lambda: _job(services, job_id).status in ("done", "failed"), 180,
                 what="the takeover and the end of the job", worker=second)
        took = time.monotonic() - killed_at
        print(f"\n[{backend}] killed after {before} credentials; job done {took:.1f} s after the kill")
    finally:
        first.stop()
        if second is not None:
            second.stop()

    job = _job(services, job_id)
    assert job.status == "done", job.last_error
    assert job.attempts == 2  # the dead worker's attempt and the takeover
    assert job.result["counts"] == {"issued": ROWS, "skipped": 0, "failed": 0, "pending": 0}
    assert [r["line"] for r in job.result["rows"]] == [r["line"] for r in rows]
    assert {r["outcome"] for r in job.result["rows"]} == {"issued"}  # even those issued before the kill
    with services.session() as s:
        learners = s.scalars(select(IssuedCredential.learner_id)
                             .where(IssuedCredential.definition_id == definition_id)).all()
        assert len(learners) == len(set(learners)) == ROWS  # none lost, none doubled
        assert s.scalar(select(func.count()).select_from(KeyValue).where(KeyValue.key.startswith("bulk:"))) == 0
    # The credentials on both sides of the kill are whole and verify.
    issued = Issued(services).all()
    for credential in (issued[before - 1], issued[before]):
        json_report, jwt_report = Issued(services).verify(credential)
        assert json_report.status == jwt_report.status == "valid", (json_report, jwt_report)
