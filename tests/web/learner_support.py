"""A course with an enabled credential, a learner who passed, and their LTI launch."""
from __future__ import annotations

from dataclasses import dataclass

from plugin.storage.models import CredentialDefinition, Learner, PassEvidence
from plugin.web.auth import Actor, store_launch

from tests.engine_helpers import make_world


@dataclass
class Story:
    world: object
    course_id: int
    definition_public_id: str
    learner_public_id: str
    launch: str


def learner_launch(services, world, *, locale="en", learner_id=None) -> str:
    with services.session() as s:
        definition = s.get(CredentialDefinition, world.definition_id)
        learner = s.get(Learner, learner_id or world.learner_id)
        actor = Actor(kind="lti", roles=["learner"], platform_issuer=learner.platform_issuer, sub=learner.sub,
                      learner_id=learner.id, course_id=definition.course_id, context_title="Data policy",
                      name=learner.name, email=learner.email, locale=locale)
        return store_launch(s, actor)


POLICY = {"source": "ags", "rule": "course_grade", "threshold": 50, "issuance": "on_claim"}


def story(services, *, locale="en", slug="acme") -> Story:
    world = make_world(services, slug=slug)
    with services.session() as s:
        s.get(CredentialDefinition, world.definition_id).policy = POLICY
        s.get(PassEvidence, world.evidence_id).source = "ags"
    launch = learner_launch(services, world, locale=locale)
    with services.session() as s:
        definition = s.get(CredentialDefinition, world.definition_id)
        learner = s.get(Learner, world.learner_id)
        return Story(world, definition.course_id, definition.public_id, learner.public_id, launch)


def csrf_token(html: str) -> str:
    import re
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)
