"""Instructor pages, launched from a course: describe, preview, enable, watch and manage the credential.

Every view requires the ``instructor`` role of the launch (``?launch=`` or the hidden
``launch`` field: nothing depends on cookies inside the platform's iframe). A
blueprint-wide guard repeats the check so a view added without its decorator stays closed.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from plugin.storage.models import Course, CredentialDefinition
from plugin.web.auth import current_actor, require_roles
from plugin.web.context import db
from plugin.web.formatting import install as install_helpers

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
install_helpers(bp)


@bp.before_request
def _guard():
    actor = current_actor()
    if actor is None:
        abort(401, description=_("Open this page from your course (LTI launch)."))
    if not actor.has("instructor"):
        abort(403, description=_("Only the course's instructors can open these pages."))


def current_course() -> Course:
    actor = current_actor()
    course = db().get(Course, actor.course_id) if actor.course_id else None
    if course is None:
        abort(400, description=_("This launch has no course: add the tool to a course and launch it from there."))
    return course


def course_definition(course: Course) -> CredentialDefinition | None:
    return db().scalar(select(CredentialDefinition).where(CredentialDefinition.course_id == course.id)
                       .order_by(CredentialDefinition.id).limit(1))


@bp.get("/")
@require_roles("instructor")
def home():
    course = current_course()
    definition = course_definition(course)
    return render_template("instructor/home.html", course=course, definition=definition)
