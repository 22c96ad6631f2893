"""Admins: issuance failures across courses (``/admin/issuance``), and their Retry button.

The admin overview (:mod:`plugin.web.admin.home`) shows how many there are and the newest
reasons (:func:`overview`), each linking to this list filtered on its course. A local
admin sees every course; an LTI administrator the courses of their platform. No page
here names a learner beyond what the course's own issued list shows its instructors.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from plugin.issuance.pending import open_counts, open_issuances
from plugin.storage.models import Course, CredentialDefinition, PendingIssuance, Platform
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db
from plugin.web.formatting import install as install_helpers
from plugin.web.instructor.issuance import retry_and_report

bp = Blueprint("admin_issuance", __name__, url_prefix="/admin/issuance")
install_helpers(bp)
NEWEST = 5


@bp.before_request
def _guard():
    from plugin.web.admin import _guard as admin_guard  # the check every admin page makes
    return admin_guard()


def course_scope(scope: int | None) -> list[int] | None:
    """Course ids an LTI administrator of platform ``scope`` may see (None: every course)."""
    if scope is None:
        return None
    platform = db().get(Platform, scope)
    if platform is None:
        return []
    return list(db().scalars(select(Course.id).where(
        (Course.platform_id == platform.id) | (Course.platform_issuer == platform.issuer))))


def overview(scope: int | None) -> dict:
    """For the admin overview: counts and the newest failures in the admin's scope."""
    courses = course_scope(scope)
    return {"counts": open_counts(db(), course_ids=courses),
            "newest": open_issuances(db(), course_ids=courses, limit=NEWEST)}


@bp.get("/")
@require_roles("admin")
def home():
    from plugin.web.admin import platform_scope
    from plugin.web.instructor import ActionForm
    courses = course_scope(platform_scope())
    course_id = request.args.get("course", type=int)
    if course_id is not None and courses is not None and course_id not in courses:
        abort(404, description=_("No such course on your platform."))
    course = db().get(Course, course_id) if course_id is not None else None
    problems = open_issuances(db(), course_ids=courses, course_id=course_id, limit=500)
    return render_template("admin/issuance.html", problems=problems, course=course,
                           counts=open_counts(db(), course_ids=[course_id] if course_id is not None else courses),
                           form=ActionForm(launch=current_actor().launch_id))


@bp.post("/<int:pending_id>/retry")
@require_roles("admin")
def retry(pending_id: int):
    from plugin.web.admin import platform_scope
    from plugin.web.instructor import ActionForm
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    row = db().get(PendingIssuance, pending_id)
    courses = course_scope(platform_scope())
    course_id = db().scalar(select(CredentialDefinition.course_id).where(
        CredentialDefinition.id == row.definition_id)) if row is not None else None
    if row is None or (courses is not None and course_id not in courses):
        abort(404, description=_("No such issuance on your platform."))
    if row.state in ("pending", "failed"):
        retry_and_report(row)
    db().commit()
    return redirect(launch_url("admin_issuance.home", course=request.args.get("course", type=int)))
