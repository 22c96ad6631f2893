"""Who launched, in which course: upsert ``Learner`` and ``Course`` rows from a validated launch.

A learner is the pair (platform issuer, ``sub``). Name, email, locale and the
platform-specific ids the launch shares are refreshed on every launch (a platform that
stops sharing PII does not erase what an earlier launch shared).
"""
from __future__ import annotations

import typing as t

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti import CLAIM_CONTEXT, CLAIM_CUSTOM, CLAIM_LIS, CLAIM_LTI1P1
from plugin.storage.db import upsert_insert
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


def _find(session: Session, model, where: dict):
    return session.scalars(select(model).filter_by(**where)).first()


def _upsert(session: Session, model, where: dict, values: dict, found, *, on_insert: dict | None = None):
    """The row matching ``where`` with ``values`` set: one SELECT (and an UPDATE only when a
    value changed) for a known row; for a new one an ``INSERT ... ON CONFLICT DO NOTHING
    RETURNING`` with every value (a concurrent launch that created it first wins, and its
    row is read and updated)."""
    row = found
    if row is None:
        stmt = upsert_insert(session, model).values(**where, **values, **(on_insert or {})).on_conflict_do_nothing()
        row = session.scalars(stmt.returning(model)).first()
        if row is not None:
            return row
        row = session.scalars(select(model).filter_by(**where)).one()  # a concurrent launch created it
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
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
    where = {"platform_issuer": issuer, "sub": sub}
    known = _find(session, Learner, where)
    values: dict[str, t.Any] = {}
    for field, limit in (("name", 255), ("given_name", 255), ("family_name", 255), ("email", 320), ("locale", 32)):
        value = clean(claims.get(field), limit)
        if field == "locale" and not value:
            value = clean(launch_locale(claims), limit)
        if value:
            values[field] = value
    name = values.get("name") or (known.name if known is not None else None)
    if not name:
        given = values.get("given_name") or (known.given_name if known is not None else None)
        family = values.get("family_name") or (known.family_name if known is not None else None)
        if given or family:
            values["name"] = " ".join(p for p in (given, family) if p)[:255]
    ids = dict((known.external_ids if known is not None else None) or {})
    ids.update(external_ids(claims, product))
    values["external_ids"] = ids
    learner = _upsert(session, Learner, where, values, known)
    session.flush()
    return learner


def upsert_course(session: Session, issuer: str, platform_id: int, claims: dict) -> Course | None:
    context = claims.get(CLAIM_CONTEXT)
    if not isinstance(context, dict) or not isinstance(context.get("id"), str):
        return None
    context_id = context["id"]
    values: dict[str, t.Any] = {}
    title = clean(context.get("title"), 512)
    label = clean(context.get("label"), 255)
    if title:
        values["title"] = title
    if label:
        values["label"] = label
    where = {"platform_issuer": issuer, "context_id": context_id}
    course = _upsert(session, Course, where, values, _find(session, Course, where),
                     on_insert={"platform_id": platform_id})
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
