import threading

import pytest
from sqlalchemy import func, select

from plugin.domain.policy import Observation
from plugin.issuance import auto
from plugin.storage.models import Job, Learner, PassEvidence
from tests.bridges_support import Issued, make_definition


@pytest.fixture
def issued(services):
    """Credentials the real engine issued."""
    return Issued(services)


def _setup(s, services, *, enabled=True, issuance="automatic", email=None):
    definition = make_definition(s, services=services, enabled=enabled, policy={"source": "moodle", "rule": "course_grade",
                                                             "threshold": 70, "issuance": issuance})
    learner = Learner(platform_issuer="https://lms.example.org", sub="s1", email=email, external_ids={})
    s.add(learner)
    s.flush()
    return definition, learner


def test_passing_observation_issues_once_and_queues_the_email(services, issued):
    with services.session() as s:
        definition, learner = _setup(s, services, email="ada@example.org")
        first = auto.process_observation(s, services, definition=definition, learner=learner,
                                         observation=Observation(source="moodle", score=80))
        again = auto.process_observation(s, services, definition=definition, learner=learner,
                                         observation=Observation(source="moodle", score=80))
    assert first.action == "issued" and again.action == "already_issued"
    assert first.evidence_id == again.evidence_id and not again.evidence_created
    with services.session() as s:
        jobs = s.scalars(select(Job)).all()
        assert [(j.kind, j.payload) for j in jobs] == [("notify_credential_ready", {"credential_id": 1})]


@pytest.mark.parametrize("enabled, issuance, score, action", [
    (True, "automatic", 50, "not_passed"),
    (False, "automatic", 90, "disabled"),
    (True, "on_claim", 90, "ready_to_claim"),
])
def test_no_issuance_unless_passed_enabled_and_automatic(services, issued, enabled, issuance, score, action):
    with services.session() as s:
        definition, learner = _setup(s, services, enabled=enabled, issuance=issuance)
        outcome = auto.process_observation(s, services, definition=definition, learner=learner,
                                           observation=Observation(source="moodle", score=score))
    assert outcome.action == action and issued.all() == []


def test_concurrent_identical_observations_record_one_evidence_and_issue_once(services, issued):
    with services.session() as s:
        definition, learner = _setup(s, services)
        ids = (definition.id, learner.id)
    from plugin.storage.models import CredentialDefinition
    barrier = threading.Barrier(5)
    errors = []

    def go():
        try:
            barrier.wait()
            with services.session() as s:
                auto.process_observation(s, services, definition=s.get(CredentialDefinition, ids[0]),
                                         learner=s.get(Learner, ids[1]),
                                         observation=Observation(source="moodle", score=88))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
    threads = [threading.Thread(target=go) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 1
    with services.session() as s:
        evidence_id = s.scalar(select(PassEvidence.id))
    (credential,) = issued.all()  # five concurrent passes, one credential, citing the one evidence
    assert credential["evidence_id"] == evidence_id


def test_recorded_evidence_reads_as_an_ob3_evidence_object(services, issued):
    from plugin.evidence.base import ob3_evidence
    with services.session() as s:
        definition, learner = _setup(s, services)
        outcome = auto.process_observation(s, services, definition=definition, learner=learner,
                                           observation=Observation(source="moodle", score=82.5))
        evidence = s.get(PassEvidence, outcome.evidence_id)
        ob3 = ob3_evidence(evidence)
    assert ob3["type"] == ["Evidence"]
    assert "Moodle" in ob3["narrative"] and "82.5 % (pass mark 70 %)" in ob3["narrative"]
    assert ob3["description"].startswith("Your course grade is 82.5 %")


def test_a_credential_issued_on_the_pass_carries_the_name_the_platform_gave(services, issued):
    with services.session() as s:
        definition, learner = _setup(s, services)
        learner.given_name, learner.family_name = "Grace", "Hopper"
        outcome = auto.process_observation(s, services, definition=definition, learner=learner,
                                           observation=Observation(source="moodle", score=80))
    assert outcome.action == "issued"
    [row] = issued.all()
    assert row["display_name"] == "Grace Hopper" and row["document"]["credentialSubject"]["name"] == "Grace Hopper"
    with services.session() as s:  # the learner consents when they claim it
        from plugin.storage.models import IssuedCredential
        stored = s.get(IssuedCredential, row["id"])
        assert stored.consent_at is None and stored.claimed_at is None
