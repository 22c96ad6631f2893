"""Role mapping from LTI role claims (full URIs, short names, LTI 1.1 URNs, unknown, empty)."""
from __future__ import annotations

import pytest

from lti.roles import home_role, map_roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
I = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize("claim, expected", [
    ([M + "Instructor"], ["instructor"]),
    ([M + "TeachingAssistant"], ["instructor"]),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], ["instructor"]),
    ([M + "ContentDeveloper"], ["instructor"]),
    ([M + "Administrator"], ["instructor"]),  # course administrator runs the course
    ([M + "Learner"], ["learner"]),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#NonCreditLearner"], ["learner"]),
    ([I + "Administrator"], ["admin"]),
    ([S + "Administrator"], ["admin"]),
    ([S + "SysAdmin"], ["admin"]),
    (["Instructor"], ["instructor"]),  # short context role
    (["Learner"], ["learner"]),
    (["TeachingAssistant"], ["instructor"]),
    (["urn:lti:role:ims/lis/Instructor"], ["instructor"]),  # LTI 1.1
    (["urn:lti:role:ims/lis/TeachingAssistant"], ["instructor"]),
    (["urn:lti:instrole:ims/lis/Administrator"], ["admin"]),
    (["urn:lti:sysrole:ims/lis/Administrator"], ["admin"]),
    ([M + "Mentor"], ["learner"]),  # a mentor follows learners; not an instructor
    ([I + "Faculty"], ["learner"]),  # faculty elsewhere is not instructor of this course
    ([I + "Student", M + "Learner"], ["learner"]),
    ([M + "Instructor", S + "Administrator"], ["instructor", "admin"]),
    ([M + "Instructor", M + "Learner"], ["instructor", "learner"]),
    (["http://example.org/roles#Wizard"], ["learner"]),  # unknown -> learner
    ([], ["learner"]),  # empty -> learner
    (["", "   "], ["learner"]),
    (None, ["learner"]),
    ([42, {"x": 1}], ["learner"]),
])
def test_map_roles(claim, expected):
    assert map_roles(claim) == expected


def test_home_role_priority():
    assert home_role(["instructor", "admin", "learner"]) == "instructor"
    assert home_role(["admin", "learner"]) == "admin"
    assert home_role(["learner"]) == "learner"
    assert home_role([]) == "learner"
