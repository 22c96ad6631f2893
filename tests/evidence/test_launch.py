from types import SimpleNamespace

from plugin.evidence.launch import AGS_CLAIM, on_launch
from sqlalchemy import func, select

from plugin.storage.models import CredentialDefinition, IssuedCredential, Learner
from tests.bridges_support import ISSUER, Issued, make_definition

LINEITEM = "https://lms.example.org/api/lti/1/lineitems/7"


def _actor(course_id, learner_id, roles):
    return SimpleNamespace(roles=roles, course_id=course_id, learner_id=learner_id, platform_id=None,
                           platform_issuer=ISSUER, context_id="c", resource_link_id="r", deployment_id="1",
                           definition_public_id=None, name=None)


def test_launch_records_username_lineitem_and_gated_evidence(services):
    issued = Issued(services)
    with services.session() as s:
        ags = make_definition(s, services=services, policy={"source": "ags", "rule": "course_grade", "threshold": 60})
        make_definition(s, services=services, policy={"source": "gated_launch", "gated_launch_acknowledged": True,
                                   "issuance": "automatic"})
        learner = Learner(platform_issuer=ISSUER, sub="s1", external_ids={})
        s.add(learner)
        s.flush()
        on_launch(s, services, _actor(ags.course_id, learner.id, ["instructor"]), {AGS_CLAIM: {"lineitem": LINEITEM}})
        assert s.get(CredentialDefinition, ags.id).policy["ags_lineitem"] == LINEITEM
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 0  # an instructor's launch is never evidence
        outcomes = on_launch(s, services, _actor(ags.course_id, learner.id, ["learner"]), {"preferred_username": "ada"})
        assert [o.action for o in outcomes] == ["issued"]
        assert learner.external_ids == {"openedx_username": "ada"}
    (credential,) = issued.all()
    assert credential["learner_id"] == learner.id
