"""The course dashboard for instructors: how the credential is doing in this course.

``GET /instructor/dashboard`` reads the course roster from the platform (LTI Names and Role
Provisioning Services, the ``nrps`` claim of the instructor's launch) and joins it with what
the tool knows (:mod:`plugin.issuance.course_stats`): enrolled, passed, issued, claimed, public
page views, verifications, pending and failed issuances, and the learners who passed but have
not claimed yet. The roster is kept for :data:`ROSTER_TTL` per course (``?refresh=1`` reads
it again); when the platform offers no roster or refuses, the page says so and counts the
learners the tool has seen. ``/instructor/dashboard.csv`` exports the rows;
``POST /instructor/dashboard/remind`` e-mails the selected learners who passed and have not
claimed (a ``notify_claim_reminder`` job each, audited as ``credential.reminder``), in the learner's
language when the platform gave it, else in the instructor's.
"""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request
from flask_babel import get_locale, gettext as _, ngettext

from plugin.issuance.course_stats import CourseStats, course_stats
from plugin.storage.kv import kv_delete, kv_get, kv_set
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.formatting import install as install_helpers

bp = Blueprint("dashboard", __name__, url_prefix="/instructor")
install_helpers(bp)
ROSTER_TTL = 15 * 60  # seconds


@bp.before_request
def _guard():
    from plugin.web.instructor import _guard as instructor_guard  # the check every instructor page makes
    return instructor_guard()


def roster(course_id: int, *, refresh: bool = False) -> tuple[list[dict] | None, str | None]:
    """``(members, why not)``: the platform's members of the course, from NRPS (kept a while)."""
    from lti.errors import ServiceError
    from lti.nrps import NrpsClient
    key = f"roster:{course_id}"
    if refresh:
        kv_delete(db(), key)
    else:
        kept = kv_get(db(), key)
        if isinstance(kept, list):
            return kept, None
    actor = current_actor()
    claim = (actor.services or {}).get("nrps")
    if not claim or not actor.platform_id:
        return None, _("The platform did not offer its roster (Names and Role Provisioning Services) with this "
                       "launch: the counts are of the learners the tool has seen.")
    db().commit()  # the platform call writes its access token in a session of its own: hold no lock meanwhile
    try:
        members = NrpsClient(services(), actor.platform_id, claim).members()
    except ServiceError as exc:
        current_app.logger.warning("reading the roster of course %s failed: %s", course_id, exc)
        return None, _("The platform's roster could not be read (%(why)s): the counts are of the learners the "
                       "tool has seen.", why=str(exc))
    keep = [{k: m.get(k) for k in ("user_id", "roles", "status", "name", "given_name", "family_name", "email")}
            for m in members]
    kv_set(db(), key, keep, ttl=ROSTER_TTL)
    db().commit()
    return keep, None


def _stats() -> tuple[object, object, CourseStats, str | None]:
    from plugin.issuance import visits
    from plugin.web.instructor import _definition_or_404
    # The page views and verifications this process (and Redis) counted and has not written
    # yet go in first; other processes' follow within MICROCRED_VISIT_FLUSH_SECONDS. The
    # request's transaction ends before: on SQLite it could hold the lock the write needs.
    db().commit()
    try:
        visits.flush(services())
    except Exception:  # noqa: BLE001 - the figures are then a few seconds old, the page still shows
        current_app.logger.warning("could not write the pending visit counts", exc_info=True)
    course, definition = _definition_or_404()
    members, problem = roster(course.id, refresh=request.args.get("refresh") == "1")
    return course, definition, course_stats(db(), definition, members), problem


@bp.get("/dashboard")
@require_roles("instructor")
def dashboard():
    from plugin.web.instructor import ActionForm
    course, definition, stats, problem = _stats()
    return render_template("instructor/dashboard.html", course=course, definition=definition, stats=stats,
                           counts=stats.counts, problem=problem, form=ActionForm(launch=current_actor().launch_id))


@bp.get("/dashboard.csv")
@require_roles("instructor")
def dashboard_csv():
    course, _definition, stats, _problem = _stats()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["user_id", "name", "email", "in_roster", "passed", "credential_status", "issued_at",
                     "claimed_at", "page_views", "verifications", "issuance_problem"])
    for r in stats.rows:
        c = r.credential
        writer.writerow([r.sub, r.name, r.email, "yes" if r.in_roster else "no", "yes" if r.passed else "no",
                         c.status if c else "", c.issued_at.isoformat() if c else "",
                         c.claimed_at.isoformat() if c and c.claimed_at else "", r.page_views, r.verifications,
                         r.pending or ""])
    filename = f"dashboard-{course.context_id}.csv".replace('"', "")
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/dashboard/remind")
@require_roles("instructor")
def remind():
    from plugin.jobs.queue import enqueue
    from plugin.web.audit import record
    from plugin.web.instructor import ActionForm
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    _course, definition, stats, _problem = _stats()
    chosen = set(request.form.getlist("learner"))
    if not chosen:
        flash(_("Select the learners to remind first."), "error")
        return redirect(launch_url("dashboard.dashboard")), 303
    sent, no_email = [], 0
    for row in stats.waiting:
        if row.learner is None or row.learner.public_id not in chosen:
            continue
        if not row.learner.email:
            no_email += 1
            continue
        enqueue(services(), "notify_claim_reminder", {"definition_id": definition.id, "learner_id": row.learner.id,
                                                      "locale": str(get_locale() or "en")},
                session=db(), max_attempts=5)
        sent.append(row.learner.public_id)
    if sent:
        record("credential.reminder", "definition", definition.public_id, learners=len(sent))
    db().commit()
    flash(ngettext("A reminder is on its way to %(num)d learner.", "Reminders are on their way to %(num)d learners.",
                   len(sent)), "ok")
    if no_email:
        flash(ngettext("%(num)d learner has no e-mail address: remind them in the course.",
                       "%(num)d learners have no e-mail address: remind them in the course.", no_email), "error")
    return redirect(launch_url("dashboard.dashboard")), 303
