"""Failed issuances: the pass is kept, the issuance is retried with backoff, fails for good with
staff told, and is issued exactly once when the cause is fixed, whichever source reported the pass."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from plugin.domain.policy import Observation
from plugin.issuance import auto, pending
from plugin.jobs import queue
from plugin.storage.models import (AuditLog, CredentialDefinition, Job, Learner, PassEvidence, PendingIssuance)
from tests.bridges_support import Issued, make_definition
from tests.issuance.failure_support import (break_signing_key, make_retries_due, refuse_context, rotate_keys,
                                            run_due_retries)

POLICY = {"source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"}


@pytest.fixture
def issued(services):
    return Issued(services)


@pytest.fixture
def world(services):
    with services.session() as s:
        definition = make_definition(s, services=services, policy=dict(POLICY))
        learner = Learner(platform_issuer="https://lms.example.org", sub="s1", email="ada@example.org",
                          name="Ada Lovelace", external_ids={})
        s.add(learner)
        s.flush()
        return {"definition_id": definition.id, "learner_id": learner.id, "issuer_id": definition.issuer_id}


def observe(services, world, score=80.0):
    with services.session() as s:
        return auto.process_observation(s, services, definition=s.get(CredentialDefinition, world["definition_id"]),
                                        learner=s.get(Learner, world["learner_id"]),
                                        observation=Observation(source="moodle", score=score))


def rows(services):
    with services.session() as s:
        return [{"state": r.state, "attempts": r.attempts, "job_id": r.job_id, "code": r.reason_code,
                 "resolution": r.resolution, "credential_id": r.credential_id, "evidence_id": r.evidence_id,
                 "origin": r.origin, "claim": r.claim}
                for r in s.scalars(select(PendingIssuance).order_by(PendingIssuance.id))]


def job(services, job_id):
    with services.session() as s:
        j = s.get(Job, job_id)
        return {"status": j.status, "attempts": j.attempts, "max_attempts": j.max_attempts, "kind": j.kind,
                "run_after": j.run_after, "last_error": j.last_error}


def audit_actions(services):
    with services.session() as s:
        return [a for a in s.scalars(select(AuditLog.action).order_by(AuditLog.id))]


def test_a_failed_try_keeps_the_pass_and_schedules_a_retry_in_the_same_transaction(services, world, issued):
    with refuse_context(services):
        outcome = observe(services, world)
    assert outcome.action == "pending" and outcome.passed and outcome.evidence_created
    assert outcome.issue_error_code == "signing" and "is not pinned" in outcome.issue_error
    (row,) = rows(services)
    assert row["state"] == "pending" and row["attempts"] == 1 and row["origin"] == "moodle"
    assert row["evidence_id"] == outcome.evidence_id and row["job_id"] == outcome.job_id
    retry = job(services, row["job_id"])
    # the failed try counts as the first of RETRY_ATTEMPTS; the next one waits the first backoff
    assert retry["kind"] == "issue_from_evidence" and retry["status"] == "queued"
    assert retry["attempts"] == 1 and retry["max_attempts"] == pending.RETRY_ATTEMPTS
    wait = (retry["run_after"] - datetime.now(timezone.utc)).total_seconds()
    assert pending.RETRY_BACKOFF[0] * 0.9 < wait <= pending.RETRY_BACKOFF[0] * 1.1
    assert "credential.issue_pending" in audit_actions(services)
    assert issued.all() == []


def test_retries_back_off_then_fail_for_good_and_staff_are_told(services, world, issued, caplog):
    break_signing_key(services, world["issuer_id"])
    observe(services, world)
    job_id = rows(services)[0]["job_id"]
    waits = []
    with caplog.at_level(logging.WARNING, logger="microcred.issuance"):
        for attempt in range(2, pending.RETRY_ATTEMPTS + 1):
            make_retries_due(services)
            from plugin.jobs.worker import EmbeddedWorker
            assert EmbeddedWorker(services).run_once() in ("queued", "failed")
            state = job(services, job_id)
            assert state["attempts"] == attempt
            if state["status"] == "queued":
                waits.append((state["run_after"] - datetime.now(timezone.utc)).total_seconds())
    # exponential: each wait about twice the one before, capped at RETRY_BACKOFF[1]
    first, cap = pending.RETRY_BACKOFF
    expected = [min(cap, first * 2 ** (n - 1)) for n in range(2, pending.RETRY_ATTEMPTS)]
    assert [round(w / e, 1) for w, e in zip(waits, expected)] == pytest.approx([1.0] * len(expected), abs=0.15)
    final = job(services, job_id)
    assert final["status"] == "failed" and final["attempts"] == pending.RETRY_ATTEMPTS
    (row,) = rows(services)
    assert row["state"] == "failed" and row["attempts"] == pending.RETRY_ATTEMPTS and row["code"] == "signing_key"
    assert audit_actions(services).count("credential.issue_failed") == 1
    told = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "microcred.issuance"]
    assert told and "staff must fix the cause" in told[0].getMessage()
    assert issued.all() == []
    # a new pass event failing again does not re-arm automatic retries: staff are on it
    assert observe(services, world, score=85).action == "failed"
    assert rows(services)[0]["state"] == "failed"


def test_once_the_cause_is_fixed_the_retry_job_issues_exactly_once(services, world, issued):
    break_signing_key(services, world["issuer_id"])
    observe(services, world)
    run_due_retries(services)
    assert issued.all() == [] and rows(services)[0]["attempts"] == 2
    rotate_keys(services, world["issuer_id"])
    run_due_retries(services)
    (credential,) = issued.all()
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok
    (row,) = rows(services)
    assert row["state"] == "resolved" and row["resolution"] == "issued" and row["credential_id"] == credential["id"]
    # nothing left to run; the engine's own answer for a second try is "already issued"
    run_due_retries(services)
    with services.session() as s:
        again = pending.issue_pending(s, services, definition_id=world["definition_id"],
                                      learner_id=world["learner_id"])
    assert again.result == "already_issued" and len(issued.all()) == 1


def test_retry_button_and_retry_job_racing_issue_one_credential(services, world, issued):
    with refuse_context(services):
        observe(services, world)
    make_retries_due(services)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def press_retry():
        try:
            barrier.wait()
            with services.session() as s:
                row = pending.open_pending(s, world["definition_id"], world["learner_id"])
                results.append(pending.retry_now(s, services, row, actor="instructor").result if row else "gone")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def worker():
        try:
            from plugin.jobs.worker import EmbeddedWorker
            barrier.wait()
            results.append(EmbeddedWorker(services).run_once())
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
    threads = [threading.Thread(target=press_retry), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(issued.all()) == 1
    assert [r["state"] for r in rows(services)] == ["resolved"]


def test_a_learner_no_longer_owed_the_credential_is_settled_without_issuing(services, world, issued):
    with refuse_context(services):
        observe(services, world)
    with services.session() as s:
        s.get(CredentialDefinition, world["definition_id"]).enabled = False
    run_due_retries(services)
    (row,) = rows(services)
    assert row["state"] == "resolved" and row["resolution"] == "not_due" and issued.all() == []
    job_state = job(services, row["job_id"])
    assert job_state["status"] == "done"


def test_repeated_failures_for_one_learner_keep_one_open_row_and_one_retry_job(services, world, issued):
    with refuse_context(services):
        for score in (80, 85, 90):
            assert observe(services, world, score=score).action == "pending"
    (row,) = rows(services)
    assert row["attempts"] == 3
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "issue_from_evidence")) == 1
        newest = s.scalar(select(func.max(PassEvidence.id)))
    assert row["evidence_id"] == newest


def test_concurrent_failing_passes_of_one_learner_record_one_open_row(services, world, issued):
    with refuse_context(services):
        barrier = threading.Barrier(4)
        actions, errors = [], []

        def deliver(score):
            try:
                barrier.wait()
                actions.append(observe(services, world, score=score).action)
            except Exception as exc:  # pragma: no cover
                errors.append(exc)
        threads = [threading.Thread(target=deliver, args=(80 + i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert sorted(actions) == ["pending"] * 4
    (row,) = rows(services)
    assert row["attempts"] == 4
    rotate_keys(services, world["issuer_id"])  # not needed here, but a fix any admin may apply
    run_due_retries(services)
    assert len(issued.all()) == 1


def test_the_backlog_queued_on_enabling_goes_through_the_same_retries(services, issued):
    from plugin.issuance import service
    with services.session() as s:
        definition = make_definition(s, services=services, policy=dict(POLICY), enabled=False)
        learner = Learner(platform_issuer="https://lms.example.org", sub="s9", email="b@example.org", external_ids={})
        s.add(learner)
        s.flush()
        world = {"definition_id": definition.id, "learner_id": learner.id}
    assert observe(services, world).action == "disabled"
    with services.session() as s:
        assert service.set_enabled(s, s.get(CredentialDefinition, world["definition_id"]), True, actor="t",
                                   services=services) == 1
    with refuse_context(services):
        run_due_retries(services)
    (row,) = rows(services)
    assert row["state"] == "pending" and row["origin"] == "backlog" and row["code"] == "signing"
    assert job(services, row["job_id"])["max_attempts"] == pending.RETRY_ATTEMPTS
    run_due_retries(services)
    assert len(issued.all()) == 1 and rows(services)[0]["state"] == "resolved"


@pytest.mark.parametrize("source", ["gated_launch", "ags"])
def test_push_sources_keep_the_pass_and_retry(services, issued, source):
    """A gated launch and an AGS score reach the engine through the same path as the webhook."""
    from plugin.evidence import gated_launch, lti_ags
    policy = {"source": source, "rule": "course_grade" if source == "ags" else "course_passed",
              "threshold": 50, "issuance": "automatic"}
    if source == "gated_launch":
        policy["gated_launch_acknowledged"] = True
    with services.session() as s:
        definition = make_definition(s, services=services, policy=policy)
        learner = Learner(platform_issuer="https://lms.example.org", sub="s2", email="c@example.org", external_ids={})
        s.add(learner)
        s.flush()
        ids = definition.id, learner.id
    with refuse_context(services):
        with services.session() as s:
            definition, learner = s.get(CredentialDefinition, ids[0]), s.get(Learner, ids[1])
            if source == "gated_launch":
                outcome = gated_launch.evidence_for_definition(s, services, definition, learner,
                                                               platform_issuer=learner.platform_issuer,
                                                               context_id="c", resource_link_id="r")
            else:
                outcome = lti_ags.record_score(s, services, definition=definition, learner=learner,
                                               score_given=9, score_maximum=10)
    assert outcome.action == "pending" and rows(services)[0]["origin"] == source
    run_due_retries(services)
    assert len(issued.all()) == 1


def test_a_bulk_upload_row_that_cannot_be_signed_is_pending_then_issued(services, issued):
    from plugin.jobs.worker import EmbeddedWorker
    with services.session() as s:
        definition = make_definition(s, services=services, policy=dict(POLICY))
        definition_id = definition.id

    payload = {"definition_id": definition_id, "actor": "lti:teacher", "filename": "passed.csv",
               "rows": [{"line": 2, "sub": "b1", "email": "", "name": "Grace"}]}
    job_id = queue.enqueue(services, "bulk_issue", payload)
    with refuse_context(services):
        assert EmbeddedWorker(services).run_once() == "done"  # the upload itself succeeds
    with services.session() as s:
        report = s.get(Job, job_id).result
    assert report["counts"]["pending"] == 1 and report["rows"][0]["outcome"] == "pending"
    assert report["rows"][0]["reason"]["msgid"].startswith("the credential could not be signed")
    (row,) = rows(services)
    assert row["origin"] == "bulk_upload"
    run_due_retries(services)
    (credential,) = issued.all()
    with services.session() as s:
        assert s.get(PassEvidence, credential["evidence_id"]).source == "bulk_upload"


def test_health_report_counts_open_issuances_and_stuck_jobs_without_naming_anyone(services, world):
    with refuse_context(services):
        observe(services, world)
    with services.session() as s:
        report = pending.health_report(s)
    assert report["issuance"]["pending"] == 1 and report["issuance"]["failed"] == 0
    assert report["issuance"]["reasons"] == {"signing": 1}
    assert report["jobs"]["stuck"] == 0 and report["jobs"]["queued"] == 1
    with services.session() as s:
        for j in s.scalars(select(Job)):
            j.run_after = datetime(2020, 1, 1, tzinfo=timezone.utc)  # due long ago and nobody took it
    with services.session() as s:
        assert pending.health_report(s)["jobs"]["stuck"] == 1
    text = repr(report)
    assert "ada" not in text.lower() and "s1" not in text


def test_the_queue_uses_the_issuance_backoff_for_retry_jobs():
    assert queue.JOB_BACKOFF[pending.JOB_KIND] == pending.RETRY_BACKOFF
    assert queue.JOB_KINDS[pending.JOB_KIND] == "plugin.issuance.pending:run_retry_job"
