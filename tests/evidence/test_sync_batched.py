"""Catch-up sync of many learners through the batched issuance pipeline: exactly once,
resumable, progress per batch, and the credentials are the same as the single path's."""
import threading

import pytest
from sqlalchemy import event, func, select

from plugin.evidence import bridge_config, sync
from plugin.evidence.sync import sync_course
from plugin.issuance import auto
from plugin.storage.models import CredentialDefinition, IssuedCredential, Learner, PassEvidence
from tests.bridges_support import Issued, make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, grade_item

MOODLE = "https://moodle.test"
LEARNERS = 12  # 8 pass (score >= 70), 4 do not


@pytest.fixture
def big_course(services):
    server = FakeMoodle()
    for userid in range(10, 10 + LEARNERS):
        score = 90.0 if userid % 3 else 40.0
        server.add_learner(2, userid, f"Learner {userid}", [grade_item(None, score, itemtype="course")])
    with services.session() as s:
        platform = make_platform(s, issuer=MOODLE, product="moodle")
        bridge_config.set_moodle(services, platform, server.url, FakeMoodle.TOKEN)
        definition = make_definition(s, services=services, issuer=MOODLE, context_id="2", platform_id=platform.id,
                                     policy={"source": "moodle", "rule": "course_grade", "threshold": 70,
                                             "issuance": "automatic"})
        course_id, definition_id = definition.course_id, definition.id
    yield course_id, definition_id
    server.close()


def _passing():
    return sum(1 for userid in range(10, 10 + LEARNERS) if userid % 3)


def _credentials_per_learner(services):
    with services.session() as s:
        return {lid: n for lid, n in s.execute(select(IssuedCredential.learner_id, func.count())
                                               .group_by(IssuedCredential.learner_id))}


def test_many_learners_are_issued_in_batches_once_each_and_verify(services, big_course, monkeypatch):
    course_id, _ = big_course
    monkeypatch.setattr(sync, "SYNC_BATCH", 5)
    inserts = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO ISSUED_CREDENTIAL"):
            inserts.append(statement)
    event.listen(services.engine, "before_cursor_execute", count)
    seen = []
    try:
        report = sync_course(services, course_id, progress=lambda r: seen.append((r.done, r.total)))
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert (report.total, report.issued, report.not_passed, report.errors) == (LEARNERS, _passing(), 4, [])
    assert seen == [(5, 12), (10, 12), (12, 12)]
    # One multi-row insert per batch that had passes (3 batches), not one per learner.
    assert len(inserts) == 3
    per_learner = _credentials_per_learner(services)
    assert len(per_learner) == _passing() and set(per_learner.values()) == {1}
    issued = Issued(services)
    for credential in issued.all()[:3]:
        doc_report, jwt_report = issued.verify(credential)
        assert doc_report.status == "valid" and jwt_report.status == "valid"
    with services.session() as s:
        for cred in s.scalars(select(IssuedCredential)):
            # Each credential rests on the learner's recorded passing grade and cites it, as the single path does.
            evidence = s.get(PassEvidence, cred.evidence_id)
            assert evidence.learner_id == cred.learner_id and evidence.passed and evidence.score == 90.0
            assert any("90" in str(e) for e in cred.document["evidence"])
    again = sync_course(services, course_id)
    assert (again.issued, again.already_issued) == (0, _passing())


def test_interrupted_batched_sync_resumes_without_issuing_twice(services, big_course, monkeypatch):
    course_id, _ = big_course
    monkeypatch.setattr(sync, "SYNC_BATCH", 5)

    def stop_after_first_batch(report):
        if report.done == 5:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sync_course(services, course_id, progress=stop_after_first_batch)
    first = _credentials_per_learner(services)
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 5
    passing_in_first = sum(1 for userid in range(10, 15) if userid % 3)
    assert len(first) == passing_in_first and set(first.values()) == {1}
    report = sync_course(services, course_id)
    assert (report.issued, report.already_issued) == (_passing() - passing_in_first, passing_in_first)
    per_learner = _credentials_per_learner(services)
    assert len(per_learner) == _passing() and set(per_learner.values()) == {1}


def test_batched_sync_racing_single_awards_issues_exactly_once(services, big_course, monkeypatch):
    """While the catch-up signs a batch, the same learners are awarded one by one (a webhook,
    a claim): each learner still ends with one credential, whoever wins."""
    course_id, definition_id = big_course
    monkeypatch.setattr(sync, "SYNC_BATCH", 4)
    first_run = sync_course(services, course_id)  # records the evidence and issues
    assert first_run.issued == _passing()
    with services.session() as s:  # start over: revoke everything so that all are owed again
        from plugin.issuance import service as issuance
        for cred in s.scalars(select(IssuedCredential)).all():
            issuance.revoke(s, cred, "test", "admin:test")
        learner_ids = [lr.id for lr in s.scalars(select(Learner).order_by(Learner.id))]
    errors = []
    stop = threading.Event()

    def single_awards():
        while not stop.is_set():
            for learner_id in learner_ids:
                try:
                    with services.session() as s:
                        definition = s.get(CredentialDefinition, definition_id)
                        evidence = s.scalars(select(PassEvidence).where(PassEvidence.learner_id == learner_id,
                                                                        PassEvidence.passed.is_(True))).first()
                        if evidence is not None and definition is not None:
                            auto.award_credential(s, services, definition_id=definition_id, learner_id=learner_id,
                                                  evidence_id=evidence.id)
                except Exception as exc:  # reported below
                    errors.append(repr(exc))
            stop.wait(0.01)
    racer = threading.Thread(target=single_awards)
    racer.start()
    try:
        report = sync_course(services, course_id)
    finally:
        stop.set()
        racer.join(60)
    assert not errors, errors[:3]
    assert report.errors == [] and report.issued + report.already_issued == _passing()
    with services.session() as s:
        current = {lid: n for lid, n in s.execute(select(IssuedCredential.learner_id, func.count())
                                                  .where(IssuedCredential.status.in_(("active", "suspended")))
                                                  .group_by(IssuedCredential.learner_id))}
    assert len(current) == _passing() and set(current.values()) == {1}
