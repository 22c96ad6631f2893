"""Instructor pages, launched from a course: describe, preview, enable, watch and manage the credential.

Every view requires the ``instructor`` role of the launch (``?launch=`` or the hidden
``launch`` field: nothing depends on cookies inside the platform's iframe). A
blueprint-wide guard repeats the check so a view added without its decorator stays closed.

The engine (:mod:`plugin.issuance.service`) does the work and writes the audit rows for
definitions, issuance and status changes; these views validate, call it inside the
request's one transaction, and commit only when everything succeeded.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   request)
from flask_babel import get_locale
from flask_babel import gettext as _, ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select, tuple_
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from plugin.domain.definition import DefinitionData
from plugin.domain.policy import GATED_LAUNCH_WARNING
from plugin.storage.models import (Course, CredentialDefinition, DefinitionVersion, IssuedCredential, Issuer,
                                   IssuerPlatform, Job, Platform)
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import tr
from plugin.web.formatting import install as install_helpers
from plugin.web.instructor.issuance import counts_for, problems_for

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
install_helpers(bp)
PAGE_SIZES = (25, 50, 100)
STATUSES = ("active", "suspended", "revoked", "superseded")


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


# --------------------------------------------------------------------------- overview
@bp.get("/")
@require_roles("instructor")
def home():
    actor = current_actor()
    if not actor.course_id or db().get(Course, actor.course_id) is None:
        # A launch without a course is valid LTI (e.g. from a platform's tool menu): say what to do.
        return render_template("instructor/no_course.html")
    course = current_course()
    definition = course_definition(course)
    data, version = current_data(definition)
    counts = {}
    if definition is not None:  # per learner, as the issued list shows them
        from plugin.web.instructor.issued_rows import head_counts
        counts = head_counts(db(), definition.id)
    return render_template("instructor/home.html", course=course, definition=definition, data=data,
                           version=version, missing=data.missing_elements() if definition else [],
                           labels=label_checks(definition, data), counts=counts, issuing=counts_for(definition),
                           issuer=db().get(Issuer, definition.issuer_id) if definition and definition.issuer_id else None,
                           form=ActionForm(launch=current_actor().launch_id))


# --------------------------------------------------------------------------- the definition form
def definition_form():
    """The course's definition form as posted (or empty), with its choices, and what is stored:
    (form, course, definition, stored data, stored version, allowed issuers, label profiles)."""
    from plugin.web.instructor.forms import DefinitionForm
    course = current_course()
    definition = course_definition(course)
    data, version = current_data(definition)
    issuers = allowed_issuers()
    profiles = label_profiles()
    form = DefinitionForm()
    form.setup(issuers=issuers, profiles=profiles, locale=_locale(), stored=data,
               stored_policy=definition.policy if definition else None)
    return form, course, definition, data, version, issuers, profiles


@bp.route("/definition", methods=["GET", "POST"])
@require_roles("instructor")
def edit():
    form, course, definition, data, version, issuers, profiles = definition_form()
    if request.method == "GET":
        policy = dict(definition.policy or {}) if definition else {}
        if not policy:
            from plugin.domain.policy import SOURCE_RULES
            source = _default_source()
            policy = {"source": source, "rule": SOURCE_RULES[source][0]}
        if definition is None and not data.title:
            data = data.model_copy(update={"title": course.title or ""})
        issuer_id = (definition.issuer_id if definition and definition.issuer_id
                     else (issuers[0].id if len(issuers) == 1 else None))  # the only allowed one is proposed
        form.fill(data, policy, issuer_id, list(definition.labels or []) if definition else [])
        if not data.quality_assurance and issuer_id:
            chosen = next((i for i in issuers if i.id == issuer_id), None)
            form.quality_assurance.data = (chosen.profile or {}).get("quality_assurance", "") if chosen else ""
        form.launch.data = current_actor().launch_id
        return render_template("instructor/definition.html", form=form, definition=definition, version=version,
                               gated_warning=tr(GATED_LAUNCH_WARNING), issuers=issuers), 200

    action = request.form.get("action", "save")
    if action == "add_outcome":
        form.learning_outcomes.append_entry()
        return _render_form(form, definition, version, issuers)
    if action.startswith("remove_outcome:"):
        index = int(action.partition(":")[2]) if action.partition(":")[2].isdigit() else -1
        rows = form.outcome_rows()
        if 0 <= index < len(rows):
            del rows[index]
        while form.learning_outcomes.entries:
            form.learning_outcomes.pop_entry()
        for row in rows or [{"text": "", "esco_uri": ""}]:
            form.learning_outcomes.append_entry(row)
        return _render_form(form, definition, version, issuers)

    ok = form.validate()
    data_new, policy = form.to_domain()
    issuer = None
    if form.issuer.data:
        issuer = next((i for i in issuers if str(i.id) == form.issuer.data), None)
        if issuer is None:
            form.issuer.errors.append(_("Choose one of the awarding bodies your administrator allowed."))
    unknown = [lid for lid in (form.labels.data or []) if lid not in profiles]
    if unknown:
        form.labels.errors.append(_("Unknown label: %(ids)s", ids=", ".join(unknown)))
    if data_new is not None and definition is not None and definition.enabled and data_new.missing_elements():
        # an enabled credential stays complete: say so on each field, not only at the top
        form.place_missing([(element, tr(message)) for element, message in data_new.missing_by_element()])
        form.form_errors.append(_("This credential is enabled, so it must stay complete."))
        ok = False
    alignment_errors = []
    if data_new is not None:  # the frameworks section (a template include of its own)
        from plugin.web.instructor.definition_alignments import apply as apply_alignments
        data_new, alignment_errors = apply_alignments(data_new, data)
    if not ok or data_new is None or policy is None or form.issuer.errors or form.labels.errors or alignment_errors:
        return _render_form(form, definition, version, issuers, status=400, alignment_errors=alignment_errors)

    from plugin.issuance.service import IssuanceError, save_definition
    from plugin.web.audit import record
    actor = current_actor()
    before = _settings_of(definition)
    try:
        new_version = save_definition(db(), course, data_new, actor.label, issuer,
                                      definition=definition, policy=_policy_to_store(definition, policy))
        definition = new_version.definition if definition is None else definition
        labels = list(form.labels.data or [])
        if list(definition.labels or []) != labels:
            definition.labels = labels
            record("definition.labels", "definition", definition.public_id, labels=labels)
        if definition.enabled:
            failing = [c for c in label_checks(definition, data_new) if not c.ok]
            if failing:
                raise IssuanceError(_("this credential is enabled and claims %(label)s, which it would no longer meet: %(rules)s",
                                      label=failing[0].name, rules="; ".join(tr(m) for _r, m in failing[0].failed)))
    except IssuanceError as exc:
        db().rollback()
        form.form_errors.append(tr(exc.args[0] if exc.args else str(exc)))
        return _render_form(form, definition, version, issuers, status=400)
    db().commit()
    if version is not None and new_version.version == version.version:
        if _settings_of(definition) == before:
            flash(_("Nothing changed: the credential is still version %(n)s.", n=new_version.version), "ok")
        else:
            flash(_("Saved. The description did not change, so the credential is still version %(n)s.",
                    n=new_version.version), "ok")
    else:
        flash(_("Saved (version %(n)s).", n=new_version.version), "ok")
    if action == "preview":
        return redirect(launch_url("instructor.preview"))
    return redirect(launch_url("instructor.home"))


def _settings_of(definition: CredentialDefinition | None):
    """What a save may change besides the description: awarding body, pass policy, labels."""
    if definition is None:
        return None
    return definition.issuer_id, dict(definition.policy or {}), list(definition.labels or [])


def _policy_to_store(definition: CredentialDefinition | None, policy) -> dict:
    """The form's policy as stored: the line item recorded from launches is kept (the form does not
    show it), and a policy that means the same as the stored one stays the stored one (no audit row)."""
    from plugin.domain.policy import CoursePolicy
    stored = dict(definition.policy or {}) if definition else {}
    new = policy.model_dump(mode="json")
    if stored.get("ags_lineitem"):
        new["ags_lineitem"] = stored["ags_lineitem"]
    try:
        same = CoursePolicy.model_validate(stored).model_dump(mode="json") == new
    except ValueError:  # pydantic's ValidationError: a stored policy the rules no longer accept
        same = False
    return stored if same else new


def _render_form(form, definition, version, issuers, status=200, alignment_errors=()):
    return render_template("instructor/definition.html", form=form, definition=definition, version=version,
                           gated_warning=tr(GATED_LAUNCH_WARNING), issuers=issuers,
                           alignment_errors=list(alignment_errors)), status


# --------------------------------------------------------------------------- preview and enable
def _preview_document(issuer: Issuer | None, data: DefinitionData):
    """The credential ``issuer`` would issue now (unsigned), or the reasons it cannot be."""
    from plugin.composition.credential import CompositionError, EvidenceData, LearnerIdentity, compose
    from plugin.domain.issuer import IssuerProfile
    from plugin.issuance.keys import issuer_identifier
    if issuer is None:
        return None, None, [_("Awarding body: choose the issuer that awards this credential")]
    now = datetime.now(timezone.utc)
    base = services().settings.base_url.rstrip("/")
    try:
        doc = compose(IssuerProfile.from_json(issuer.profile), issuer_identifier(services(), issuer), data,
                      LearnerIdentity(key="preview", name=_("Ada Lovelace (example learner)"),
                                      email="learner@example.org"),
                      EvidenceData(source=_("example assessment"), observed_at=now, score=85, score_max=100),
                      f"{base}/credentials/preview", now, base_url=base, image=f"{base}/credentials/preview/image.png")
    except CompositionError as exc:
        return None, issuer, [tr(exc.args[0] if exc.args else str(exc))]
    return doc, issuer, []


@bp.get("/preview")
@require_roles("instructor")
def preview():
    import json
    course, definition = _definition_or_404()
    data, version = current_data(definition)
    doc, issuer, problems = _preview_document(
        db().get(Issuer, definition.issuer_id) if definition.issuer_id else None, data)
    missing = data.missing_elements()
    from plugin.web.instructor.live import shown_values
    shown = shown_values(data, issuer, _locale())
    return render_template("instructor/preview.html", course=course, definition=definition, data=data, shown=shown,
                           version=version, issuer=issuer, problems=problems, missing=missing,
                           document=json.dumps(doc, indent=2, ensure_ascii=False) if doc else None,
                           doc=doc, labels=label_checks(definition, data),
                           form=ActionForm(launch=current_actor().launch_id))


@bp.get("/preview/badge.svg")
@require_roles("instructor")
def preview_badge():
    from plugin.web.admin.branding import badge_svg  # the awarding body's design
    _course, definition = _definition_or_404()
    data, _version = current_data(definition)
    issuer = db().get(Issuer, definition.issuer_id) if definition.issuer_id else None
    svg = badge_svg(issuer, data.title or _("Untitled credential"), data.eqf_level)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.post("/enable")
@require_roles("instructor")
def enable():
    from plugin.issuance.service import IssuanceError, set_enabled
    _course, definition = _definition_or_404()
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    data, _version = current_data(definition)
    failing = [c for c in label_checks(definition, data) if not c.ok]
    if failing:
        flash(_("Not enabled: the credential claims %(label)s but does not meet: %(rules)s",
                label=failing[0].name, rules="; ".join(tr(m) for _r, m in failing[0].failed)), "error")
        return redirect(launch_url("instructor.preview"))
    try:
        queued = set_enabled(db(), definition, True, actor=current_actor().label, services=services())
    except IssuanceError as exc:
        db().rollback()
        flash(_("Not enabled: %(why)s", why=tr(exc.args[0] if exc.args else str(exc))), "error")
        return redirect(launch_url("instructor.preview"))
    db().commit()
    flash(_("The credential is enabled: learners who pass can now receive it."), "ok")
    if queued:
        flash(ngettext("%(num)d learner had already passed: their credential is being issued.",
                       "%(num)d learners had already passed: their credentials are being issued.", queued), "ok")
    return redirect(launch_url("instructor.home"))


@bp.post("/disable")
@require_roles("instructor")
def disable():
    from plugin.issuance.service import set_enabled
    _course, definition = _definition_or_404()
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    set_enabled(db(), definition, False, actor=current_actor().label)
    db().commit()
    flash(_("The credential is disabled: nobody new receives it. Credentials already issued stay valid."), "ok")
    return redirect(launch_url("instructor.home"))


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


from plugin.web.instructor import live as instructor_live  # noqa: E402,F401  (the live preview's route, on this blueprint)
