"""Scheduled catch-up: the worker syncs each course from its platform on a schedule.

Which courses: those with an enabled credential whose pass policy has a pull source
(Open edX grades API, Moodle web services, AGS; an Open edX webhook policy too when the
platform's grades API is configured, to catch up missed events).

When: every *period* of the course's platform registration
(``bridge_settings["schedule"]["every"]``, seconds, 0 = off; set with
``microcred bridge set --sync-every`` or on the admin platform page), else
``MICROCRED_SYNC_EVERY`` (default one hour). A course seen for the first time is first
synced at a random point of its first period (a fleet of courses does not hit the
platform at once); afterwards each run is due one period (± 10 % jitter) after the last
one ended. After a failed run the wait doubles with each consecutive failure (back-off),
up to 24 hours (or the period, when that is longer), and is back to one period after a
run that works.

At most one run per course at a time, across workers: ``course_sync.running_job_id``
names the ``sync_course`` job that holds the course while that job is queued, or running
with a live lease (a dead worker's job loses the course when its lease expires). Each
worker's maintenance (:mod:`plugin.jobs.maintenance`) calls :func:`start_due_syncs`; a
compare-and-set on ``next_run_at`` makes sure only one of them starts a given run.

The last run's result (when, what started it, outcome, counts, the error in plain words)
is kept in ``course_sync`` whatever started it (schedule, instructor, ``microcred sync``)
and shown on the admin platform page and the instructor's overview. No Flask here.
"""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.domain.i18n import Msg
from plugin.domain.policy import parse_policy
from plugin.evidence.base import as_utc, platform_with_bridge
from plugin.logging import log_event
from plugin.storage.models import Course, CourseSync, CredentialDefinition, Job, Platform

log = logging.getLogger("microcred.sync")

JITTER = 0.10
MAX_BACKOFF = timedelta(hours=24)
PULL_SOURCES = ("openedx_grades", "moodle", "ags")


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- periods
def platform_period(settings, platform: Platform | None) -> int:
    """Seconds between two catch-ups of the courses of ``platform`` (0: no scheduled catch-up)."""
    schedule = (platform.bridge_settings or {}).get("schedule") if platform is not None else None
    if isinstance(schedule, dict) and isinstance(schedule.get("every"), int):
        return max(0, schedule["every"])
    return max(0, int(getattr(settings, "sync_every", 3600)))


def platform_has_own_period(platform: Platform) -> bool:
    schedule = (platform.bridge_settings or {}).get("schedule")
    return isinstance(schedule, dict) and isinstance(schedule.get("every"), int)


def set_platform_period(platform: Platform, seconds: int | None) -> None:
    """Give the registration its own period (seconds, 0 = off), or ``None``: the instance default."""
    settings = dict(platform.bridge_settings or {})
    if seconds is None:
        settings.pop("schedule", None)
    else:
        settings["schedule"] = {"every": int(seconds)}
    platform.bridge_settings = settings  # a new dict, so the JSON column is saved


def replan_platform(session: Session, settings, platform: Platform, now: datetime | None = None) -> None:
    """After a period change: plan each course of the registration by the new period (one period,
    or its back-off, after its last run; within one period for a course that never ran)."""
    now = now or _now()
    period = platform_period(settings, platform)
    if period <= 0:
        return
    for _course, state in platform_course_states(session, platform, limit=100000):
        if state is None:
            continue
        if state.last_finished_at is not None:
            wait = backoff(period, state.failures) if state.failures else timedelta(seconds=period)
            state.next_run_at = max(now, as_utc(state.last_finished_at) + wait)
        elif as_utc(state.next_run_at) > now + timedelta(seconds=period):
            state.next_run_at = now + timedelta(seconds=random.uniform(0, period))


def course_platform(session: Session, course: Course) -> Platform | None:
    """The registration whose schedule applies: the course's own, else the issuer's first."""
    if course.platform_id:
        platform = session.get(Platform, course.platform_id)
        if platform is not None:
            return platform
    return session.scalar(select(Platform).where(Platform.issuer == course.platform_issuer).order_by(Platform.id))


def _pullable(session: Session, course: Course, source: str, cache: dict) -> bool:
    if source in PULL_SOURCES:
        return True
    if source == "openedx_webhook":  # catch up missed events, when the grades API is there
        key = course.platform_issuer
        if key not in cache:
            cache[key] = platform_with_bridge(session, key, "openedx", "api_url") is not None
        return cache[key]
    return False


def scheduled_courses(session: Session, settings, course_ids: list[int] | None = None) -> dict[int, int]:
    """``{course id: period in seconds}`` of every course the schedule covers (period > 0)."""
    q = (select(CredentialDefinition.course_id, CredentialDefinition.policy)
         .where(CredentialDefinition.enabled.is_(True)))
    if course_ids is not None:
        q = q.where(CredentialDefinition.course_id.in_(course_ids))
    sources: dict[int, set[str]] = {}
    for course_id, raw in session.execute(q):
        try:
            policy = parse_policy(raw)
        except ValueError:
            continue
        if policy is not None:
            sources.setdefault(course_id, set()).add(policy.source)
    if not sources:
        return {}
    courses = session.scalars(select(Course).where(Course.id.in_(sources))).all()
    platforms: dict[int | None, Platform | None] = {}
    api_cache: dict[str, bool] = {}
    wanted: dict[int, int] = {}
    for course in courses:
        if not any(_pullable(session, course, src, api_cache) for src in sources[course.id]):
            continue
        key = course.platform_id or course.platform_issuer
        if key not in platforms:
            platforms[key] = course_platform(session, course)
        period = platform_period(settings, platforms[key])
        if period > 0:
            wanted[course.id] = period
    return wanted


def _jittered(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * random.uniform(1 - JITTER, 1 + JITTER))


def backoff(period: int, failures: int) -> timedelta:
    """Wait after ``failures`` consecutive failed runs: the period doubled each time, capped."""
    cap = max(MAX_BACKOFF, timedelta(seconds=period))
    return min(cap, timedelta(seconds=period * 2 ** min(failures, 20)))


# --------------------------------------------------------------------------- starting runs
def _holder_active(now: datetime):
    """SQL condition: ``course_sync.running_job_id`` names a job that still holds the course."""
    live = select(Job.id).where(or_(Job.status == "queued",
                                    and_(Job.status == "running", Job.lease_expires_at >= now)))
    return CourseSync.running_job_id.in_(live.scalar_subquery())


def _state(session: Session, course_id: int, now: datetime) -> CourseSync:
    """The course's row, created (race-safe) when missing."""
    state = session.get(CourseSync, course_id)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            session.add(CourseSync(course_id=course_id, next_run_at=now, failures=0))
    except IntegrityError:
        pass  # another worker made it just now
    return session.get(CourseSync, course_id)


def start_due_syncs(services, queue, now: datetime | None = None, lookahead: float = 0.0) -> list[int]:
    """Queue a ``sync_course`` job for every course whose catch-up is due; returns the job ids.

    ``lookahead`` (the caller's seconds between two calls) also starts the runs due before the
    next call: on the embedded queue they wait in the table until their time, with RQ they run
    at most that much early (rather than up to that much late).
    """
    now = now or _now()
    started: list[int] = []
    with services.session() as s:
        wanted = scheduled_courses(s, services.settings)
        if not wanted:
            return []
        states = {st.course_id: st for st in s.scalars(select(CourseSync).where(CourseSync.course_id.in_(wanted)))}
        for course_id, period in wanted.items():
            state = states.get(course_id)
            if state is None:
                # First sight: the first run falls at a random point of the first period.
                first = now + timedelta(seconds=random.uniform(0, period))
                try:
                    with s.begin_nested():
                        s.add(CourseSync(course_id=course_id, next_run_at=first, failures=0))
                except IntegrityError:
                    pass
                continue
            next_run = as_utc(state.next_run_at)
            if state.failures == 0 and next_run > now + _jittered(period) * 1.2:
                # The period was shortened since this run was planned: plan it within the new one.
                state.next_run_at = now + timedelta(seconds=random.uniform(0, period))
                continue
            if next_run > now + timedelta(seconds=lookahead):
                continue
            if state.running_job_id is not None and s.scalar(
                    select(CourseSync.course_id).where(CourseSync.course_id == course_id, _holder_active(now))):
                continue  # a run holds the course; the next one is planned when it ends
            # Compare-and-set: of several workers looking at once, one starts the run.
            claimed = s.execute(
                update(CourseSync).where(CourseSync.course_id == course_id, CourseSync.next_run_at == state.next_run_at)
                .values(next_run_at=now + _jittered(period)).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue
            delay = max(0.0, (next_run - now).total_seconds()) if queue.backend == "embedded" else 0.0
            job_id = queue.enqueue("sync_course", {"course_id": course_id, "trigger": "scheduled"},
                                   session=s, max_attempts=1, delay=delay)
            s.execute(update(CourseSync).where(CourseSync.course_id == course_id)
                      .values(running_job_id=job_id).execution_options(synchronize_session=False))
            started.append(job_id)
    for job_id in started:
        log_event(log, "scheduled catch-up queued", job_id=job_id)
    return started


# --------------------------------------------------------------------------- one run
def begin_run(services, course_id: int, job_id: int | None, trigger: str) -> bool:
    """Take the course for job ``job_id``; False when another run holds it.

    ``job_id`` None (``microcred sync``, which runs in the command's own process) records
    the start without taking the course.
    """
    now = _now()
    with services.session() as s:
        if s.get(Course, course_id) is None:
            return True  # the sync itself says "no such course"
        state = _state(s, course_id, now)
        if job_id is not None:
            taken = s.execute(
                update(CourseSync).where(CourseSync.course_id == course_id,
                                         or_(CourseSync.running_job_id.is_(None), CourseSync.running_job_id == job_id,
                                             ~_holder_active(now)))
                .values(running_job_id=job_id).execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                return False
        state.last_started_at, state.last_trigger, state.last_job_id = now, trigger[:16], job_id
    return True


def _message(value: Any) -> dict[str, Any] | None:
    """A :class:`Msg` as JSON (message id and plain parameters) so pages can say it in any language."""
    if not isinstance(value, Msg):
        return None
    return {"msgid": value.msgid,
            "params": {k: v if isinstance(v, (int, float, str)) or v is None else str(v) for k, v in value.params.items()}}


def finish_run(services, course_id: int, job_id: int | None, *, report=None, error: Exception | None = None) -> None:
    """Record how the run ended and plan the next one (one period later, or back off after a failure)."""
    now = _now()
    if error is not None:
        outcome = "failed"
    elif report is not None and (report.errors or report.interrupted):
        outcome = "partial"
    else:
        outcome = "ok"
    result: dict[str, Any] = {}
    if report is not None:
        result["counts"] = {k: getattr(report, k) for k in ("total", "done", "issued", "already_issued",
                                                             "ready_to_claim", "not_passed", "unknown_learners")}
        result["counts"]["errors"] = len(report.errors)
        result["learner_errors"] = list(report.errors[:5])
    code = message = None
    if error is not None:
        code = getattr(error, "code", None) or type(error).__name__
        text = getattr(error, "message", None) or str(error)
        message = str(text)[:2000]
        result["error_message"] = _message(text)
    with services.session() as s:
        course = s.get(Course, course_id)
        if course is None:
            return
        state = _state(s, course_id, now)
        if job_id is not None and state.running_job_id not in (None, job_id):
            return  # the course was given to another run (this one lost its lease): that run reports
        period = platform_period(services.settings, course_platform(s, course)) or services.settings.sync_every or 3600
        state.failures = state.failures + 1 if outcome == "failed" else 0
        state.next_run_at = now + (_jittered(period) if outcome != "failed"
                                   else backoff(period, state.failures) * random.uniform(1, 1 + JITTER))
        state.running_job_id = None
        state.last_finished_at = now
        state.last_outcome = outcome
        state.last_result = result
        state.last_error_code = code[:64] if code else None
        state.last_error = message
    log_event(log, "catch-up recorded", logging.WARNING if outcome == "failed" else logging.INFO,
              course_id=course_id, job_id=job_id, outcome=outcome, error_code=code)


def release(services, course_id: int, job_id: int) -> None:
    """Let go of the course without recording a result (the job will be retried)."""
    with services.session() as s:
        s.execute(update(CourseSync).where(CourseSync.course_id == course_id, CourseSync.running_job_id == job_id)
                  .values(running_job_id=None).execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- reading, for pages
def course_state(session: Session, course_id: int) -> CourseSync | None:
    return session.get(CourseSync, course_id)


def platform_course_states(session: Session, platform: Platform, limit: int = 200) -> list[tuple[Course, CourseSync | None]]:
    """The courses of a registration (its own, and its issuer's courses without one) with their catch-up state."""
    q = (select(Course, CourseSync).outerjoin(CourseSync, CourseSync.course_id == Course.id)
         .where(or_(Course.platform_id == platform.id,
                    and_(Course.platform_id.is_(None), Course.platform_issuer == platform.issuer)))
         .order_by(Course.title, Course.id).limit(limit))
    return [(course, state) for course, state in session.execute(q).all()]
