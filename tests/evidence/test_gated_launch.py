from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from plugin.evidence.gated_launch import TRUSTS, evidence_from_launch
from plugin.issuance import auto
from plugin.storage.models import Learner, PassEvidence
from tests.bridges_support import ISSUER, Issued, make_definition

GATED = {"source": "gated_launch", "gated_launch_acknowledged": True, "issuance": "automatic"}


@pytest.fixture
def issued(services):
    """Credentials the real engine issued."""
    return Issued(services)


def _actor(definition, learner, roles=("learner",)):
    return SimpleNamespace(roles=list(roles), course_id=definition.course_id, learner_id=learner.id,
                           platform_issuer=ISSUER, context_id="ctx", resource_link_id="rl-1", deployment_id="1",
                           definition_public_id=None, name="Ada")


def _learner(s):
    learner = Learner(platform_issuer=ISSUER, sub="s1", external_ids={})
    s.add(learner)
    s.flush()
    return learner


def test_learner_launch_is_the_evidence_and_issues_once(services, issued):
    with services.session() as s:
        definition = make_definition(s, services=services, policy=GATED)
        learner = _learner(s)
        first = evidence_from_launch(s, services, _actor(definition, learner))
        second = evidence_from_launch(s, services, _actor(definition, learner))
        assert [o.action for o in first] == ["issued"] and [o.action for o in second] == ["already_issued"]
        evidence = s.scalar(select(PassEvidence))
        assert evidence.details["trusts"] == TRUSTS and evidence.score is None
        assert s.scalar(select(func.count()).select_from(PassEvidence)) == 1


def test_instructor_launch_and_other_policies_are_not_evidence(services, issued):
    with services.session() as s:
        gated = make_definition(s, services=services, policy=GATED)
        make_definition(s, services=services, policy={"source": "moodle", "rule": "completion", "issuance": "automatic"})
        learner = _learner(s)
        assert evidence_from_launch(s, services, _actor(gated, learner, roles=("instructor", "learner"))) == []
        assert len(evidence_from_launch(s, services, _actor(gated, learner))) == 1
    assert len(issued.all()) == 1


def test_gated_launch_is_off_by_default(services, issued):
    with services.session() as s:
        definition = make_definition(s, services=services, policy=GATED, enabled=False)
        learner = _learner(s)
        assert evidence_from_launch(s, services, _actor(definition, learner)) == []
    assert issued.all() == []
