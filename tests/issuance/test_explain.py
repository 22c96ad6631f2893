from plugin.domain.policy import Observation
from plugin.issuance import auto
from plugin.issuance.explain import explain_status
from plugin.storage.models import Learner
from tests.bridges_support import make_definition


def _learner(s):
    learner = Learner(platform_issuer="https://lms.example.org", sub="s1", external_ids={})
    s.add(learner)
    s.flush()
    return learner


POLICY = {"source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "on_claim"}


def test_states_from_no_result_to_issued(services):
    with services.session() as s:
        definition = make_definition(s, services=services, policy=POLICY)
        learner = _learner(s)
        status = explain_status(s, definition, learner)
        assert status.state == "no_result" and "Moodle" in status.message

        auto.process_observation(s, services, definition=definition, learner=learner,
                                 observation=Observation(source="moodle", score=62))
        status = explain_status(s, definition, learner)
        assert status.state == "not_passed" and (status.score, status.pass_mark) == (62, 70)
        assert status.message == "Your course grade is 62 %; the pass mark is 70 %. You need 8 % more."

        auto.process_observation(s, services, definition=definition, learner=learner,
                                 observation=Observation(source="moodle", score=75))
        status = explain_status(s, definition, learner)
        assert status.state == "ready_to_claim" and status.can_claim

        # The instructor raises the pass mark: the explanation follows the current policy.
        definition.policy = {**POLICY, "threshold": 80}
        assert explain_status(s, definition, learner).state == "not_passed"

        from plugin.evidence.base import latest_evidence
        from plugin.issuance.service import award
        award(s, services, definition_id=definition.id, learner_id=learner.id,
              evidence_id=latest_evidence(s, definition.id, learner.id, passed=True).id)
        status = explain_status(s, definition, learner)
        assert status.state == "issued" and status.credential_public_id


def test_disabled_definition_says_so(services):
    with services.session() as s:
        definition = make_definition(s, services=services, policy=POLICY, enabled=False)
        assert explain_status(s, definition, _learner(s)).state == "not_available"
