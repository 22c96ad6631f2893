"""Map an LTI launch's role claims to the tool's three roles: ``instructor``, ``learner``, ``admin``.

Decisions (see ``docs/lti.md``):

* **instructor**: the context roles Instructor, TeachingAssistant (also as the
  ``Instructor#TeachingAssistant`` sub-role), ContentDeveloper and the course-level
  Administrator: the people who may set up the course's credential.
* **admin**: the *institution* or *system* Administrator (and SysAdmin) roles: tool-wide settings.
* **learner**: the context Learner role (and its sub-roles), and the fallback for every
  launch with no recognised role: empty roles, unknown roles, Mentor, Observer, Guest.
  A learner only ever sees their own record, so this is the safe default.
  Mentor is *not* an instructor role: a mentor follows some learners, it does not run the course.

Full URIs (LIS v2), LTI 1.3 short context names ("Instructor") and LTI 1.1 URNs
(``urn:lti:role:ims/lis/Instructor``) are all understood. Institution Faculty/Instructor
alone does not make someone an instructor *of this course*.
"""
from __future__ import annotations

import typing as t

INSTRUCTOR = "instructor"
LEARNER = "learner"
ADMIN = "admin"
HOME_PRIORITY = (INSTRUCTOR, ADMIN, LEARNER)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
_CONTEXT_INSTRUCTOR = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
_CONTEXT_LEARNER = {"Learner", "Student"}
_ADMIN = {"Administrator", "SysAdmin"}


def _classify(role: str) -> str | None:
    r = role.strip()
    if not r:
        return None
    # LIS v2 vocabularies
    if r.startswith(LIS):
        rest = r[len(LIS):]
        vocab, _, name = rest.partition("#")
        if vocab in ("system/person", "institution/person"):
            return ADMIN if name in _ADMIN else None
        if vocab == "membership":
            if name in _CONTEXT_INSTRUCTOR:
                return INSTRUCTOR
            if name in _CONTEXT_LEARNER:
                return LEARNER
            return None
        if vocab.startswith("membership/"):  # sub-roles: membership/Instructor#TeachingAssistant
            parent = vocab.split("/", 1)[1]
            if parent in _CONTEXT_INSTRUCTOR or name in ("TeachingAssistant",):
                return INSTRUCTOR
            if parent in _CONTEXT_LEARNER:
                return LEARNER
        return None
    # LTI 1.1 URNs
    if r.startswith("urn:lti:"):
        kind, _, name = r[len("urn:lti:"):].partition(":ims/lis/")
        base = name.split("/", 1)[0]
        if kind in ("sysrole", "instrole"):
            return ADMIN if base in _ADMIN else None
        if kind == "role":
            if base in _CONTEXT_INSTRUCTOR:
                return INSTRUCTOR
            if base in _CONTEXT_LEARNER:
                return LEARNER
        return None
    # Short context names (LTI 1.3 §A.2.3.1 allows them for context roles)
    name = r.rsplit("#", 1)[-1] if "://" not in r else None
    if name in _CONTEXT_INSTRUCTOR:
        return INSTRUCTOR
    if name in _CONTEXT_LEARNER:
        return LEARNER
    return None


def map_roles(claim: t.Any) -> list[str]:
    """The tool roles of a launch, in :data:`HOME_PRIORITY` order; never empty (learner fallback)."""
    found: set[str] = set()
    if isinstance(claim, list):
        for role in claim:
            if isinstance(role, str):
                kind = _classify(role)
                if kind:
                    found.add(kind)
    if not found:
        found.add(LEARNER)
    return [r for r in HOME_PRIORITY if r in found]


def home_role(roles: t.Sequence[str]) -> str:
    """The role whose home page a launch opens: instructor, then admin, then learner."""
    for r in HOME_PRIORITY:
        if r in roles:
            return r
    return LEARNER
