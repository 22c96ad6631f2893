"""The scheduled catch-up on pages: its last run for instructors and admins, its period for admins.

The instructor's overview and the admin platform page include small templates
(``instructor/_catch_up.html``, ``admin/_catch_up.html``) that call the template globals
registered here, so those pages' views need no change. The admin's period form posts to
:func:`platform_period`. The data comes from :mod:`plugin.evidence.sync_schedule`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, flash, redirect, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from plugin.domain.i18n import Msg
from plugin.evidence import sync_schedule as schedule
from plugin.evidence.base import as_utc
from plugin.storage.models import Course, Job, Platform
from plugin.web.audit import record
from plugin.web.auth import launch_url, require_roles
from plugin.web.context import db, services

bp = Blueprint("catch_up", __name__, url_prefix="/admin/platforms")

# What a failed run's error code means, for a person (the platform's own words follow).
PLAIN_ERRORS = {
    "unreachable": _l("The platform could not be reached."),
    "http_error": _l("The platform answered with an error."),
    "invalid_client": _l("The platform refused the tool's client id or secret: check them on the admin platform page."),
    "invalidtoken": _l("The platform refused the tool's token: check it on the admin platform page."),
    "forbidden": _l("The platform refused access: the tool's account lacks a permission."),
    "accessexception": _l("The platform refused access: the tool's account lacks a permission."),
    "token_error": _l("The tool could not get an access token from the platform."),
    "not_configured": _l("The connection to the platform is not set up: an administrator sets it on the admin "
                         "platform page."),
    "bad_config": _l("The connection to the platform is not set up correctly."),
    "unknown_course": _l("The platform does not know this course."),
    "bad_reply": _l("The platform's answer could not be read."),
    "not_json": _l("The platform's answer could not be read."),
    "no_lineitem": _l("The tool does not know this course's grade column yet: launch the tool once as an "
                      "instructor from a link with grades enabled."),
    "nothing_to_sync": _l("There is nothing to catch up: no enabled credential of this course reads its results "
                          "from the platform."),
}
TRIGGERS = {"scheduled": _l("on schedule"), "instructor": _l("started by an instructor"),
            "command": _l("started with microcred sync")}
PERIOD_CHOICES = ["default", "900", "1800", "3600", "10800", "21600", "43200", "86400", "off"]


def period_text(seconds: int) -> str:
    """'every hour', 'every 15 minutes', 'every 2 days'…"""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            if unit == "day":
                return ngettext("every day", "every %(num)s days", n)
            if unit == "hour":
                return ngettext("every hour", "every %(num)s hours", n)
            return ngettext("every minute", "every %(num)s minutes", n)
    return ngettext("every second", "every %(num)s seconds", seconds)


def _when(value: datetime | None) -> str | None:
    """'5 minutes ago', 'in 50 minutes' (in the page's language)."""
    if value is None:
        return None
    return format_timedelta(as_utc(value) - datetime.now(timezone.utc), add_direction=True, threshold=1.1)


def _translated(stored: dict[str, Any] | None, fallback: str | None) -> str | None:
    if stored and stored.get("msgid"):
        from plugin.web.extensions import tr
        return tr(Msg(stored["msgid"], stored.get("params") or {}))
    return fallback


def _running(state) -> bool:
    if state is None or state.running_job_id is None:
        return False
    job = db().get(Job, state.running_job_id)
    return job is not None and job.status == "running"


def describe_state(state, period: int) -> dict[str, Any]:
    """What a page shows about one course's catch-up."""
    view: dict[str, Any] = {"period": period, "period_text": period_text(period) if period else None,
                            "running": _running(state), "last": None, "next": None}
    if state is None:
        return view
    if period and not view["running"]:
        view["next"] = _when(state.next_run_at)
        view["next_at"] = as_utc(state.next_run_at)
    if state.last_finished_at is not None:
        result = state.last_result or {}
        last: dict[str, Any] = {"outcome": state.last_outcome, "finished_at": as_utc(state.last_finished_at),
                                "ago": _when(state.last_finished_at), "trigger": TRIGGERS.get(state.last_trigger or ""),
                                "counts": result.get("counts") or {}, "learner_errors": result.get("learner_errors") or []}
        if state.last_outcome == "failed":
            last["error"] = PLAIN_ERRORS.get(state.last_error_code or "", _l("The catch-up failed."))
            last["detail"] = _translated(result.get("error_message"), state.last_error)
            if state.failures > 1:
                last["failures"] = state.failures
        view["last"] = last
    return view


# --------------------------------------------------------------------------- template globals
@bp.app_template_global()
def course_catch_up(course: Course) -> dict[str, Any] | None:
    """The instructor's view of the course's catch-up; None when nothing reads from the platform."""
    session = db()
    state = schedule.course_state(session, course.id)
    wanted = schedule.scheduled_courses(session, services().settings, [course.id])
    if course.id not in wanted and (state is None or state.last_finished_at is None):
        return None
    return describe_state(state, wanted.get(course.id, 0))


class PeriodForm(FlaskForm):
    launch = HiddenField()
    period = SelectField(_l("Catch up this platform's courses"), choices=[])


def _period_form(platform: Platform) -> PeriodForm:
    default = services().settings.sync_every
    labels = {"default": (_("the tool's default (%(period)s)", period=period_text(default)) if default
                          else _("the tool's default (off)")),
              "off": _("never (off)")}
    form = PeriodForm(formdata=None, launch=request.values.get("launch", ""))
    form.period.choices = [(c, labels.get(c) or period_text(int(c))) for c in PERIOD_CHOICES]
    own = (platform.bridge_settings or {}).get("schedule") if schedule.platform_has_own_period(platform) else None
    current = "default" if own is None else ("off" if own["every"] == 0 else str(own["every"]))
    if current not in PERIOD_CHOICES:  # set from the command line to another value
        form.period.choices.insert(1, (current, period_text(int(current))))
    form.period.data = current
    return form


@bp.app_template_global()
def platform_catch_up(platform: Platform) -> dict[str, Any]:
    """The admin's view: the platform's period, its form, and the last run of each of its courses."""
    session = db()
    settings = services().settings
    period = schedule.platform_period(settings, platform)
    rows = schedule.platform_course_states(session, platform)
    wanted = schedule.scheduled_courses(session, settings, [course.id for course, _state in rows])
    courses = [{"course": course, **describe_state(state, wanted.get(course.id, 0))}
               for course, state in rows
               if course.id in wanted or (state is not None and state.last_finished_at is not None)]
    return {"period": period, "period_text": period_text(period) if period else None,
            "own": schedule.platform_has_own_period(platform), "form": _period_form(platform), "courses": courses}


# --------------------------------------------------------------------------- the admin's form
@bp.post("/<int:platform_id>/catch-up")
@require_roles("admin")
def platform_period(platform_id: int):
    """Set how often the worker catches up the platform's courses (or the tool's default, or off)."""
    from plugin.web.admin import platform_scope
    platform = db().get(Platform, platform_id)
    scope = platform_scope()
    if platform is None or (scope is not None and platform.id != scope):
        abort(404, description=_("No such platform."))
    form = PeriodForm()
    form.period.choices = [(c, c) for c in PERIOD_CHOICES]
    own = (platform.bridge_settings or {}).get("schedule") or {}
    if isinstance(own.get("every"), int):
        form.period.choices.append((str(own["every"]), ""))
    if not form.validate():
        abort(400, description=_("Choose one of the periods offered; if the form expired, reload the page."))
    choice = form.period.data
    seconds = None if choice == "default" else 0 if choice == "off" else int(choice)
    schedule.set_platform_period(platform, seconds)
    schedule.replan_platform(db(), services().settings, platform)
    record("platform.catch_up_period", "platform", platform.id, every=seconds if seconds is not None else "default")
    db().commit()
    period = schedule.platform_period(services().settings, platform)
    flash(_("The courses of this platform are caught up %(period)s.", period=period_text(period)) if period
          else _("The scheduled catch-up of this platform's courses is off."), "ok")
    return redirect(launch_url("admin.platform_edit", platform_id=platform.id) + "#catch-up")
