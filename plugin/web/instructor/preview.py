"""Preview and enable: the credential the chosen issuer would issue now (``/instructor/preview``,
its badge picture), and turning issuance on or off (``/instructor/enable``, ``/instructor/disable``)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, abort, flash, redirect, render_template
from flask_babel import gettext as _, ngettext

from plugin.domain.definition import DefinitionData
from plugin.storage.models import Issuer
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import tr
from plugin.web.instructor import ActionForm, _definition_or_404, _locale, bp, current_data, label_checks


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
