"""The issued list (``/instructor/issued``, its CSV export) and the status actions on one credential
(suspend, reinstate, revoke, re-issue: ``/instructor/issued/<id>/<action>``)."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, select, tuple_
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from plugin.storage.models import CredentialDefinition, IssuedCredential
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.instructor.issuance import problems_for
from plugin.web.instructor import ActionForm, _definition_or_404, bp


PAGE_SIZES = (25, 50, 100)
STATUSES = ("active", "suspended", "revoked", "superseded")


# --------------------------------------------------------------------------- issued list
def _issued_query(definition: CredentialDefinition):
    status = request.args.get("status", "")
    q = (request.args.get("q") or "").strip()
    from plugin.web.instructor.issued_rows import credential_rows
    query = credential_rows(definition.id, status=status, q=q, heads_only=False, statuses=STATUSES)
    return query, status, q


@bp.get("/issued")
@require_roles("instructor")
def issued():
    """One row per learner (their newest credential), earlier ones folded (:mod:`plugin.web.instructor.issued_rows`)."""
    from plugin.web.instructor import issued_rows
    course, definition = _definition_or_404()
    status = request.args.get("status", "")
    status = status if status in issued_rows.STATUSES else ""
    q = (request.args.get("q") or "").strip()
    query = issued_rows.credential_rows(definition.id, status=status, q=q)
    per_page = request.args.get("per_page", 50, type=int)
    per_page = per_page if per_page in PAGE_SIZES else 50
    total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = db().execute(query.order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
                        .limit(per_page).offset((page - 1) * per_page)).all()
    return render_template("instructor/issued.html", course=course, definition=definition, rows=rows,
                           history=issued_rows.histories(db(), definition.id, [r[0] for r in rows]),
                           evidence_text=issued_rows.evidence_text, status_label=issued_rows.status_label,
                           total=total, page=page, pages=pages, per_page=per_page, status=status, q=q,
                           statuses=issued_rows.STATUSES, form=ActionForm(launch=current_actor().launch_id),
                           problems=problems_for(definition))


@bp.get("/issued.csv")
@require_roles("instructor")
def issued_csv():
    course, definition = _definition_or_404()
    query, _status, _q = _issued_query(definition)
    filename_course = course.context_id
    db().close()  # the export reads in short transactions of its own (SQLite writers are not blocked)
    factory = services().sessions
    chunk = 1000

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["credential_id", "learner_name", "learner_email", "learner_sub", "issued_at", "status",
                         "status_reason", "version", "evidence_source", "evidence_score", "claimed_at"])
        yield buffer.getvalue()
        after = None  # keyset pagination on (issued_at, id), newest first: no OFFSET scans
        while True:
            page = query
            if after is not None:
                # a row-value comparison: both PostgreSQL and SQLite walk the (definition_id, issued_at) index
                page = page.where(tuple_(IssuedCredential.issued_at, IssuedCredential.id) < tuple_(*after))
            with factory() as session:
                rows = session.execute(page.order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
                                       .limit(chunk)).all()
                if not rows:
                    return
                buffer.seek(0)
                buffer.truncate()
                for cred, learner, evidence, version in rows:
                    writer.writerow([cred.credential_id, cred.display_name or learner.name or "", learner.email or "",
                                     learner.sub, cred.issued_at.isoformat(), cred.status, cred.status_reason or "",
                                     version, evidence.source if evidence else "",
                                     "" if evidence is None or evidence.score is None else evidence.score,
                                     cred.claimed_at.isoformat() if cred.claimed_at else ""])
                last = (rows[-1][0].issued_at, rows[-1][0].id)
            yield buffer.getvalue()
            after = last

    filename = f"credentials-{filename_course}.csv".replace('"', "")
    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class StatusForm(FlaskForm):
    launch = HiddenField()
    reason = TextAreaField(validators=[Optional(), Length(max=1000)])


@bp.post("/issued/<public_id>/<action>")
@require_roles("instructor")
def credential_action(public_id: str, action: str):
    from plugin.issuance import service as engine
    _course, definition = _definition_or_404()
    if action not in ("revoke", "suspend", "reinstate", "reissue"):
        abort(404, description=_("Unknown action."))
    form = StatusForm()
    if not form.validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    cred = db().scalar(select(IssuedCredential).where(IssuedCredential.public_id == public_id,
                                                      IssuedCredential.definition_id == definition.id))
    if cred is None:
        abort(404, description=_("No such credential in this course."))
    actor = current_actor().label
    reason = (form.reason.data or "").strip()
    try:
        if action == "revoke":
            if not reason:
                raise engine.IssuanceError(_("Say why the credential is revoked: the reason is kept and shown to verifiers' operators."))
            engine.revoke(db(), cred, reason, actor)
            message = _("Revoked. Verifiers now see it as revoked; the learner may be awarded a new one later.")
        elif action == "suspend":
            engine.suspend(db(), cred, reason, actor)
            message = _("Suspended until you reinstate it. Its verification page says so; other verifiers and wallets only check revocation and still show it as not revoked.")
        elif action == "reinstate":
            engine.reinstate(db(), cred, actor, reason or None)
            message = _("Reinstated.")
        else:
            engine.reissue(db(), services(), cred, display_name=cred.display_name, actor=actor)
            message = _("Re-issued: the learner has a new credential from the current version; the old one is superseded.")
    except engine.IssuanceError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(launch_url("instructor.issued"))
    db().commit()
    flash(message, "ok")
    return redirect(launch_url("instructor.issued", status=request.args.get("status") or None,
                               q=request.args.get("q") or None, page=request.args.get("page") or None))
