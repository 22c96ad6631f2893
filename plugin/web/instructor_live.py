"""The definition form's live preview: the unsaved form, shown as the learner, a verifier and the
label profiles would see it, while the instructor types.

The page posts the whole form here (``static/definition-form.js``, a progressive enhancement:
without scripts the page offers "Save and preview"). Nothing is saved and nothing is signed;
fields the form cannot read yet are previewed as empty, and their errors are listed.
"""
from __future__ import annotations

import base64
import json

from flask import render_template
from flask_babel import gettext as _

from plugin.domain.definition import DefinitionData
from plugin.storage.models import Issuer
from plugin.web.auth import current_actor, require_roles
from plugin.web.context import db
from plugin.web.instructor import (_locale, _preview_document, allowed_issuers, bp, course_definition, current_course,
                                   current_data, label_profiles)


def shown_values(data: DefinitionData, issuer: Issuer | None, locale: str) -> dict:
    """Controlled values in the reader's language (the credential itself keeps the stored wording)."""
    from babel import Locale

    from plugin.web.instructor_forms import PARTICIPATION, STACKABILITY, SUPERVISION, assessment_shown
    return {
        "assessment": assessment_shown(data.assessment_type),
        "participation": dict(PARTICIPATION).get(data.participation or ""),
        "supervision": dict(SUPERVISION).get(data.supervision or ""),
        "stackability": dict(STACKABILITY).get(data.stackability or ""),
        "country": Locale.parse(locale).territories.get((issuer.profile or {}).get("country_code", ""))
        if issuer else None,
    }


def _readable_part(form) -> DefinitionData:
    """What the form says, keeping only the fields that are valid (the preview of a half-typed form)."""
    data, _policy = form.to_domain()
    if data is not None:
        return data
    bad = set(form.errors)
    raw = {}
    for name in DefinitionData.model_fields:
        value = getattr(form, name, None)
        if value is not None and name not in bad and name not in ("learning_outcomes", "languages"):
            raw[name] = value.data
    outcomes = [row for row in form.outcome_rows() if row["text"]]
    for candidate in ({**raw, "learning_outcomes": outcomes, "languages": form.languages.data or []},
                      {**raw, "learning_outcomes": []}, {"title": (form.title.data or "")[:255]}):
        try:
            return DefinitionData.model_validate({k: v for k, v in candidate.items() if v not in (None, "")})
        except ValueError:
            continue
    return DefinitionData()


@bp.post("/preview/live")
@require_roles("instructor")
def live_preview():
    from plugin.domain.labels import check_labels
    from plugin.web.branding import badge_svg
    from plugin.web.instructor_forms import DefinitionForm
    course = current_course()
    definition = course_definition(course)
    stored, _version = current_data(definition)
    issuers = allowed_issuers()
    profiles = label_profiles()
    form = DefinitionForm()
    form.setup(issuers=issuers, profiles=profiles, locale=_locale(), stored=stored,
               stored_policy=definition.policy if definition else None)
    if not form.validate() and form.csrf_token.errors:
        return render_template("instructor/_live_preview.html", expired=True), 400
    data = _readable_part(form)
    issuer = next((i for i in issuers if str(i.id) == (form.issuer.data or "")), None)
    doc, issuer, problems = _preview_document(issuer, data)
    claimed = [lid for lid in (form.labels.data or []) if lid in profiles]
    # every label profile: those claimed must be met; the others say what they would still need
    checks = check_labels(data, list(profiles), profiles, _locale())
    svg = badge_svg(issuer, data.title or _("Untitled credential"), data.eqf_level)
    return render_template("instructor/_live_preview.html", data=data, issuer=issuer, doc=doc,
                           document=json.dumps(doc, indent=2, ensure_ascii=False) if doc else None,
                           problems=problems, missing=data.missing_elements(), shown=shown_values(data, issuer, _locale()),
                           labels=checks, claimed=claimed, errors=form.error_list(),
                           badge_src="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
                           actor=current_actor())
