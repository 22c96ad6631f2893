"""The definition form's "National and European frameworks" section (``instructor/_alignments.html``).

RNCP blocks, Répertoire spécifique entries and ESCO skills, typed one per line
(:mod:`plugin.domain.frameworks`). Kept apart from the main form class so the section can
evolve on its own: :func:`apply` adds what was posted to the definition data, or keeps the
current alignments when the field was not posted at all.
"""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext as _

from plugin.domain.definition import DefinitionData
from plugin.domain.frameworks import FrameworkAlignment, as_lines, parse_lines

bp = Blueprint("definition_alignments", __name__)
FIELD = "framework_alignments"


@bp.app_template_global("framework_alignment_lines")
def framework_alignment_lines(version) -> str:
    """What the textarea shows: what was just posted, else the current version's alignments."""
    if request.method == "POST" and FIELD in request.form:
        return request.form[FIELD]
    data = (getattr(version, "data", None) or {}).get(FIELD) or []
    return as_lines([FrameworkAlignment.model_validate(a) for a in data])


def apply(data: DefinitionData, current: DefinitionData) -> tuple[DefinitionData, list[str]]:
    """``data`` with the posted alignments (or ``current``'s when none were posted), and the errors."""
    if FIELD not in request.form:
        return data.model_copy(update={FIELD: current.framework_alignments}), []
    from plugin.web.extensions import tr
    items, errors = parse_lines(request.form[FIELD][:20000])
    errors = [tr(e) for e in errors]  # in the reader's language
    if len(items) > 50:
        errors.append(_("At most 50 alignments."))
    return data.model_copy(update={FIELD: items[:50]}), errors
