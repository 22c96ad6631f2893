"""Instructor pages, launched from a course: describe, preview, enable, watch and manage the credential.

Every view requires the ``instructor`` role of the launch (``?launch=`` or the hidden
``launch`` field: nothing depends on cookies inside the platform's iframe). A
blueprint-wide guard repeats the check so a view added without its decorator stays closed.

The engine (:mod:`plugin.issuance.service`) does the work and writes the audit rows for
definitions, issuance and status changes; these views validate, call it inside the
request's one transaction, and commit only when everything succeeded.

The ``instructor`` blueprint is defined here with its guard and the helpers every page shares
(the launch's course, its definition, :class:`ActionForm`); its views live in one module per
task and register on it: :mod:`~plugin.web.instructor.definition` (overview, definition form),
:mod:`~plugin.web.instructor.preview` (preview, enable, disable), :mod:`~plugin.web.instructor.live`
(the live preview), :mod:`~plugin.web.instructor.issued` (issued list and status actions),
:mod:`~plugin.web.instructor.jobs` (bulk issue, catch-up sync). The other instructor pages are
blueprints of their own in this package (``dashboard``, ``issued_actions``, ``instructor_issuance``).
"""
from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from plugin.domain.definition import DefinitionData
from plugin.storage.models import Course, CredentialDefinition, DefinitionVersion, Issuer, Platform
from plugin.web.auth import current_actor
from plugin.web.context import db, services
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


# --------------------------------------------------------------------------- helpers
def _locale() -> str:
    return str(get_locale() or "en")


def current_course() -> Course:
    actor = current_actor()
    course = db().get(Course, actor.course_id) if actor.course_id else None
    if course is None:
        abort(400, description=_("This launch has no course: add the tool to a course and launch it from there."))
    return course


def course_definition(course: Course) -> CredentialDefinition | None:
    return db().scalar(select(CredentialDefinition).where(CredentialDefinition.course_id == course.id)
                       .order_by(CredentialDefinition.id).limit(1))


def current_data(definition: CredentialDefinition | None) -> tuple[DefinitionData, DefinitionVersion | None]:
    if definition is None:
        return DefinitionData(), None
    from plugin.issuance.service import current_version
    version = current_version(db(), definition)
    return (DefinitionData.from_json(version.data) if version else DefinitionData()), version


def allowed_issuers() -> list[Issuer]:
    """The issuers an admin allowed for the launch's platform and course (see plugin.storage.issuer_access)."""
    from plugin.storage.issuer_access import issuers_for_course
    actor = current_actor()
    return issuers_for_course(db(), actor.platform_id, actor.course_id)


def label_profiles():
    from plugin.domain.labels import load_profiles
    return load_profiles([services().settings.instance_dir / "labels"])


def label_checks(definition: CredentialDefinition | None, data: DefinitionData):
    from plugin.domain.labels import check_labels
    if definition is None or not definition.labels:
        return []
    return check_labels(data, list(definition.labels), label_profiles(), _locale())


def _default_source() -> str:
    actor = current_actor()
    platform = db().get(Platform, actor.platform_id) if actor.platform_id else None
    return {"moodle": "moodle", "openedx": "openedx_webhook"}.get(platform.product if platform else "", "ags")


def _definition_or_404() -> tuple[Course, CredentialDefinition]:
    course = current_course()
    definition = course_definition(course)
    if definition is None:
        abort(404, description=_("Describe the course's credential first."))
    return course, definition


class ActionForm(FlaskForm):
    launch = HiddenField()


# The views register on ``bp`` when their modules load (last: they import ``bp`` from here).
from plugin.web.instructor import definition, preview, live, issued, jobs  # noqa: E402

VIEW_MODULES = (definition, preview, live, issued, jobs)
