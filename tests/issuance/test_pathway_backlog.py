"""Enabling a pathway over learners who already hold its parts awards the backlog in batches:
exactly once per person, resumable, and the credentials cite their parts as the single path does."""
import threading

import pytest
from sqlalchemy import event, func, select

from plugin.issuance import batch, pathways
from plugin.issuance import service as issuance
from plugin.jobs import queue as jobs
from plugin.storage.models import IssuedCredential, Job, Pathway, PathwayAward
from plugin.verification.resolver import tool_resolver
from plugin.verification.verify import verify
from tests.engine_helpers import add_learner
from tests.pathway_helpers import make_pathway_world

QUALIFIED = 7


def _learners_with_parts(services, world, n_full: int, n_partial: int) -> tuple[list[int], list[int]]:
    """``n_full`` learners holding the three parts, ``n_partial`` holding two (the pathway is disabled)."""
    full, partial = [], []
    for i in range(n_full + n_partial):
        with services.session() as s:
            learner_id, evidence_id = add_learner(s, world.definitions[0], sub=f"backlog-{i}")
            parts = 3 if i < n_full else 2
            for d in world.definitions[:parts]:
                issuance.award(s, services, definition_id=d, learner_id=learner_id,
                               evidence_id=evidence_id if d == world.definitions[0] else None)
        (full if i < n_full else partial).append(learner_id)
    return full, partial


def _enable(services, world) -> int:
    with services.session() as s:
        job_id = pathways.set_pathway_enabled(s, s.get(Pathway, world.pathway_id), True, actor="admin:test",
                                              services=services)
    assert job_id is not None
    return job_id


def _pathway_credentials(services, world) -> dict[int, int]:
    with services.session() as s:
        return {lid: n for lid, n in s.execute(
            select(IssuedCredential.learner_id, func.count()).where(
                IssuedCredential.definition_id == world.target_definition_id,
                IssuedCredential.status.in_(("active", "suspended"))).group_by(IssuedCredential.learner_id))}


def test_enabling_a_pathway_awards_everyone_who_already_meets_it_in_batches(services, monkeypatch):
    world = make_pathway_world(services, enabled=False)
    full, partial = _learners_with_parts(services, world, QUALIFIED, 2)
    assert _pathway_credentials(services, world) == {}  # disabled: nothing awarded while parts were earned
    monkeypatch.setattr(batch, "BATCH_SIZE", 3)
    inserts = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO ISSUED_CREDENTIAL"):
            inserts.append(statement)
    job_id = _enable(services, world)
    event.listen(services.engine, "before_cursor_execute", count)
    try:
        assert jobs.execute_job(services, job_id) == "done"
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert len(inserts) == 3  # 7 people in batches of 3: three multi-row inserts, not one per person
    assert _pathway_credentials(services, world) == {lid: 1 for lid in full}
    with services.session() as s:
        job = s.get(Job, job_id)
        assert job.result["awarded"] == QUALIFIED and job.result["progress"] == {"done": QUALIFIED,
                                                                                 "total": QUALIFIED}
        awards = s.scalars(select(PathwayAward)).all()
        assert sorted(a.learner_id for a in awards) == sorted(full)
        target = s.get(IssuedCredential, awards[0].credential_id)
        parts = s.scalars(select(IssuedCredential).where(IssuedCredential.learner_id == awards[0].learner_id,
                                                         IssuedCredential.definition_id.in_(world.definitions))
                          .order_by(IssuedCredential.issued_at, IssuedCredential.id)).all()
        cited = [e for e in target.document["evidence"] if e.get("genre") == "Part credential"]
        assert sorted(e["id"] for e in cited) == sorted(p.credential_id for p in parts)
        assert [e["digestSRI"] for e in sorted(cited, key=lambda e: e["id"])] == [
            pathways.document_digest(p.document) for p in sorted(parts, key=lambda p: p.credential_id)]
        assert target.document["credentialSubject"]["creditsEarned"] == 15
        # As when the last part awards it: no e-mail job for the pathway credential itself.
        assert not any(j.payload.get("credential_id") in {a.credential_id for a in awards}
                       for j in s.scalars(select(Job).where(Job.kind == "notify_credential_ready")))
        assert s.scalar(select(func.count()).select_from(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id,
            IssuedCredential.learner_id.in_(partial))) == 0
        document, token = target.document, target.jwt
    resolver = tool_resolver(services)
    assert verify(document, resolver).status == "valid" and verify(token, resolver).status == "valid"
    # A second run (the job queued again) finds nobody left to award.
    with services.session() as s:
        again = jobs.enqueue(services, "pathway_backlog", {"pathway_id": world.pathway_id}, session=s)
    assert jobs.execute_job(services, again) == "done"
    assert _pathway_credentials(services, world) == {lid: 1 for lid in full}


class _StopAfterFirstBatch(jobs.JobContext):
    def progress(self, done, total=None, **info):
        super().progress(done, total, **info)
        if done and done < (total or 0):
            raise KeyboardInterrupt


def test_an_interrupted_backlog_resumes_and_awards_nobody_twice(services, monkeypatch):
    world = make_pathway_world(services, enabled=False)
    full, _ = _learners_with_parts(services, world, QUALIFIED, 0)
    monkeypatch.setattr(batch, "BATCH_SIZE", 3)
    job_id = _enable(services, world)
    with pytest.raises(KeyboardInterrupt):
        pathways.run_backlog_job(services, {"pathway_id": world.pathway_id},
                                 _StopAfterFirstBatch(services=services, job_id=job_id, attempt=1))
    first = _pathway_credentials(services, world)
    assert len(first) == 3 and set(first.values()) == {1}
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PathwayAward)) == 3
    assert jobs.execute_job(services, job_id) == "done"  # the job runs again
    assert _pathway_credentials(services, world) == {lid: 1 for lid in full}
    with services.session() as s:
        assert s.get(Job, job_id).result["awarded"] == QUALIFIED - 3
        assert s.scalar(select(func.count()).select_from(PathwayAward)) == QUALIFIED


def test_backlog_racing_single_awards_gives_each_person_one_pathway_credential(services, monkeypatch):
    world = make_pathway_world(services, enabled=False)
    full, _ = _learners_with_parts(services, world, QUALIFIED, 0)
    monkeypatch.setattr(batch, "BATCH_SIZE", 2)
    job_id = _enable(services, world)
    errors, stop = [], threading.Event()

    def single():  # what the pathway_check job does for one learner
        while not stop.is_set():
            for learner_id in full:
                try:
                    with services.session() as s:
                        pathways.evaluate_and_award(s, services, s.get(Pathway, world.pathway_id), learner_id)
                except Exception as exc:  # reported below
                    errors.append(repr(exc))
            stop.wait(0.01)
    racer = threading.Thread(target=single)
    racer.start()
    try:
        assert jobs.execute_job(services, job_id) == "done"
    finally:
        stop.set()
        racer.join(60)
    assert not errors, errors[:3]
    assert _pathway_credentials(services, world) == {lid: 1 for lid in full}
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PathwayAward)) == QUALIFIED


def test_new_rules_of_an_enabled_pathway_queue_the_backlog_for_who_now_meets_them(services):
    world = make_pathway_world(services, enabled=False)
    full, partial = _learners_with_parts(services, world, 1, 2)
    assert jobs.execute_job(services, _enable(services, world)) == "done"
    assert _pathway_credentials(services, world) == {full[0]: 1}
    leaves = [{"credential": p} for p in world.definition_public_ids]
    relaxed = {"name": "Certificate in Public Data", "requirements": {"at_least": 2, "of": leaves}, "min_ects": 10}
    with services.session() as s:
        pathway = s.get(Pathway, world.pathway_id)
        assert pathways.update_pathway(s, pathway, relaxed, actor="admin:test", services=services) is not None
    with services.session() as s:
        [job_id] = s.scalars(select(Job.id).where(Job.kind == "pathway_backlog", Job.status == "queued")).all()
    assert jobs.execute_job(services, job_id) == "done"
    assert _pathway_credentials(services, world) == {lid: 1 for lid in full + partial}
    with services.session() as s:
        assert s.get(Job, job_id).result["awarded"] == 2
        assert sorted(a.learner_id for a in s.scalars(select(PathwayAward).where(PathwayAward.version == 2))) \
            == sorted(partial)
        # The same rules again: no version, no job.
        assert pathways.update_pathway(s, s.get(Pathway, world.pathway_id), relaxed, actor="admin:test",
                                       services=services) is None
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "pathway_backlog")) == 2
