"""Pathway pages: admins define pathways and decide on flagged pathway credentials; learners
see their progress; instructors see the pathways their credential counts towards; anyone
opens a pathway's public page (the address a part's European Digital Credential names).

The rules and the award are :mod:`plugin.domain.pathways` and :mod:`plugin.issuance.pathways`.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from plugin.domain.definition import DefinitionData
from plugin.domain.pathways import PathwayError, leaves, parse_rules, target_from_parts
from plugin.issuance import pathways as engine
from plugin.storage.models import (CredentialDefinition, IssuedCredential, Issuer, Learner, Pathway, PathwayAward,
                                   Platform)
from plugin.web.admin.issuers import MultiCheckboxField
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import tr

bp = Blueprint("pathways", __name__)


def _admin_issuers() -> list[Issuer]:
    from plugin.web.admin.issuers import _issuers_query
    from plugin.web.admin import platform_scope
    return list(_issuers_query(platform_scope()))


def _definition_title(definition: CredentialDefinition) -> str:
    version = definition.versions[-1].data if definition.versions else {}
    return version.get("title") or definition.course.title or definition.public_id


def _where(definition: CredentialDefinition) -> str:
    """Where a learner takes a credential: the course, and its platform's name."""
    course = definition.course
    platform = db().get(Platform, course.platform_id) if course.platform_id else None
    where = course.title or course.context_id
    return f"{where} ({platform.name or platform.issuer})" if platform else where


class PathwayForm(FlaskForm):
    launch = HiddenField()
    name = StringField(_l("Name of the pathway"), validators=[DataRequired(), Length(max=255)],
                       description=_l("Also the title of the credential it awards, e.g. “Certificate in Public Data”."))
    issuer = SelectField(_l("Awarding body"), coerce=int, validators=[DataRequired()],
                         description=_l("Awards the pathway credential. Its own credentials may always count."))
    accepted = MultiCheckboxField(_l("Other awarding bodies whose credentials count"), validate_choice=False,
                                  description=_l("Tick a body only when your institution accepts its credentials."))
    kind = SelectField(_l("The learner needs"), choices=[("all", _l("all of the credentials ticked below")),
                                                         ("any", _l("any one of them")),
                                                         ("at_least", _l("at least N of them"))])
    at_least = IntegerField(_l("N (for “at least N”)"), validators=[Optional(), NumberRange(min=1, max=200)])
    parts = MultiCheckboxField(_l("Credentials in the pathway"), validate_choice=False)
    requirements = TextAreaField(
        _l("Advanced: nested requirements (JSON)"), validators=[Optional(), Length(max=20000)],
        description=_l("Replaces the choice above, e.g. {\"all\": [{\"credential\": \"<id>\"}, {\"at_least\": 2, "
                       "\"of\": [...]}]}; “any” and “at_least” groups nest."))
    min_ects = DecimalField(_l("Minimum ECTS credits in total"), validators=[Optional(), NumberRange(min=0.5, max=600)],
                            description=_l("Optional: the credits of the counted credentials must add up to this."))
    window_start = DateField(_l("Credentials count from"), validators=[Optional()])
    window_end = DateField(_l("Credentials count until"), validators=[Optional()])
    description = TextAreaField(_l("Description of the pathway credential"), validators=[Optional(), Length(max=5000)])
    outcomes = TextAreaField(_l("Learning outcomes of the pathway credential"), validators=[Optional()],
                             description=_l("One per line. Leave empty to use the outcomes of its parts."))
    eqf_level = IntegerField(_l("EQF level"), validators=[Optional(), NumberRange(min=1, max=8)],
                             description=_l("Leave empty to use the level of the first part."))
    ects = DecimalField(_l("ECTS credits of the pathway credential"), validators=[Optional(), NumberRange(min=0.5, max=300)],
                        description=_l("Leave empty to add up the credits of its parts."))


def _part_choices(issuers: list[Issuer]) -> list[tuple[str, str]]:
    rows = db().scalars(select(CredentialDefinition).where(CredentialDefinition.enabled.is_(True))
                        .order_by(CredentialDefinition.id)).all()
    names = {i.id: i.name for i in db().scalars(select(Issuer)).all()}
    return [(d.public_id, f"{_definition_title(d)} · {_where(d)} · {names.get(d.issuer_id, '')}") for d in rows]


def _get_pathway(public_id: str) -> Pathway:
    pathway = engine.pathway_by_public_id(db(), public_id[:64])
    if pathway is None or pathway.issuer_id not in {i.id for i in _admin_issuers()}:
        abort(404, description=_("No such pathway."))
    return pathway


# --------------------------------------------------------------------------- admin
@bp.get("/admin/pathways")
@require_roles("admin")
def admin_list():
    issuers = _admin_issuers()
    ids = [i.id for i in issuers]
    rows = db().scalars(select(Pathway).where(Pathway.issuer_id.in_(ids)).order_by(Pathway.id)).all() if ids else []
    items = []
    for pw in rows:
        rules = engine.current_rules(db(), pw)
        awarded = db().scalars(select(PathwayAward.id).where(PathwayAward.pathway_id == pw.id)).all()
        items.append({"pathway": pw, "rules": rules, "awarded": len(awarded), "parts": len(rules.parts()) if rules else 0})
    reviews = engine.awards_needing_review(db(), ids) if ids else []
    return render_template("admin/pathways.html", items=items, reviews=reviews)


@bp.route("/admin/pathways/new", methods=["GET", "POST"])
@bp.route("/admin/pathways/<public_id>/edit", methods=["GET", "POST"])
@require_roles("admin")
def admin_edit(public_id: str | None = None):
    issuers = _admin_issuers()
    pathway = _get_pathway(public_id) if public_id else None
    form = PathwayForm()
    form.issuer.choices = [(i.id, i.name) for i in issuers]
    form.accepted.choices = [(i.slug, i.name) for i in db().scalars(select(Issuer).order_by(Issuer.name)).all()]
    form.parts.choices = _part_choices(issuers)
    if pathway is not None and request.method == "GET":
        _prefill(form, pathway)
    status = 200
    if form.validate_on_submit():
        version_before = pathway.current_version if pathway is not None else None
        try:
            pathway = _save(form, pathway, issuers)
        except PathwayError as exc:
            db().rollback()
            form.parts.errors = list(form.parts.errors) + [tr(exc.args[0])]
            status = 400
        else:
            db().commit()
            if pathway.enabled and version_before is not None and pathway.current_version != version_before:
                # new rules of an enabled pathway: the backlog job was queued with them
                flash(_("Pathway saved. Learners who now meet its new rules with the credentials they "
                        "hold are being awarded its credential."), "ok")
            else:
                flash(_("Pathway saved."), "ok")
            return redirect(launch_url("pathways.admin_list"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/pathway_form.html", form=form, pathway=pathway), status


def _prefill(form: PathwayForm, pathway: Pathway) -> None:
    rules = engine.current_rules(db(), pathway)
    target = DefinitionData.from_json(pathway.target.versions[-1].data)
    form.name.data, form.issuer.data = rules.name, pathway.issuer_id
    form.accepted.data = rules.accepted_issuers
    req = rules.requirements
    simple = next(iter(req)) in ("all", "any", "at_least") and all(
        "credential" in c for c in (req.get("of") or req.get("all") or req.get("any") or []))
    if simple:
        form.kind.data = next(iter(req))
        form.at_least.data = req.get("at_least")
        form.parts.data = leaves(rules.tree)
    else:
        form.requirements.data = json.dumps(req, indent=1)
    form.min_ects.data, form.window_start.data, form.window_end.data = rules.min_ects, rules.window_start, rules.window_end
    form.description.data = target.description
    form.outcomes.data = "\n".join(lo.text for lo in target.learning_outcomes)
    form.eqf_level.data, form.ects.data = target.eqf_level, target.ects_credits


def _save(form: PathwayForm, pathway: Pathway | None, issuers: list[Issuer]) -> Pathway:
    issuer = next((i for i in issuers if i.id == form.issuer.data), None)
    if issuer is None:
        raise PathwayError(_("Choose the awarding body."))
    if (form.requirements.data or "").strip():
        try:
            tree = json.loads(form.requirements.data)
        except ValueError:
            raise PathwayError(_("The advanced requirements are not valid JSON.")) from None
    else:
        chosen = [{"credential": p} for p in form.parts.data or []]
        if not chosen:
            raise PathwayError(_("Tick the credentials of the pathway."))
        tree = ({"at_least": form.at_least.data or 0, "of": chosen} if form.kind.data == "at_least"
                else {form.kind.data: chosen})
    rules = parse_rules({"name": form.name.data, "requirements": tree,
                         "min_ects": float(form.min_ects.data) if form.min_ects.data else None,
                         "window_start": form.window_start.data, "window_end": form.window_end.data,
                         "accepted_issuers": [s for s in form.accepted.data or [] if s != issuer.slug]})
    parts = [engine._definitions_by_public_id(db(), [p]).get(p) for p in rules.parts()]
    target = target_from_parts(
        [DefinitionData.from_json(d.versions[-1].data) for d in parts if d is not None and d.versions],
        title=rules.name, description=form.description.data or "", outcomes=(form.outcomes.data or "").splitlines(),
        eqf_level=form.eqf_level.data, ects=float(form.ects.data) if form.ects.data else None,
        quality_assurance=(issuer.profile or {}).get("quality_assurance", ""))
    actor = current_actor().label
    if pathway is None:
        return engine.create_pathway(db(), services(), issuer, rules, target, actor=actor)
    if pathway.issuer_id != issuer.id:
        raise PathwayError(_("The awarding body of a pathway cannot change; create a new pathway."))
    # New rules of an enabled pathway: the learners they now admit are awarded (the backlog job).
    engine.update_pathway(db(), pathway, rules, actor=actor, target=target, services=services())
    return pathway


@bp.post("/admin/pathways/<public_id>/<action>")
@require_roles("admin")
def admin_toggle(public_id: str, action: str):
    from plugin.issuance.service import IssuanceError
    if action not in ("enable", "disable"):
        abort(404)
    pathway = _get_pathway(public_id)
    try:
        # Enabling also queues the award of the learners who already meet it (in batches).
        engine.set_pathway_enabled(db(), pathway, action == "enable", actor=current_actor().label,
                                   services=services())
    except IssuanceError as exc:
        db().rollback()
        flash(tr(exc.args[0]), "error")
    else:
        db().commit()
        flash(_("The pathway is enabled: credentials are awarded automatically.") if action == "enable"
              else _("The pathway is disabled: nothing more is awarded."), "ok")
    return redirect(launch_url("pathways.admin_list"))


@bp.post("/admin/pathways/reviews/<int:award_id>")
@require_roles("admin")
def admin_review(award_id: int):
    from plugin.issuance.service import IssuanceError
    row = db().get(PathwayAward, award_id)
    if row is None or row.pathway.issuer_id not in {i.id for i in _admin_issuers()}:
        abort(404, description=_("No such pathway credential."))
    decision = request.form.get("decision", "")
    if decision == "revoke" and not request.form.get("reason", "").strip():
        flash(_("Say why the pathway credential is revoked."), "error")
        return redirect(launch_url("pathways.admin_list")), 303
    try:
        engine.decide_review(db(), row, decision, actor=current_actor().label, reason=request.form.get("reason", ""))
    except IssuanceError as exc:
        db().rollback()
        flash(tr(exc.args[0]), "error")
        return redirect(launch_url("pathways.admin_list")), 303
    db().commit()
    flash(_("Decision recorded."), "ok")
    return redirect(launch_url("pathways.admin_list"))


# --------------------------------------------------------------------------- public page
@bp.get("/pathways/<public_id>")
def public_page(public_id: str):
    pathway = engine.pathway_by_public_id(db(), public_id[:64])
    if pathway is None or not pathway.enabled:
        abort(404, description=_("No such pathway."))
    rules = engine.current_rules(db(), pathway)
    found = engine._definitions_by_public_id(db(), rules.parts())
    parts = [{"title": _definition_title(found[p]), "where": _where(found[p])} for p in rules.parts() if p in found]
    return render_template("public/pathway.html", pathway=pathway, rules=rules, parts=parts)


# --------------------------------------------------------------------------- for other pages
def progress_rows(learner_id: int, definition_id: int | None = None) -> list[dict]:
    """The learner's progress on each enabled pathway (those including ``definition_id`` when
    given): "2 of 3 done, 10 of 15 ECTS", what is left and where to take it."""
    session = db()
    people = engine.identities(session, learner_id)
    if definition_id is not None:
        pws = engine.pathways_including(session, definition_id)
    else:
        held = set(session.scalars(select(IssuedCredential.definition_id).where(
            IssuedCredential.learner_id.in_(people), IssuedCredential.status == "active")).all())
        pws = list({pw.id: pw for d in sorted(held) for pw in engine.pathways_including(session, d)}.values())
    rows = []
    for pw in pws:
        result = engine.learner_progress(session, pw, learner_id)
        if result is None:
            continue
        prog, rules = result
        found = engine._definitions_by_public_id(session, list(prog.missing))
        left = [{"title": _definition_title(found[m]), "where": _where(found[m])} for m in prog.missing if m in found]
        held = session.scalars(select(PathwayAward).where(PathwayAward.pathway_id == pw.id,
                                                          PathwayAward.learner_id == people[0])).all()
        current = next((a.credential for a in held if a.credential.status in ("active", "suspended")), None)
        rows.append({"pathway": pw, "name": rules.name, "progress": prog, "left": left, "credential": current})
    return rows


def instructor_rows(definition_id: int) -> list[dict]:
    """The pathways (enabled or not) a course's credential belongs to, for its instructor."""
    rows = []
    for pw in engine.pathways_including(db(), definition_id, enabled_only=False):
        rules = engine.current_rules(db(), pw)
        rows.append({"pathway": pw, "name": rules.name if rules else pw.public_id, "issuer": pw.issuer.name,
                     "parts": len(rules.parts()) if rules else 0})
    return rows


# --------------------------------------------------------------------------- the learner record
@bp.get("/learner/record.json")
def learner_record_download():
    """Every credential of the learner as one signed CLR 2.0 ClrCredential (a download)."""
    from plugin.issuance.clr import RecordError, learner_record
    from plugin.web.learner.routes import require_learner
    learner = require_learner()
    try:
        document = learner_record(db(), services(), learner)
    except RecordError:
        abort(404, description=_("You hold no active credential yet: there is no learner record to download."))
    db().commit()
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    from flask import current_app
    return current_app.response_class(body, mimetype="application/ld+json", headers={
        "Content-Disposition": 'attachment; filename="learner-record-clr.json"'})


# --------------------------------------------------------------------------- one learner, several platforms
LINK_KEY = "pathways_link"
LINK_SECONDS = 15 * 60


def _platform_name(learner: Learner) -> str:
    platform = db().scalars(select(Platform).where(Platform.issuer == learner.platform_issuer)).first()
    return (platform.name if platform and platform.name else learner.platform_issuer)


@bp.post("/learner/link/start")
def link_start():
    """On the credential page: "link an account on another platform" (this browser, 15 minutes)."""
    from plugin.web.learner.routes import keep, require_learner
    learner = require_learner()
    session[LINK_KEY] = {"learner": learner.public_id, "until": time.time() + LINK_SECONDS}
    flash(_("Now open the tool from your course on the other platform, in this browser, within 15 minutes: "
            "it will ask you to confirm the link."), "ok")
    back = request.form.get("credential", "")[:64]
    return redirect(keep("learner.credential", public_id=back) if back else keep("learner.home"))


def link_offer() -> dict | None:
    """The link the learner started on their credential page, offered on a launch of another identity."""
    data = session.get(LINK_KEY)
    actor = current_actor()
    if not data or data.get("until", 0) < time.time() or actor is None or not actor.learner_id:
        return None
    first = db().scalars(select(Learner).where(Learner.public_id == data.get("learner"))).first()
    current = db().get(Learner, actor.learner_id)
    if first is None or current is None or engine.primary_of(db(), first.id) == engine.primary_of(db(), current.id):
        return None
    return {"first": first, "current": current, "first_platform": _platform_name(first),
            "current_platform": _platform_name(current)}


@bp.post("/learner/link/confirm")
@require_roles("learner")
def link_confirm():
    from plugin.web.learner.routes import keep
    offer = link_offer()
    if offer is None:
        abort(400, description=_("No account link is waiting: start it from your credential page on the other "
                                 "platform, then open the tool from this one within 15 minutes."))
    session.pop(LINK_KEY, None)
    if request.form.get("decision") != "link":
        flash(_("The accounts were not linked."), "ok")
        return redirect(keep("learner.home"))
    awarded = engine.link_identities(db(), services(), offer["first"], offer["current"], method="launch",
                                     actor=current_actor().label)
    db().commit()
    flash(_("Your accounts are linked: pathways now count the credentials of both."), "ok")
    if awarded:
        flash(_("A pathway is complete: its credential was awarded to you."), "ok")
    return redirect(keep("learner.home"))


@bp.post("/learner/link/email")
def link_email():
    """Send a one-time code to the e-mail address of the learner's other account."""
    from plugin.delivery.notify import MailError, build_message, send_message
    from plugin.issuance import linking
    from plugin.web.learner.routes import keep, require_learner
    learner = require_learner()
    email = (request.form.get("email") or "").strip()[:320]
    back = request.form.get("credential", "")[:64]
    target = keep("learner.credential", public_id=back) if back else keep("learner.home")
    if "@" not in email:
        flash(_("Type the e-mail address of your other account."), "error")
        return redirect(target)
    code = linking.start(db(), learner, email)
    if code is not None:
        msg = build_message(services().settings, to=email, subject=_("Your code to link your accounts"),
                            text=_("Your code to link your accounts: %(code)s\n\nIt is valid for 15 minutes. If you "
                                   "did not ask for it, ignore this message: nothing is linked without it.",
                                   code=code))
        try:
            send_message(services().settings, msg)
        except MailError:
            db().rollback()
            flash(_("The e-mail could not be sent; try again later."), "error")
            return redirect(target)
    db().commit()
    flash(_("If an account of yours uses this address, a code was sent to it: type it below within 15 minutes."), "ok")
    return redirect(target)


@bp.post("/learner/link/code")
def link_code():
    from plugin.issuance import linking
    from plugin.web.learner.routes import keep, require_learner
    learner = require_learner()
    back = request.form.get("credential", "")[:64]
    target = keep("learner.credential", public_id=back) if back else keep("learner.home")
    actor = current_actor()
    ok, awarded = linking.confirm(db(), services(), learner, request.form.get("code", "")[:12],
                                  actor=actor.label if actor else f"learner:{learner.public_id}")
    db().commit()
    if not ok:
        flash(_("This code is not right or has expired."), "error")
        return redirect(target), 303
    flash(_("Your accounts are linked: pathways now count the credentials of both."), "ok")
    if awarded:
        flash(_("A pathway is complete: its credential was awarded to you."), "ok")
    return redirect(target)


@bp.app_context_processor
def _helpers():
    return {"pathway_progress": progress_rows, "pathways_of_definition": instructor_rows,
            "revoked_part": engine.revoked_part_name, "link_offer": link_offer}


__all__ = ["bp", "progress_rows", "instructor_rows"]
