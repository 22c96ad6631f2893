"""Background jobs an instructor starts: bulk issue from a CSV file (``/instructor/bulk``) and a
catch-up sync of the course's results (``/instructor/sync``), each with its status page."""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import HiddenField

from plugin.storage.models import Job
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.instructor import ActionForm, _definition_or_404, bp


# --------------------------------------------------------------------------- bulk issue
class BulkForm(FlaskForm):
    launch = HiddenField()
    file = FileField()


@bp.route("/bulk", methods=["GET", "POST"])
@require_roles("instructor")
def bulk():
    from plugin.issuance.bulk import BulkError, start_bulk_issue
    course, definition = _definition_or_404()
    form = BulkForm(launch=current_actor().launch_id)
    error = None
    if request.method == "POST":
        if not form.validate():
            abort(400, description=_("The form expired; reload the page and try again."))
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a CSV file.")
        else:
            try:
                job_id = start_bulk_issue(db(), services(), definition, upload.read(), actor=current_actor().label,
                                          filename=upload.filename)
            except BulkError as exc:
                db().rollback()
                from plugin.web.extensions import tr
                error = tr(exc.args[0])
            else:
                from plugin.web.audit import record
                record("credential.bulk_upload", "definition", definition.public_id, job=job_id,
                       rows=db().get(Job, job_id).payload["rows_total"])
                db().commit()
                return redirect(launch_url("instructor.bulk_status", job_id=job_id))
    jobs = db().scalars(select(Job).where(Job.kind == "bulk_issue").order_by(Job.id.desc()).limit(200)).all()
    jobs = [j for j in jobs if (j.payload or {}).get("definition_id") == definition.id][:10]
    source = (definition.policy or {}).get("source")
    # the sync pulls from a bridge; an Open edX webhook policy catches up through the grades API
    can_sync = source in ("openedx_webhook", "openedx_grades", "moodle", "ags")
    return render_template("instructor/bulk.html", course=course, definition=definition, form=form,
                           error=error, jobs=jobs, can_sync=can_sync), (400 if error else 200)


@bp.get("/bulk/<int:job_id>")
@require_roles("instructor")
def bulk_status(job_id: int):
    _course, definition = _definition_or_404()
    job = db().get(Job, job_id)
    if job is None or job.kind != "bulk_issue" or (job.payload or {}).get("definition_id") != definition.id:
        abort(404, description=_("No such bulk issue in this course."))
    result = job.result or {}
    if request.args.get("format") == "json":
        return jsonify({"status": job.status, "progress": result.get("progress"), "counts": result.get("counts"),
                        "error": job.last_error})
    return render_template("instructor/bulk_status.html", definition=definition, job=job, result=result)


# --------------------------------------------------------------------------- catch-up sync
@bp.post("/sync")
@require_roles("instructor")
def sync():
    """Start the bridges' catch-up sync (job ``sync_course``) for this course; one at a time."""
    from plugin.jobs.queue import enqueue
    from plugin.web.audit import record
    course, definition = _definition_or_404()
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    running = db().scalars(select(Job).where(Job.kind == "sync_course", Job.status.in_(("queued", "running")))).all()
    job_id = next((j.id for j in running if (j.payload or {}).get("course_id") == course.id), None)
    if job_id is None:
        job_id = enqueue(services(), "sync_course", {"course_id": course.id, "definition_id": definition.id},
                         session=db(), max_attempts=3)
        record("course.sync_started", "definition", definition.public_id, job=job_id)
        db().commit()
    return redirect(launch_url("instructor.sync_status", job_id=job_id))


@bp.get("/sync/<int:job_id>")
@require_roles("instructor")
def sync_status(job_id: int):
    course, definition = _definition_or_404()
    job = db().get(Job, job_id)
    if job is None or job.kind != "sync_course" or (job.payload or {}).get("course_id") != course.id:
        abort(404, description=_("No such synchronisation in this course."))
    return render_template("instructor/sync_status.html", definition=definition, job=job, result=job.result or {})
