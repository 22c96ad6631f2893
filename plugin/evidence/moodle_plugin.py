"""Moodle: the signed course-status webhook of the microcred Moodle plugin ``local_microcred``.

The plugin (``integrations/moodle/local_microcred``, installed in Moodle) observes course
completion and grade events and sends ``POST /api/webhooks/moodle``: one compact JWT, signed
with the Ed25519 key it generated on install, whose public half it publishes as a JWKS at
``{wwwroot}/local/microcred/jwks.php`` (register it with
``microcred bridge set --issuer WWWROOT --moodle-webhook-jwks-url URL``). The checks are those
of every plugin webhook (:mod:`plugin.evidence.signed_webhook`); the claims:

``iss`` the Moodle site root (the issuer of its LTI launches), ``aud`` this tool's
``/api/webhooks/moodle`` URL, ``iat``, ``exp`` (at most 600 s later), ``jti`` (kept across
the plugin's retries, accepted once), ``event_type`` = :data:`EVENT_COURSE_STATUS`,
``event_time`` and ``data``::

    {"courseid": "2", "trigger": "course_completed" | "user_graded" | "resend",
     "user": {"id": "4", "name": ..., "email": ...},        # name/email only if the Moodle admin opted in
     "completion": {"enabled": true, "completed": true, "missing": ["Quiz 1", ...]},
     "course_total": {"grade": 232.5, "grademin": 0, "grademax": 300, "gradepass": 150},
     "grade_items": [{"name": "Final exam", "idnumber": "FINAL", "itemtype": "mod",
                      "grade": 80, "grademin": 0, "grademax": 100, "gradepass": 50}]}

``user.id`` is Moodle's user id, which is the ``sub`` of its LTI 1.3 launches, and
``courseid`` the LTI context id. The event becomes a ``moodle`` observation, the same kind the
web-services bridge pulls, so a credential whose pass policy reads Moodle is decided (and
issued when automatic) within the request: seconds after the completion or the grade,
without polling. Inside Moodle the plugin reads the course total's *grade to pass* directly,
which no Moodle web-service function returns.
"""
from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from plugin.domain.policy import Observation
from plugin.evidence.moodle import observation_from_grades
from plugin.evidence.signed_webhook import WebhookRejected, verify_signed_webhook
from plugin.storage.models import Platform

BRIDGE = "moodle"
WEBHOOK_PATH = "/api/webhooks/moodle"
EVENT_COURSE_STATUS = "local_microcred.course_status.v1"
TRIGGERS = ("course_completed", "user_graded", "resend")


def _id_text(value: Any) -> Any:
    """Moodle ids arrive as numbers or strings; keep them as the LTI strings."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class MoodleUser(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=255, pattern=r"^[0-9]+$")
    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)

    _ids = field_validator("id", mode="before")(_id_text)


class MoodleCompletion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    enabled: bool
    completed: bool | None = None
    missing: list[str] = Field(default_factory=list, max_length=200)


class MoodleGrade(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, max_length=1333)
    idnumber: str | None = Field(default=None, max_length=255)
    itemtype: str = "mod"
    grade: float | None = None
    grademin: float = 0.0
    grademax: float = 100.0
    gradepass: float | None = None


class CourseStatusData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    courseid: str = Field(min_length=1, max_length=255, pattern=r"^[0-9]+$")
    trigger: str = Field(default="resend", max_length=64)
    user: MoodleUser
    completion: MoodleCompletion | None = None
    course_total: MoodleGrade | None = None
    grade_items: list[MoodleGrade] = Field(default_factory=list, max_length=1000)

    _ids = field_validator("courseid", mode="before")(_id_text)


def verify_webhook(session: Session, token: str, *, audience: str, now: float | None = None,
                   key_sets=None) -> tuple[Platform, dict[str, Any]]:
    return verify_signed_webhook(session, token, audience=audience, bridge=BRIDGE, now=now, key_sets=key_sets)


def parse_event(claims: dict[str, Any]) -> CourseStatusData:
    event_type = claims.get("event_type")
    if event_type != EVENT_COURSE_STATUS:
        raise WebhookRejected(400, "unsupported_event",
                              f"unsupported event_type {event_type!r}; expected {EVENT_COURSE_STATUS}")
    try:
        return CourseStatusData.model_validate(claims.get("data"))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise WebhookRejected(400, "invalid_payload", f"the event data is not valid: {problems}") from None


def observation_from_event(event: CourseStatusData, claims: dict[str, Any]) -> Observation:
    """The event as the observation the web-services bridge would make of the same facts."""
    items = []
    if event.course_total is not None:
        items.append(_grade_item(event.course_total, "course"))
    items += [_grade_item(g, g.itemtype if g.itemtype != "course" else "mod") for g in event.grade_items]
    completion = None
    if event.completion is not None and event.completion.enabled and event.completion.completed is not None:
        completion = {"completed": event.completion.completed,
                      "completions": [{"title": m, "complete": False} for m in event.completion.missing]}
    obs = observation_from_grades({"gradeitems": items, "userid": event.user.id, "courseid": event.courseid},
                                  completion)
    obs.details.update(via="local_microcred", trigger=event.trigger, jti=claims["jti"],
                       event_type=claims.get("event_type"))
    if event.completion is not None and not event.completion.enabled:
        obs.details["completion"] = "not tracked in this course"
    return obs


def _grade_item(grade: MoodleGrade, itemtype: str) -> dict[str, Any]:
    return {"itemtype": itemtype, "itemname": grade.name, "idnumber": grade.idnumber or "",
            "graderaw": grade.grade, "grademin": grade.grademin, "grademax": grade.grademax,
            "gradepass": grade.gradepass}


def handle_course_status(session: Session, services, claims: dict[str, Any]) -> dict[str, Any]:
    """Record a verified event for every credential of the course whose policy reads Moodle
    (issued at once by the enabled automatic ones; disabled ones keep it for later)."""
    from plugin.evidence.base import definitions_for_course, ensure_learner, find_course
    from plugin.issuance.auto import process_observation

    event = parse_event(claims)
    issuer = claims["iss"]
    course = find_course(session, issuer, event.courseid)
    if course is None:
        return {"accepted": True, "course": None, "results": [],
                "message": "no course with this id has used the tool yet; nothing to do"}
    definitions = definitions_for_course(session, course.id, "moodle", enabled_only=False)
    if not definitions:
        return {"accepted": True, "course": course.id, "results": [],
                "message": "no credential of this course reads its pass evidence from Moodle"}
    learner = ensure_learner(session, issuer, event.user.id, external_ids={"moodle_user_id": event.user.id},
                             name=event.user.name, email=event.user.email)
    jti_hash = hashlib.sha256(f"{issuer}|{claims['jti']}".encode()).hexdigest()[:40]
    results = []
    for definition, policy in definitions:
        outcome = process_observation(session, services, definition=definition, learner=learner,
                                      observation=observation_from_event(event, claims), policy=policy,
                                      dedup_key=f"moodle-webhook:{definition.id}:{jti_hash}")
        results.append(outcome.as_dict())
    return {"accepted": True, "course": course.id, "learner": learner.id, "results": results}
