"""Receivers connected by edx-platform's plugin system (see ``apps.py`` ``signals_config``)."""
from __future__ import annotations

import logging

from django.conf import settings

from microcred_openedx.identity import external_id_for
from microcred_openedx.webhook import send_passing_status

log = logging.getLogger(__name__)


def _user_payload(user_data) -> dict | None:
    external_id = external_id_for(user_data)
    if not external_id:
        log.warning("microcred: no LTI external id for user %s; webhook not sent", getattr(user_data, "id", None))
        return None
    pii = getattr(user_data, "pii", None)
    user = {"external_id": str(external_id), "username": getattr(pii, "username", None) or None}
    if settings.MICROCRED_WEBHOOK_SEND_PII and pii is not None:
        user.update(name=pii.name or None, email=pii.email or None)
    return user


def _current_grade(user_id: int, course_key) -> dict | None:
    """The course grade, read from edx-platform when it is there (not in tests)."""
    try:
        from django.contrib.auth import get_user_model
        from lms.djangoapps.grades.api import CourseGradeFactory  # edx-platform only
        from opaque_keys.edx.keys import CourseKey
    except ImportError:
        return None
    try:
        user = get_user_model().objects.get(id=user_id)
        grade = CourseGradeFactory().read(user, course_key=CourseKey.from_string(str(course_key)))
        return {"percent": grade.percent, "letter_grade": grade.letter_grade or None, "passed": grade.passed}
    except Exception:  # the grade is a bonus: the passing flag is what matters
        log.exception("microcred: could not read the course grade")
        return None


def course_keys(course) -> tuple[str, str | None]:
    """(the key of the course the learner passed, its master course's key for a CCX).

    ``COURSE_PASSING_STATUS_UPDATED`` carries a ``CourseData`` (``course_key``);
    ``CCX_COURSE_PASSING_STATUS_UPDATED`` a ``CcxCourseData``, which has no ``course_key``
    but ``ccx_course_key`` (``ccx-v1:…``, the LTI ``context_id`` of launches inside the CCX)
    and ``master_course_key``.
    """
    ccx_key = getattr(course, "ccx_course_key", None)
    if ccx_key is not None:
        master = getattr(course, "master_course_key", None)
        return str(ccx_key), str(master) if master is not None else None
    return str(course.course_key), None


def on_course_passing_status_updated(sender, signal=None, course_passing_status=None, **kwargs):
    """``COURSE_PASSING_STATUS_UPDATED`` and ``CCX_COURSE_PASSING_STATUS_UPDATED``."""
    status = course_passing_status
    if status is None or not settings.MICROCRED_WEBHOOK_URL:
        return None
    user = _user_payload(status.user)
    if user is None:
        return None
    metadata = kwargs.get("metadata")
    course_key, master_course_key = course_keys(status.course)
    data = {"is_passing": bool(status.is_passing), "course_key": course_key, "user": user,
            "grade": _current_grade(status.user.id, course_key)}
    if master_course_key:
        data["master_course_key"] = master_course_key
    return send_passing_status(data, event_time=getattr(metadata, "time", None))


def on_certificate_created(sender, signal=None, certificate=None, **kwargs):
    """A downloadable certificate means the learner passed; it also carries the grade."""
    if certificate is None or not settings.MICROCRED_WEBHOOK_URL or certificate.current_status != "downloadable":
        return None
    user = _user_payload(certificate.user)
    if user is None:
        return None
    try:
        percent = float(certificate.grade) if certificate.grade not in (None, "") else None
    except (TypeError, ValueError):
        percent = None
    data = {"is_passing": True, "course_key": course_keys(certificate.course)[0], "user": user,
            "grade": {"percent": percent, "letter_grade": None, "passed": True} if percent is not None else None}
    metadata = kwargs.get("metadata")
    return send_passing_status(data, event_time=getattr(metadata, "time", None))
