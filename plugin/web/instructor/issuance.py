"""Instructors: credentials owed to learners whose issuance failed, and the Retry button.

The issued list (:mod:`plugin.web.instructor.issued`) shows them above the credentials with the
reason in plain words (:func:`problems_for`); the overview counts them (:func:`counts_for`).
``POST /instructor/issuance/<id>/retry`` tries again now, in the request (CSRF-protected,
audited as ``credential.issue_retry``): the credential is issued, or the reason is updated
and automatic retries go on. Pressing it twice, or while the retry job runs, still issues
one credential (:mod:`plugin.issuance.pending`).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect
from flask_babel import gettext as _

from plugin.issuance.failures import reason_from_json
from plugin.issuance.pending import open_counts, open_issuances, retry_now
from plugin.storage.models import CredentialDefinition, Learner, PendingIssuance
from plugin.web.audit import record
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import tr
from plugin.web.formatting import install as install_helpers

bp = Blueprint("instructor_issuance", __name__, url_prefix="/instructor/issuance")
install_helpers(bp)


@bp.before_request
def _guard():
    from plugin.web.instructor import _guard as instructor_guard  # the check every instructor page makes
    return instructor_guard()


@bp.app_template_filter("issuance_reason")
def issuance_reason(value) -> str:
    """A stored reason (``{"msgid", "params"}``, e.g. in a bulk report) in the reader's language."""
    return tr(reason_from_json(value)) if isinstance(value, dict) else str(value or "")


def problems_for(definition: CredentialDefinition | None):
    """Open (pending or failed) issuances of the definition, failed first."""
    return open_issuances(db(), definition_id=definition.id) if definition is not None else []


def counts_for(definition: CredentialDefinition | None) -> dict[str, int]:
    return open_counts(db(), definition_id=definition.id) if definition is not None else {"pending": 0, "failed": 0}


def retry_and_report(row: PendingIssuance) -> None:
    """Try ``row`` again now, audit it, and flash what happened (the caller commits)."""
    actor = current_actor()
    learner = db().get(Learner, row.learner_id)
    definition = db().get(CredentialDefinition, row.definition_id)
    attempt = retry_now(db(), services(), row, actor=actor.label)
    record("credential.issue_retry", "definition", definition.public_id, learner=learner.public_id,
           result=attempt.result, reason=attempt.failure.detail if attempt.failure else None)
    who = learner.name or learner.email or learner.sub
    if attempt.result == "issued":
        flash(_("Issued to %(who)s.", who=who), "ok")
    elif attempt.result == "already_issued":
        flash(_("%(who)s already holds this credential; nothing more to do.", who=who), "ok")
    elif attempt.result == "not_due":
        flash(_("Nothing to issue to %(who)s: %(why)s.", who=who, why=tr(attempt.why_not)), "ok")
    else:
        flash(_("Still not issued to %(who)s: %(reason)s.", who=who, reason=tr(attempt.failure.reason)), "error")


@bp.post("/<int:pending_id>/retry")
@require_roles("instructor")
def retry(pending_id: int):
    from plugin.web.instructor import ActionForm, _definition_or_404
    _course, definition = _definition_or_404()
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    row = db().get(PendingIssuance, pending_id)
    if row is None or row.definition_id != definition.id:
        abort(404, description=_("No such issuance in this course."))
    if row.state not in ("pending", "failed"):
        flash(_("This issuance was already settled."), "ok")
    else:
        retry_and_report(row)
    db().commit()
    return redirect(launch_url("instructor.issued"))
