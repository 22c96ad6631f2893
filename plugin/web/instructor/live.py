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
from plugin.web.instructor import _locale, bp
from plugin.web.instructor.definition import definition_form
from plugin.web.instructor.preview import _preview_document


def shown_values(data: DefinitionData, issuer: Issuer | None, locale: str) -> dict:
    """Controlled values in the reader's language (the credential itself keeps the stored wording)."""
    from babel import Locale

    from plugin.web.instructor.forms import PARTICIPATION, STACKABILITY, SUPERVISION, assessment_shown, nqf_shown
    return {
        "assessment": assessment_shown(data.assessment_type),
        "nqf": nqf_shown(data),
        "participation": dict(PARTICIPATION).get(data.participation or ""),
        "supervision": dict(SUPERVISION).get(data.supervision or ""),
        "stackability": dict(STACKABILITY).get(data.stackability or ""),
        "country": Locale.parse(locale).territories.get((issuer.profile or {}).get("country_code", ""))
        if issuer else None,
    }


def _readable_part(form) -> DefinitionData:
    """What the form says, keeping what is valid (the preview of a half-typed form): a bad outcome
    row is left out, a text over its limit is cut for the preview, any other bad value is dropped."""
    from pydantic import ValidationError
    raw, _rows = form.raw_definition()
    for _attempt in range(4):
        try:
            return DefinitionData.model_validate(raw)
        except ValidationError as exc:
            bad_rows = set()
            for err in exc.errors():
                loc = err["loc"]
                if loc and loc[0] == "learning_outcomes" and len(loc) > 1 and isinstance(loc[1], int):
                    bad_rows.add(loc[1])
                elif loc and err["type"] == "string_too_long" and isinstance(raw.get(loc[0]), str):
                    raw[loc[0]] = raw[loc[0]][:err["ctx"]["max_length"]]
                elif loc:
                    raw.pop(loc[0], None)
                else:  # the one model-level rule: a national framework level needs framework and level
                    raw["nqf_framework"] = raw["nqf_level"] = None
            if bad_rows:
                raw["learning_outcomes"] = [r for i, r in enumerate(raw["learning_outcomes"]) if i not in bad_rows]
    return DefinitionData()


@bp.post("/preview/live")
@require_roles("instructor")
def live_preview():
    from plugin.domain.labels import check_labels
    from plugin.web.admin.branding import badge_svg
    form, _course, _definition, _stored, _version, issuers, profiles = definition_form()
    if not form.validate() and form.csrf_token.errors:
        return render_template("instructor/_live_preview.html", expired=True), 400
    form.to_domain()  # its errors go on the fields, listed above the preview
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
