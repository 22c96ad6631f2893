"""Bulk issue as a job: batched, every row reported, batches done before an interruption not done again."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from plugin.issuance import bulk
from plugin.issuance.batch import BatchIssuer
from plugin.jobs import lease
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import (AuditLog, BulkUpload, CredentialDefinition, IssuedCredential, Job, KeyValue,
                                   Learner, StatusListSlot)
from tests.bridges_support import ISSUER, Issued, make_definition

ROWS = [{"line": i + 2, "sub": f"learner-{i}", "email": "", "name": f"Learner {i}"} for i in range(12)]


@pytest.fixture
def definition_id(services):
    with services.session() as s:
        return make_definition(s, services=services, policy={"source": "openedx_webhook", "issuance": "automatic"}).id


def _enqueue(services, definition_id, batch_size=5):
    return jobs.enqueue(services, "bulk_issue", {"definition_id": definition_id, "rows": ROWS, "actor": "test",
                                                 "filename": "passed.csv", "batch_size": batch_size}, max_attempts=3)


def _upload(services, definition_id, csv_text: str) -> int:
    with services.session() as s:
        return bulk.start_bulk_issue(s, services, s.get(CredentialDefinition, definition_id), csv_text.encode(),
                                     actor="lti:teacher", filename="passed.csv")


def _credentials(services, definition_id):
    with services.session() as s:
        return s.scalar(select(func.count()).select_from(IssuedCredential)
                        .where(IssuedCredential.definition_id == definition_id))


def test_uploaded_file_is_issued_in_batches_with_a_report_row_per_line(services, definition_id, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_SIZE", 4)
    with services.session() as s:
        s.add(Learner(platform_issuer=ISSUER, sub="known", email="Known@Example.edu", name="Known"))
        for n in (1, 2):
            s.add(Learner(platform_issuer=ISSUER, sub=f"twin-{n}", email="twin@example.edu"))
    lines = ["sub,email,name"] + [f"s-{i},,Person {i}" for i in range(9)]
    lines += [",known@example.edu,Known", ",nobody@example.edu,Nobody", ",twin@example.edu,Twin", ",,",
              ",not-an-email,Nobody", "s-3,,Person 3 again"]
    job_id = _upload(services, definition_id, "\n".join(lines) + "\n")
    assert EmbeddedWorker(services).run_until_empty() >= 1
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.last_error
        rows = job.result["rows"]
        assert job.result["counts"] == {"issued": 10, "skipped": 4, "failed": 0, "pending": 0}
        assert [r["line"] for r in rows] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16]  # the blank line is left out
        assert [r["code"] for r in rows[10:]] == ["unknown_email", "ambiguous_email", "no_identity", "already_active"]
        assert rows[9]["who"] == "Known" and rows[9]["outcome"] == "issued"
        assert s.scalar(select(func.count()).select_from(BulkUpload)) == 0  # the list is not kept after the job
        assert s.scalar(select(func.count()).select_from(KeyValue).where(KeyValue.key.startswith("bulk:"))) == 0
        learners = s.scalars(select(IssuedCredential.learner_id)
                             .where(IssuedCredential.definition_id == definition_id)).all()
        assert len(learners) == len(set(learners)) == 10
        # every credential has its own status index and an audit row, as award() gives it
        slots = s.scalars(select(StatusListSlot.index)).all()
        assert len(slots) == len(set(slots)) == 10
        assert s.scalar(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "credential.issue", AuditLog.actor == "lti:teacher")) == 10
        # the learners with an e-mail are told (one job each)
        notify = s.scalars(select(Job).where(Job.kind == "notify_credential_ready")).all()
        assert len(notify) == 1
    issued = Issued(services)
    for credential in issued.all()[:3]:
        json_report, jwt_report = issued.verify(credential)
        assert json_report.status == jwt_report.status == "valid", (json_report, jwt_report)


def test_credentials_signed_by_the_process_pool_verify_in_the_reference_verifiers(services, definition_id,
                                                                                    monkeypatch, js_verify):
    from plugin.issuance import batch_signing
    monkeypatch.setattr(batch_signing, "POOL_MIN_ITEMS", 2)
    monkeypatch.setenv("MICROCRED_BULK_WORKERS", "2")
    job_id = _upload(services, definition_id, "sub,name\n" + "".join(f"p-{i},P {i}\n" for i in range(6)))
    assert jobs.execute_job(services, job_id) == "done"
    assert _credentials(services, definition_id) == 6
    issued = Issued(services)
    documents = [c["document"] for c in issued.all()]
    for credential in issued.all():
        json_report, jwt_report = issued.verify(credential)
        assert json_report.status == jwt_report.status == "valid", (json_report, jwt_report)
    from plugin.verification.resolver import documents_for
    with services.session() as s:
        resolved = documents_for(s, services, documents[:3])
    results = js_verify(documents[:3], resolved, verifiers=["digitalbazaar"])
    assert all(r["digitalbazaar"]["verified"] is True for r in results), results
    # The pool's VC-JWTs (written without PyJWT, see plugin.signing.jwt.VcJwtSigner) through npm jose,
    # with the claims OB 3.0 §8.2 requires.
    tokens = [c["jwt"] for c in issued.all()[:3]]
    results = js_verify(tokens, resolved, verifiers=["jose"],
                        jose={"typ": "JWT", "requiredClaims": ["iss", "sub", "jti", "nbf", "iat"]})
    assert all(r["jose"]["verified"] is True and r["jose"]["header"]["alg"] == "RS256" for r in results), results
    assert [r["jose"]["payload"]["jti"] for r in results] == [d["id"] for d in documents[:3]]


def test_a_learner_issued_by_another_path_meanwhile_gets_exactly_one_credential(services, definition_id):
    """A webhook awards the learner between the batch's preparation and its write: the batch's
    signed copy is dropped and the row reported as already holding the credential."""
    from plugin.issuance.batch_signing import BatchSigner
    from plugin.issuance.service import award
    issuer = BatchIssuer(services, definition_id, actor="test", evidence_details={})
    rows = [dict(r, tag=r["line"]) for r in ROWS[:3]]
    with services.session() as s:
        prepared = issuer.prepare(s, rows)
    with services.session() as s:  # the webhook's award, committed first
        learner = s.scalar(select(Learner).where(Learner.sub == "learner-1"))
        award(s, services, definition_id=definition_id, learner_id=learner.id)
    records = [bulk._record(issuer, prepared, item) for item in prepared.items]
    with BatchSigner(issuer.signer_spec(), workers=0) as signer:
        signed = signer.submit(records)()
    for item, (document, jwt, valid_until) in zip(prepared.items, signed):
        item.document, item.jwt, item.valid_until = document, jwt, valid_until
    with services.session() as s:
        issued, lost = issuer.write(s, prepared)
    assert [i.sub for i in issued] == ["learner-0", "learner-2"] and [i.sub for i in lost] == ["learner-1"]
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 3
        assert s.scalar(select(func.count()).select_from(StatusListSlot)) == 3


def test_retried_bulk_job_resumes_after_the_last_batch_it_committed(services, definition_id, monkeypatch):
    """A failure around the batch (the connection dropping while it is written) stops the job;
    its retry skips the batches committed before and still reports them as issued."""
    real_write = BatchIssuer.write
    calls = []

    def write_that_crashes_once(self, session, prepared):
        calls.append([i.sub for i in prepared.items])
        if len(calls) == 2:
            raise RuntimeError("the database connection dropped")
        return real_write(self, session, prepared)
    monkeypatch.setattr(BatchIssuer, "write", write_that_crashes_once)
    monkeypatch.setattr(jobs, "BACKOFF_BASE", 0.0)
    job_id = _enqueue(services, definition_id)
    worker = EmbeddedWorker(services)
    assert worker.run_once() == "queued"  # batch 1 (rows 1-5) written, batch 2 failed: retried later
    assert _credentials(services, definition_id) == 5
    with services.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(run_after=datetime.now(timezone.utc)))
    assert worker.run_once() == "done"
    assert [c[0] for c in calls] == ["learner-0", "learner-5", "learner-5", "learner-10"]  # batch 1 never again
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.attempts == 2
        assert job.result["counts"] == {"issued": 12, "skipped": 0, "failed": 0, "pending": 0}
        assert [r["outcome"] for r in job.result["rows"]] == ["issued"] * 12
        # the batches' outcomes went with the job (other keys, e.g. the config cache's generation, may stay)
        assert s.scalar(select(func.count()).select_from(KeyValue).where(KeyValue.key.like(f"bulk:{job_id}:%"))) == 0
    assert _credentials(services, definition_id) == 12


def test_worker_that_lost_the_job_issues_nothing_more(services, definition_id):
    """A frozen worker resumes after another took its job over: its next batch is refused."""
    job_id = _enqueue(services, definition_id)
    claimed_id, frozen_owner = EmbeddedWorker(services).claim()
    ctx = jobs.JobContext(services=services, job_id=job_id, attempt=1, max_attempts=3, owner=frozen_owner)
    with services.session() as s:  # meanwhile its lease expired and another worker took the job
        s.execute(update(Job).where(Job.id == job_id)
                  .values(lease_expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert lease.take_over_expired(services) == [job_id]
    with pytest.raises(lease.LeaseLost):
        bulk.run_bulk_issue_job(services, {"definition_id": definition_id, "rows": ROWS}, ctx)
    assert _credentials(services, definition_id) == 0
    assert EmbeddedWorker(services).run_until_empty() == 1
    assert _credentials(services, definition_id) == 12


def test_a_file_of_more_than_twenty_thousand_learners_is_accepted(services, definition_id):
    text = "sub\n" + "".join(f"u{i}\n" for i in range(20_001))
    job_id = _upload(services, definition_id, text)
    with services.session() as s:
        assert s.get(Job, job_id).payload["rows_total"] == 20_001
        assert "rows" not in s.get(Job, job_id).payload  # the file is read from its stored upload, in batches


def test_a_file_without_learners_is_refused(services, definition_id):
    with pytest.raises(bulk.BulkError, match="names no learner"):
        _upload(services, definition_id, "sub,email\n\n")
    with pytest.raises(bulk.BulkError, match="at least “email” or “sub”"):
        _upload(services, definition_id, "who,when\nx,y\n")


def test_a_signing_process_that_dies_costs_only_its_batch_the_fast_path(services, definition_id, monkeypatch):
    """A signer killed mid-batch (out of memory, an operator): that batch is issued row by row,
    the next one gets a new pool; every learner has the credential once."""
    import os
    import signal

    from plugin.issuance import batch_signing
    monkeypatch.setattr(batch_signing, "POOL_MIN_ITEMS", 2)
    real_submit = batch_signing.BatchSigner.submit
    calls = []

    def submit_then_kill_a_signer(self, records):
        waiter = real_submit(self, records)
        calls.append(len(records))
        if len(calls) == 1:
            os.kill(next(iter(self._pool._processes)), signal.SIGKILL)
        return waiter
    monkeypatch.setattr(batch_signing.BatchSigner, "submit", submit_then_kill_a_signer)
    monkeypatch.setenv("MICROCRED_BULK_WORKERS", "1")
    job_id = _enqueue(services, definition_id)
    assert jobs.execute_job(services, job_id) == "done"
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.result["counts"] == {"issued": 12, "skipped": 0, "failed": 0, "pending": 0}
    assert _credentials(services, definition_id) == 12 and len(calls) == 3
