"""Learner and course rows from launches: identity is (issuer, sub); shared data refreshed each launch."""
from __future__ import annotations

from sqlalchemy import func, select

from lti.identity import definition_for_course, upsert_course, upsert_learner
from plugin.storage.models import Learner
from tests.lti.fixtures import LTI

ISS = "https://lms.example.org"


def test_learner_is_updated_on_each_launch_and_not_erased(services):
    with services.session() as s:
        first = upsert_learner(s, ISS, {"sub": "ext-42", "name": "Pat Old", "email": "old@example.org",
                                        LTI + "lis": {"person_sourcedid": "SIS-9"}}, "openedx")
        learner_id = first.id
    with services.session() as s:
        again = upsert_learner(s, ISS, {"sub": "ext-42", "name": "Pat New", "locale": "fr-FR"}, "openedx")
        assert again.id == learner_id
        assert (again.name, again.email, again.locale) == ("Pat New", "old@example.org", "fr-FR")
        assert again.external_ids == {"lis_person_sourcedid": "SIS-9", "openedx_external_user_id": "ext-42"}
    with services.session() as s:
        # the same sub on another platform is another learner
        other = upsert_learner(s, "https://moodle.example.org", {"sub": "ext-42"}, "moodle")
        assert other.id != learner_id and other.external_ids == {"moodle_user_id": "ext-42"}
        assert s.scalar(select(func.count()).select_from(Learner)) == 2


def test_names_only_and_stored_values_are_cleaned(services):
    with services.session() as s:
        learner = upsert_learner(s, ISS, {"sub": "u", "given_name": "Ada\x00", "family_name": "L" * 400,
                                          "email": 12}, "generic")
        assert learner.given_name == "Ada" and len(learner.family_name) == 255 and learner.email is None
        assert learner.name == "Ada " + "L" * 251


def test_course_and_its_definition(services):
    with services.session() as s:
        assert upsert_course(s, ISS, None, {}) is None  # no context claim
        course = upsert_course(s, ISS, None, {LTI + "context": {"id": "course-v1:X+Y+Z", "title": "T1"}})
        same = upsert_course(s, ISS, None, {LTI + "context": {"id": "course-v1:X+Y+Z", "title": "T2"}})
        assert same.id == course.id and same.title == "T2"
        definition = definition_for_course(s, course)
        assert not definition.enabled and definition_for_course(s, course).id == definition.id
