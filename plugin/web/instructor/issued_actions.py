"""Revoke, suspend, reinstate or re-issue credentials from the issued list, one or a selection.

Nothing changes on the first click: ``GET /instructor/issued/confirm`` (the row's link, or
the list's selection with an action) shows which learners are concerned, what the action
does, and asks for the reason (required to revoke or suspend: it is kept in the audit log
and shown to the verifier's operator). ``POST /instructor/issued/apply`` does it in one
transaction through the engine (:mod:`plugin.issuance.service`, which writes the audit
rows); a credential that cannot take the action is named and the rest is still done.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from plugin.storage.models import IssuedCredential, Learner
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.formatting import install as install_helpers

bp = Blueprint("issued_actions", __name__, url_prefix="/instructor/issued")
install_helpers(bp)
ACTIONS = ("revoke", "suspend", "reinstate", "reissue")
REASON_REQUIRED = ("revoke", "suspend")
MAX_SELECTION = 500


@bp.before_request
def _guard():
    from plugin.web.instructor import _guard as instructor_guard  # the check every instructor page makes
    return instructor_guard()


def _action() -> str:
    action = request.values.get("action", "")
    if action not in ACTIONS:
        abort(400, description=_("Choose what to do with the selected credentials."))
    return action


def _selected(definition_id: int) -> list[tuple[IssuedCredential, Learner]]:
    ids = [i[:64] for i in request.values.getlist("id") if i][:MAX_SELECTION]
    if not ids:
        abort(400, description=_("Select at least one credential first."))
    rows = db().execute(select(IssuedCredential, Learner).join(Learner, Learner.id == IssuedCredential.learner_id)
                        .where(IssuedCredential.definition_id == definition_id, IssuedCredential.public_id.in_(ids))
                        .order_by(Learner.name, IssuedCredential.id)).all()
    if not rows:
        abort(404, description=_("None of the selected credentials belongs to this course."))
    return rows


def describe(action: str) -> tuple[str, str]:
    """(the button's words, what it does) for an action."""
    return {
        "revoke": (_("Revoke"), _("Revoking is final: verifiers see the credential as revoked. The learner may be "
                                  "awarded a new one later.")),
        "suspend": (_("Suspend"), _("The credential is suspended until you reinstate it; its verification page "
                                    "says so.")),
        "reinstate": (_("Reinstate"), _("The suspension is lifted: the credential is valid again.")),
        "reissue": (_("Re-issue"), _("The learner receives a new credential from the current version of the "
                                     "description; the old one is marked as superseded.")),
    }[action]


@bp.get("/confirm")
@require_roles("instructor")
def confirm():
    from plugin.web.instructor import ActionForm, _definition_or_404
    _course, definition = _definition_or_404()
    action = _action()
    rows = _selected(definition.id)
    verb, effect = describe(action)
    return render_template("instructor/issued_confirm.html", action=action, rows=rows, verb=verb, effect=effect,
                           reason_required=action in REASON_REQUIRED, reason="", error=None,
                           form=ActionForm(launch=current_actor().launch_id))


@bp.post("/apply")
@require_roles("instructor")
def apply():
    from plugin.issuance import service as engine
    from plugin.web.instructor import ActionForm, _definition_or_404
    _course, definition = _definition_or_404()
    form = ActionForm()
    if not form.validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    action = _action()
    rows = _selected(definition.id)
    reason = " ".join((request.form.get("reason") or "").split())[:1000]
    if action in REASON_REQUIRED and not reason:
        verb, effect = describe(action)
        return render_template("instructor/issued_confirm.html", action=action, rows=rows, verb=verb, effect=effect,
                               reason_required=True, reason="", form=form,
                               error=_("Say why: the reason is kept in the audit log and shown to verifiers' "
                                       "operators.")), 400
    actor = current_actor().label
    done, refused = 0, []
    for cred, learner in rows:
        try:
            with db().begin_nested():
                if action == "revoke":
                    changed = engine.revoke(db(), cred, reason, actor)
                elif action == "suspend":
                    changed = engine.suspend(db(), cred, reason, actor)
                elif action == "reinstate":
                    changed = engine.reinstate(db(), cred, actor, reason or None)
                else:
                    changed = bool(engine.reissue(db(), services(), cred, display_name=cred.display_name, actor=actor))
        except engine.IssuanceError as exc:
            refused.append(f"{cred.display_name or learner.name or learner.sub}: {exc}")
            continue
        done += 1 if changed else 0
    db().commit()
    verb, _effect = describe(action)
    flash(ngettext("%(verb)s: %(num)d credential.", "%(verb)s: %(num)d credentials.", done, verb=verb),
          "ok")
    for line in refused:
        flash(_("Not changed: %(why)s", why=line), "error")
    return redirect(launch_url("instructor.issued")), 303
