"""Who launched, in which course: upsert ``Learner`` and ``Course`` rows from a validated launch.

A learner is the pair (platform issuer, ``sub``). Name, email, locale and the
platform-specific ids the launch shares are refreshed on every launch (a platform that
stops sharing PII does not erase what an earlier launch shared).
"""
from __future__ import annotations

import typing as t

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti import CLAIM_CONTEXT, CLAIM_CUSTOM, CLAIM_LIS, CLAIM_LTI1P1
from plugin.storage.models import Course, CredentialDefinition, Learner


def clean(value: t.Any, limit: int) -> str | None:
    """A storable string: text only, NUL removed, cut to the column size."""
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:limit] or None


def external_ids(claims: dict, product: str) -> dict:
    ids: dict[str, str] = {}
    lis = claims.get(CLAIM_LIS)
    if isinstance(lis, dict) and clean(lis.get("person_sourcedid"), 255):
        ids["lis_person_sourcedid"] = clean(lis["person_sourcedid"], 255)
    lti1p1 = claims.get(CLAIM_LTI1P1)
    if isinstance(lti1p1, dict) and clean(lti1p1.get("user_id"), 255):
        ids["lti1p1_user_id"] = clean(lti1p1["user_id"], 255)
    custom = claims.get(CLAIM_CUSTOM)
    if isinstance(custom, dict):
        for key in ("user_id", "user_username", "person_sourcedid"):
            if clean(custom.get(key), 255):
                ids[f"custom_{key}"] = clean(custom[key], 255)
    if product == "openedx":
        # Open edX's sub is its external LTI user id (not the LMS user id): keep it under its name.
        ids["openedx_external_user_id"] = claims["sub"]
    if product == "moodle":
        ids["moodle_user_id"] = claims["sub"]  # Moodle's sub is its numeric user id
    return ids


def _upsert(session: Session, model, where: dict, make: t.Callable[[], t.Any]):
    row = session.scalars(select(model).filter_by(**where)).first()
    if row is None:
        try:
            with session.begin_nested():
                row = make()
                session.add(row)
                session.flush()
        except IntegrityError:  # a concurrent launch created it
            row = session.scalars(select(model).filter_by(**where)).one()
    return row


def launch_locale(claims: dict) -> str | None:
    """The user's language: the OIDC ``locale`` claim, else ``launch_presentation.locale``
    (Moodle sends only the latter, e.g. ``fr`` or ``fr_ca``)."""
    if isinstance(claims.get("locale"), str) and claims["locale"].strip():
        return claims["locale"]
    presentation = claims.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation")
    if isinstance(presentation, dict) and isinstance(presentation.get("locale"), str):
        return presentation["locale"] or None
    return None


def upsert_learner(session: Session, issuer: str, claims: dict, product: str = "generic") -> Learner:
    sub = claims["sub"]
    learner = _upsert(session, Learner, {"platform_issuer": issuer, "sub": sub},
                      lambda: Learner(platform_issuer=issuer, sub=sub, external_ids={}))
    for field, limit in (("name", 255), ("given_name", 255), ("family_name", 255), ("email", 320), ("locale", 32)):
        value = clean(claims.get(field), limit)
        if field == "locale" and not value:
            value = clean(launch_locale(claims), limit)
        if value:
            setattr(learner, field, value)
    if not learner.name and (learner.given_name or learner.family_name):
        learner.name = " ".join(p for p in (learner.given_name, learner.family_name) if p)[:255]
    ids = dict(learner.external_ids or {})
    ids.update(external_ids(claims, product))
    if ids != (learner.external_ids or {}):
        learner.external_ids = ids
    session.flush()
    return learner


def upsert_course(session: Session, issuer: str, platform_id: int, claims: dict) -> Course | None:
    context = claims.get(CLAIM_CONTEXT)
    if not isinstance(context, dict) or not isinstance(context.get("id"), str):
        return None
    context_id = context["id"]
    course = _upsert(session, Course, {"platform_issuer": issuer, "context_id": context_id},
                     lambda: Course(platform_issuer=issuer, context_id=context_id, platform_id=platform_id))
    title = clean(context.get("title"), 512)
    label = clean(context.get("label"), 255)
    if title:
        course.title = title
    if label:
        course.label = label
    if course.platform_id is None:
        course.platform_id = platform_id
    session.flush()
    return course


def definition_for_course(session: Session, course: Course) -> CredentialDefinition:
    """The course's credential definition, created (disabled, no version yet) if it has none."""
    definition = session.scalars(select(CredentialDefinition).where(CredentialDefinition.course_id == course.id)
                                 .order_by(CredentialDefinition.id)).first()
    if definition is None:
        definition = CredentialDefinition(course_id=course.id, enabled=False, policy={})
        session.add(definition)
        session.flush()
    return definition
