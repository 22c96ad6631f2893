"""An Open edX course whose passes arrive by the real webhook, and the launches of its people,
for the tests of what learners, instructors and admins see when issuing fails."""
from __future__ import annotations

import re
from dataclasses import dataclass

from plugin.storage.models import Learner
from plugin.web.auth import Actor, store_launch
from tests.bridges_support import COURSE_KEY, ISSUER, SigningKey, make_definition, make_platform, passing_claims
from tests.web.helpers import launch

WEBHOOK = "/api/webhooks/openedx"
POLICY = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 70, "issuance": "automatic"}


@dataclass
class Course:
    key: SigningKey
    platform_id: int
    definition_id: int
    definition_public_id: str
    issuer_id: int
    course_id: int


def openedx_course(services, *, policy: dict | None = None) -> Course:
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}})
        definition = make_definition(s, policy=dict(policy or POLICY), platform_id=platform.id, services=services)
        return Course(key, platform.id, definition.id, definition.public_id, definition.issuer_id,
                      definition.course_id)


def deliver_pass(client, course: Course, *, sub: str = "ext-7f3a", username: str = "ada", percent: float = 0.82):
    return client.post(WEBHOOK, data=course.key.sign(passing_claims(sub=sub, username=username, percent=percent)),
                       content_type="application/jwt")


def learner_launch(services, course: Course, *, sub: str = "ext-7f3a", locale: str = "en") -> str:
    from sqlalchemy import select
    with services.session() as s:
        learner = s.scalar(select(Learner).where(Learner.platform_issuer == ISSUER, Learner.sub == sub))
        actor = Actor(kind="lti", roles=["learner"], platform_id=course.platform_id, platform_issuer=ISSUER,
                      sub=sub, learner_id=learner.id, course_id=course.course_id, context_id=COURSE_KEY,
                      context_title="Micro-credentials 101", name=learner.name, locale=locale)
        return store_launch(s, actor)


def instructor_launch(services, course: Course, *, locale: str = "en") -> str:
    return launch(services, ["instructor"], platform_id=course.platform_id, context_id=COURSE_KEY, locale=locale,
                  sub="teacher-1", name="Alan Turing")


def admin_launch(services, course: Course, *, locale: str = "en") -> str:
    return launch(services, ["admin"], platform_id=course.platform_id, context_id=COURSE_KEY, locale=locale,
                  sub="admin-1", name="Margaret Hamilton")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def text_of(html: str) -> str:
    """The page's words, tags removed, white space collapsed (what a person reads)."""
    import html as htmllib
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
