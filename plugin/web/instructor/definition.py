"""The course's credential: the overview (``/instructor/``) and the definition form
(``/instructor/definition``), saved as a new version through the engine."""
from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _

from plugin.domain.policy import GATED_LAUNCH_WARNING
from plugin.storage.models import Course, CredentialDefinition, Issuer
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db
from plugin.web.extensions import tr
from plugin.web.instructor.issuance import counts_for
from plugin.web.instructor import (ActionForm, _default_source, _locale, allowed_issuers, bp, course_definition,
                                   current_course, current_data, label_checks, label_profiles)


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
