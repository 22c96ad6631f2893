import pytest
from sqlalchemy import func, select

from plugin.evidence import bridge_config
from plugin.evidence.base import BridgeError
from plugin.evidence.sync import refresh_learner, resolve_course, sync_course
from plugin.issuance import auto
from plugin.storage.models import Course, CredentialDefinition, Learner, PassEvidence
from tests.bridges_support import Issued, make_definition, make_platform
from tests.evidence.fake_platforms import FakeOpenEdx

MOODLE = "https://moodle.test"


@pytest.fixture
def issued(services):
    """Credentials the real engine issued."""
    return Issued(services)


def test_sync_issues_what_is_due_and_reports_progress(services, course_id, issued, monkeypatch):
    from plugin.evidence import sync
    monkeypatch.setattr(sync, "SYNC_BATCH", 2)  # progress is reported after each batch of learners
    seen = []
    report = sync_course(services, course_id, progress=lambda r: seen.append((r.done, r.total)))
    assert (report.total, report.issued, report.not_passed) == (3, 2, 1)
    assert seen == [(2, 3), (3, 3)]
    with services.session() as s:
        subs = {s.get(Learner, c["learner_id"]).sub for c in issued.all()}
        assert subs == {"4", "5"}  # Moodle user ids are the launches' sub
        # Moodle's tool privacy may withhold names from launches: web services bring none by default.
        assert s.scalar(select(Learner).where(Learner.sub == "3")).name is None


def test_names_from_web_services_only_when_the_admin_opts_in(services, course_id, issued):
    with services.session() as s:
        from plugin.storage.models import Platform
        bridge_config.set_moodle_share_names(s.get(Platform, s.get(Course, course_id).platform_id), True)
    sync_course(services, course_id)
    with services.session() as s:
        assert s.scalar(select(Learner).where(Learner.sub == "3")).name == "Learner 3"


def test_sync_whose_issuing_fails_keeps_the_passes_and_counts_them_as_not_issued_yet(services, course_id, issued):
    """The grades sync goes through the same path as the webhook: passes kept, issuances retried."""
    from tests.issuance.failure_support import refuse_context, run_due_retries
    with refuse_context(services):
        report = sync_course(services, course_id)
    assert (report.issued, report.pending, report.not_passed, report.errors) == (0, 2, 1, [])
    assert "2 not issued yet (signing or storing failed; see the issued list)" in report.summary()
    run_due_retries(services)
    assert len(issued.all()) == 2
    assert sync_course(services, course_id).already_issued == 2


def test_a_learner_who_holds_the_credential_is_not_counted_ready_to_claim(services, course_id, issued):
    """Issue 13, defect 5: the sync report counted a holder as "ready to claim"."""
    with services.session() as s:
        definition = s.scalars(select(CredentialDefinition).where(CredentialDefinition.course_id == course_id)).one()
        definition.policy = {**definition.policy, "issuance": "on_claim"}
    first = sync_course(services, course_id)
    assert (first.ready_to_claim, first.already_issued, first.issued) == (2, 0, 0)
    with services.session() as s:
        definition = s.scalars(select(CredentialDefinition).where(CredentialDefinition.course_id == course_id)).one()
        learner = s.scalar(select(Learner).where(Learner.sub == "4"))
        auto.award_credential(s, services, definition_id=definition.id, learner_id=learner.id)  # learner 4 claims
    again = sync_course(services, course_id)
    assert (again.ready_to_claim, again.already_issued, again.not_passed) == (1, 1, 1)
    assert "1 already issued, 1 ready to claim" in again.summary()


def test_sync_is_idempotent_when_run_again(services, course_id, issued):
    sync_course(services, course_id)
    with services.session() as s:
        evidence_before = s.scalar(select(func.count()).select_from(PassEvidence))
    again = sync_course(services, course_id)
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == evidence_before == 3
    assert again.issued == 0 and again.already_issued == 2  # the engine's award is idempotent


def test_interrupted_sync_keeps_what_was_done_and_resumes(services, course_id, issued, monkeypatch):
    from plugin.evidence import sync
    monkeypatch.setattr(sync, "SYNC_BATCH", 1)

    def stop_after_first(report):
        if report.done == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        sync_course(services, course_id, progress=stop_after_first)
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 1
    report = sync_course(services, course_id)
    assert report.done == 3
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 3


def test_bad_token_surfaces_moodles_message(services, course_id, moodle, issued):
    with services.session() as s:
        platform = s.get(Course, course_id).platform_id
        from plugin.storage.models import Platform
        bridge_config.set_moodle(services, s.get(Platform, platform), moodle.url, "bad-token")
    with pytest.raises(BridgeError, match="Invalid token - token not found"):
        sync_course(services, course_id)


def test_refresh_learner_at_claim_time(services, course_id, issued):
    with services.session() as s:
        definition = s.scalar(select(CredentialDefinition))
        definition.policy = {**definition.policy, "issuance": "on_claim"}
        learner = Learner(platform_issuer=MOODLE, sub="5", external_ids={})
        s.add(learner)
    outcome = refresh_learner(services, definition.id, learner.id)
    assert outcome.action == "ready_to_claim" and "75 %" in outcome.reason
    assert issued.all() == []


def test_openedx_webhook_policy_catches_up_through_the_grades_api(services, issued):
    lms = FakeOpenEdx()
    key = "course-v1:DemoX+MC101+2026"
    lms.add_grade(key, "ada", 0.9, True, "Pass")
    lms.add_grade(key, "stranger", 0.95, True, "Pass")
    try:
        with services.session() as s:
            platform = make_platform(s)
            bridge_config.set_openedx_api(services, platform, lms.url, FakeOpenEdx.CLIENT_ID, FakeOpenEdx.CLIENT_SECRET)
            definition = make_definition(s, services=services, platform_id=platform.id,
                                         policy={"source": "openedx_webhook", "issuance": "automatic"})
            s.add(Learner(platform_issuer=platform.issuer, sub="ext-1", external_ids={"openedx_username": "ada"}))
            course_id = definition.course_id
        report = sync_course(services, course_id)
        assert (report.issued, report.unknown_learners) == (1, 1)
    finally:
        lms.close()


def test_course_reference_by_id_or_issuer_and_context(services, course_id):
    with services.session() as s:
        assert resolve_course(s, str(course_id)).id == course_id
        assert resolve_course(s, MOODLE, "2").id == course_id
        with pytest.raises(BridgeError, match="first launch"):
            resolve_course(s, MOODLE, "99")
        with pytest.raises(BridgeError, match="not a course id"):
            resolve_course(s, "abc")
