"""Bridge APIs for the instructor page: a catch-up sync with progress a page can poll.

``POST /api/courses/<course id>/sync`` queues the ``sync_course`` job (202, with the URL
to poll); ``GET /api/courses/<course id>/sync/<job id>`` returns its status, progress
(``{"done", "total"}``) and, when finished, the report. Instructors of the course (their
launch id in ``?launch=`` or ``X-Microcred-Launch``) and administrators may call them.

Registering this blueprint also starts the embedded job worker in a daemon thread when
``MICROCRED_EMBEDDED_WORKER`` is on (the default in development without Redis), so a
single ``microcred serve``/``demo`` process runs its own background jobs.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from plugin.jobs.queue import enqueue
from plugin.storage.models import Course, Job
from plugin.web.auth import current_actor, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import csrf

bp = Blueprint("bridges_api", __name__)


@bp.record_once
def _start_embedded_worker(state) -> None:
    svc = state.app.extensions.get("microcred")
    if svc is not None and svc.settings.embedded_worker and not svc.settings.redis_url:
        from plugin.jobs.worker import start_embedded_thread
        start_embedded_thread(svc)


def _course_for_actor(course_id: int) -> Course:
    actor = current_actor()
    course = db().get(Course, course_id)
    if course is None:
        abort(404, description="No such course.")
    if actor.kind != "admin" and actor.course_id != course_id:
        abort(403, description="You can only sync the course you launched the tool from.")
    if actor.kind == "admin":
        # Administrators authenticate with a cookie: ask for the CSRF token on writes.
        if request.method == "POST":
            from flask_wtf.csrf import CSRFError, validate_csrf
            try:
                validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
            except (CSRFError, Exception):
                abort(400, description="The CSRF token is missing or invalid; reload the page.")
    return course


@bp.post("/api/courses/<int:course_id>/sync")
@csrf.exempt  # launch-id callers carry no ambient credential; admins are checked above
@require_roles("instructor", "admin")
def start_sync(course_id: int):
    course = _course_for_actor(course_id)
    body = request.get_json(silent=True) or {}
    definition_id = body.get("definition_id") if isinstance(body, dict) else None
    if definition_id is not None and not isinstance(definition_id, int):
        abort(400, description="definition_id must be an integer.")
    session = db()
    running = session.query(Job).filter(Job.kind == "sync_course", Job.status.in_(("queued", "running"))).all()
    for job in running:
        if job.payload.get("course_id") == course.id:
            return jsonify({"job_id": job.id, "status": job.status, "already_running": True,
                            "status_url": url_for(".sync_status", course_id=course.id, job_id=job.id)}), 202
    job_id = enqueue(services(), "sync_course", {"course_id": course.id, "definition_id": definition_id},
                     session=session, max_attempts=3)
    session.commit()
    return jsonify({"job_id": job_id, "status": "queued",
                    "status_url": url_for(".sync_status", course_id=course.id, job_id=job_id)}), 202


@bp.get("/api/courses/<int:course_id>/sync/<int:job_id>")
@require_roles("instructor", "admin")
def sync_status(course_id: int, job_id: int):
    _course_for_actor(course_id)
    job = db().get(Job, job_id)
    if job is None or job.kind != "sync_course" or (job.payload or {}).get("course_id") != course_id:
        abort(404, description="No such sync for this course.")
    result = job.result or {}
    return jsonify({"job_id": job.id, "status": job.status, "attempts": job.attempts,
                    "progress": result.get("progress", {"done": 0, "total": None}),
                    "report": result.get("report"), "summary": result.get("summary"),
                    "error": job.last_error if job.status in ("failed", "queued") else None})
