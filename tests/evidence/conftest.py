"""Fixtures of the evidence tests: a fake Moodle (real HTTP) and a course that reads it."""
import pytest

from plugin.evidence import bridge_config
from tests.bridges_support import make_definition, make_platform
from tests.evidence.fake_platforms import FakeMoodle, grade_item

MOODLE = "https://moodle.test"


@pytest.fixture
def moodle():
    server = FakeMoodle()
    for userid, total in [(3, 62.5), (4, 91.0), (5, 75.0)]:
        server.add_learner(2, userid, f"Learner {userid}", [grade_item(None, total, itemtype="course")])
    yield server
    server.close()


@pytest.fixture
def course_id(services, moodle):
    with services.session() as s:
        platform = make_platform(s, issuer=MOODLE, product="moodle")
        bridge_config.set_moodle(services, platform, moodle.url, FakeMoodle.TOKEN)
        definition = make_definition(s, services=services, issuer=MOODLE, context_id="2", platform_id=platform.id, policy={
            "source": "moodle", "rule": "course_grade", "threshold": 70, "issuance": "automatic"})
        return definition.course_id
