"""Learners: the status page in the LMS iframe, claiming, their credential pages and downloads.

Access:
* inside the LMS, the launch (``?launch=`` / hidden ``launch`` field, :mod:`plugin.web.auth`);
* outside it, a signed expiring ``?access=`` token (:mod:`plugin.delivery.access`) sent in the
  notification and shown on the page. Either one only opens the learner's *own* credentials:
  anybody else's answers 404, so a guessed id tells nothing.
"""
from __future__ import annotations

import importlib
import re
from datetime import datetime, timezone

import segno
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from plugin.delivery.access import make_access_token, read_access_token
from plugin.delivery.present import summarize
from plugin.delivery.share import wallet_links
from plugin.storage.models import CredentialDefinition, IssuedCredential, Learner
from plugin.web.learner.claim_privacy import identify_choices
from plugin.web.auth import current_actor, require_roles
from plugin.web.urls import public_url
from plugin.web.context import db, services
from plugin.web.extensions import tr
from plugin.web.learner.issuance import IssuingPending, claim_award, pending_state

bp = Blueprint("learner", __name__, url_prefix="/learner")

DOWNLOADS = ("json", "jwt", "png", "svg", "pdf")


# ------------------------------------------------------------------------ engine / bridges glue
class IssuingUnavailable(RuntimeError):
    pass


def explain(session, definition, learner, **known):
    """``(passed, reason)``: the bridges' explanation under the current pass policy."""
    from plugin.issuance.explain import explain_status
    try:
        status = explain_status(session, definition, learner, **known)
    except ValueError:  # a policy or evidence the bridges cannot read: say so, not the parser's words
        current_app.logger.warning("cannot explain the status of learner %s for definition %s",
                                   learner.public_id, definition.public_id, exc_info=True)
        return False, _("Your result could not be read; please tell your instructor.")
    passed = status.state in ("ready_to_claim", "being_issued", "issued", "suspended")
    return passed, status.message


def award(session, definition, learner, *, display_name, hashed_only, actor) -> IssuedCredential:
    """Issue now; with ``hashed_only`` the credential names the learner by a salted e-mail hash only."""
    try:
        importlib.import_module("plugin.issuance.service")  # the issuing engine is installed
    except ImportError as exc:
        raise IssuingUnavailable(str(exc)) from None
    # a failure is kept with the claim and retried (IssuingPending)
    return claim_award(session, definition, learner, evidence_id=_passing_evidence(session, definition, learner),
                       display_name=None if hashed_only else display_name,
                       actor_label=actor.label if actor else f"learner:{learner.public_id}")


def _passing_evidence(session, definition, learner) -> int | None:
    from plugin.storage.models import PassEvidence
    return session.scalars(select(PassEvidence.id).where(
        PassEvidence.definition_id == definition.id, PassEvidence.learner_id == learner.id,
        PassEvidence.passed.is_(True)).order_by(PassEvidence.recorded_at.desc())).first()


def reissue(session, credential, *, display_name, hashed_only, actor_label) -> IssuedCredential:
    try:
        from plugin.issuance import service
    except ImportError as exc:
        raise IssuingUnavailable(str(exc)) from None
    return service.reissue(session, services(), credential, display_name=None if hashed_only else display_name,
                           actor=actor_label)


# ------------------------------------------------------------------------ access
def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def viewing_learner() -> Learner | None:
    """The learner this request speaks for: an access token, else a learner launch."""
    token = request.args.get("access") or request.form.get("access")
    if token:
        public_id = read_access_token(_secret(), token)
        if public_id is None:
            abort(403, description=_("This link has expired or is not valid. Open the tool from your course "
                                     "to get a new one."))
        learner = db().scalars(select(Learner).where(Learner.public_id == public_id)).first()
        if learner is not None:
            return learner
    actor = current_actor()
    if actor is not None and actor.learner_id and actor.has("learner", "instructor", "admin"):
        return db().get(Learner, actor.learner_id)
    return None


def require_learner() -> Learner:
    learner = viewing_learner()
    if learner is None:
        abort(401, description=_("Open this page from your course, or use the link you received by e-mail."))
    return learner


def own_credential(public_id: str, learner: Learner) -> IssuedCredential:
    row = db().scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id[:64])).first()
    if row is None or row.learner_id != learner.id:
        abort(404, description=_("No credential of yours has this address."))
    return row


def keep(endpoint: str, **values) -> str:
    """url_for that keeps the learner's access (token or launch) in the link."""
    token = request.args.get("access") or request.form.get("access")
    if token and "access" not in values:
        values["access"] = token
    actor = current_actor()
    if actor is not None and actor.launch_id and "launch" not in values and "access" not in values:
        values["launch"] = actor.launch_id
    return url_for(endpoint, **values)


@bp.app_context_processor
def _helpers():
    return {"learner_url": keep, "public_url": public_url}


# ------------------------------------------------------------------------ status in the iframe
def _definitions(actor, *, with_versions: bool = False) -> list:
    """The enabled credentials this launch shows; ``with_versions``: pairs (definition, its
    current version's data), read in the same query."""
    if with_versions:
        from plugin.storage.models import DefinitionVersion
        q = select(CredentialDefinition, DefinitionVersion.data).outerjoin(DefinitionVersion, (
            DefinitionVersion.definition_id == CredentialDefinition.id)
            & (DefinitionVersion.version == CredentialDefinition.current_version))
    else:
        q = select(CredentialDefinition)
    q = q.where(CredentialDefinition.enabled.is_(True))
    if actor.definition_public_id:
        q = q.where(CredentialDefinition.public_id == actor.definition_public_id)
    elif actor.course_id is not None:
        q = q.where(CredentialDefinition.course_id == actor.course_id)
    else:
        return []
    q = q.order_by(CredentialDefinition.id)
    if with_versions:  # the status page: from this process's cache until a definition changes
        from plugin.storage import config_cache
        session = db()
        key = ("learner_definitions", actor.definition_public_id, actor.course_id)
        found = config_cache.cached(session, key, lambda: [(config_cache.snapshot(d), data or {})
                                                           for d, data in session.execute(q)])
        return [(config_cache.revive(session, snap), data) for snap, data in found]
    return list(db().scalars(q))


def _latest(definition_id: int, learner_id: int) -> IssuedCredential | None:
    return db().scalars(select(IssuedCredential)
                        .where(IssuedCredential.definition_id == definition_id,
                               IssuedCredential.learner_id == learner_id)
                        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())).first()


def credential_state(definition: CredentialDefinition, learner: Learner) -> dict:
    """One of ``claimed``, ``ready`` (passed or issued, not claimed yet), ``suspended``,
    ``revoked`` or ``not_passed``, with the credential and the reason a learner reads."""
    row = _latest(definition.id, learner.id)
    if row is not None and row.status in ("active", "suspended"):
        if row.status == "suspended":
            return {"state": "suspended", "credential": row, "reason": row.status_reason or ""}
        return {"state": "claimed" if row.claimed_at else "ready", "credential": row, "reason": ""}
    if (pending := pending_state(db(), definition, learner)) is not None:  # issuing failed: retried, staff told
        return pending
    # The newest credential is not current, so none is: a current one is always the newest
    # (one current per learner and definition, and a revoked one never comes back).
    passed, reason = explain(db(), definition, learner, current=None)
    if row is not None and row.status == "revoked" and not passed:
        return {"state": "revoked", "credential": row, "reason": row.status_reason or ""}
    if passed:
        return {"state": "ready", "credential": None, "reason": reason, "revoked": row}
    return {"state": "not_passed", "credential": None, "reason": reason}


# When MICROCRED_PAGE_REFRESH_SECONDS > 0, the status page asks the pull sources about a
# learner at most that often (per process); the claim always asks, and the scheduled
# catch-up (plugin.evidence.sync_schedule) covers the rest.
_page_refreshed: dict[tuple, float] = {}


def _refresh_due_for_page(definition_id: int, learner_id: int) -> bool:
    import time
    every = services().settings.page_refresh_seconds
    if every <= 0:
        return True
    now = time.monotonic()
    key = (id(services().engine), definition_id, learner_id)
    if now - _page_refreshed.get(key, float("-inf")) < every:
        return False
    if len(_page_refreshed) > 50_000:  # forget the oldest half rather than grow without bound
        for old in sorted(_page_refreshed, key=_page_refreshed.get)[:25_000]:
            _page_refreshed.pop(old, None)
    _page_refreshed[key] = now
    return True


def _pull_configured(definition: CredentialDefinition, platform_issuer: str | None) -> bool:
    """The status page skips sources the platform has no settings for (from the cached registrations)."""
    if not platform_issuer:
        return True
    from lti.platforms import platforms_of_issuer
    from plugin.domain.policy import parse_policy
    from plugin.evidence.sync import pull_configured
    try:
        policy = parse_policy(definition.policy)
    except ValueError:
        return False
    return policy is not None and pull_configured(platforms_of_issuer(db(), platform_issuer), policy)


def refresh_from_sources(definitions: list[CredentialDefinition], learner: Learner, *,
                         page_view: bool = False, platform_issuer: str | None = None) -> None:
    """Ask each pull source (AGS, Open edX grades API, Moodle) about this learner now.

    ``page_view``: for the status page, only for sources the launch's platform
    (``platform_issuer``) has settings for, and with ``MICROCRED_PAGE_REFRESH_SECONDS`` at
    most that often per learner and credential in this process.

    The request's transaction is ended first: the remote reads happen outside any open
    transaction (the AGS client keeps its token cache in the database, and on SQLite an
    open transaction holds the write lock), then each answer is recorded in a short
    transaction of its own. A platform that cannot be reached leaves the recorded status.
    """
    from plugin.domain.policy import PolicyError
    from plugin.evidence.base import BridgeError
    from plugin.evidence.sync import refresh_is_possible, refresh_learner
    due = [d.id for d in definitions
           if d.enabled and refresh_is_possible(d)
           and (not page_view or (_pull_configured(d, platform_issuer) and _refresh_due_for_page(d.id, learner.id)))
           and ((row := _latest(d.id, learner.id)) is None or row.status not in ("active", "suspended"))]
    if not due:
        return
    db().commit()
    for definition_id in due:
        try:
            refresh_learner(services(), definition_id, learner.id)
        except BridgeError as exc:
            if exc.code == "not_configured":  # e.g. a webhook policy without the grades API: nothing to ask
                continue
            current_app.logger.warning("claim-time check of learner %s for definition %s failed: %s",
                                       learner.public_id, definition_id, exc)
        except PolicyError as exc:
            current_app.logger.warning("claim-time check of learner %s for definition %s failed: %s",
                                       learner.public_id, definition_id, exc)


class ClaimForm(FlaskForm):
    launch = HiddenField()
    definition = HiddenField(validators=[DataRequired()])
    identify = RadioField(_l("How you appear on the credential"),
                          choices=[("name", _l("With my name")),
                                   ("hashed", _l("Only by a hashed e-mail address (my name is not shown)"))],
                          default="name", validators=[DataRequired()])
    display_name = StringField(_l("Name to appear on the credential"), validators=[Optional(), Length(max=200)])
    consent = BooleanField(_l("I agree that this credential, with the information above, is issued to me and "
                              "can be verified by anyone I share it with."),
                           validators=[DataRequired(message=_l("Please confirm to claim your credential."))])


def _default_name(learner: Learner) -> str:
    return learner.name or " ".join(x for x in (learner.given_name, learner.family_name) if x) or ""


@bp.get("/")
@require_roles("learner")
def home():
    actor = current_actor()
    learner = db().get(Learner, actor.learner_id) if actor.learner_id else None
    if learner is None:
        abort(403, description=_("Your platform did not tell us who you are; ask your instructor."))
    items = []
    pairs = _definitions(actor, with_versions=True)
    refresh_from_sources([d for d, _ in pairs], learner, page_view=True, platform_issuer=actor.platform_issuer)
    for definition, version in pairs:
        state = credential_state(definition, learner)
        form = None
        if state["state"] == "ready":
            form = ClaimForm(formdata=None, launch=actor.launch_id, definition=definition.public_id,
                             display_name=(state["credential"].display_name if state["credential"]
                                           else None) or _default_name(learner))
            form.identify.choices = identify_choices(learner)
        items.append({"definition": definition, "title": version.get("title") or definition.course.title,
                      "form": form, **state})
    access = make_access_token(_secret(), learner.public_id)
    from plugin.web.learner.credential_page import long_date
    return render_template("learner/home.html", items=items, learner=learner, access=access, long_date=long_date)


@bp.post("/claim")
@require_roles("learner")
def claim():
    actor = current_actor()
    learner = db().get(Learner, actor.learner_id) if actor.learner_id else None
    form = ClaimForm()
    if learner is None:
        abort(403, description=_("Your platform did not tell us who you are; ask your instructor."))
    if not form.validate():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(url_for("learner.home", launch=actor.launch_id)), 303
    definition = db().scalars(select(CredentialDefinition)
                              .where(CredentialDefinition.public_id == form.definition.data)).first()
    if definition is None or definition not in _definitions(actor):
        abort(404, description=_("This course offers no such credential."))
    hashed_only = form.identify.data == "hashed"
    name = re.sub(r"\s+", " ", form.display_name.data or "").strip()
    if not hashed_only and not name:
        flash(_("Please enter the name to appear on the credential."), "error")
        return redirect(url_for("learner.home", launch=actor.launch_id)), 303
    refresh_from_sources([definition], learner)
    state = credential_state(definition, learner)
    now = datetime.now(timezone.utc)
    try:
        if state["state"] == "claimed":
            row = state["credential"]
        elif state["state"] in ("pending", "issue_failed"):
            raise IssuingPending(state["reason"])
        elif state["state"] != "ready":
            abort(409, description=tr(state["reason"]) or _("This credential cannot be claimed yet."))
        elif state["credential"] is not None:
            row = state["credential"]
            if (row.display_name or None) != (None if hashed_only else name):
                row = reissue(db(), row, display_name=None if hashed_only else name, hashed_only=hashed_only,
                              actor_label=actor.label)
        else:
            row = award(db(), definition, learner, display_name=None if hashed_only else name,
                        hashed_only=hashed_only, actor=actor)
    except IssuingUnavailable:
        abort(503, description=_("Issuing is not available right now; please try again later."))
    except IssuingPending:
        db().commit()  # the claim (name, consent) is kept with the pending issuance
        flash(_("Your credential is being issued; we will retry automatically."), "ok")
        return redirect(url_for("learner.home", launch=actor.launch_id)), 303
    row.consent_at = row.consent_at or now
    row.claimed_at = row.claimed_at or now
    db().commit()
    flash(_("Your credential is ready."), "success")
    return redirect(url_for("learner.credential", public_id=row.public_id, launch=actor.launch_id)), 303


# ------------------------------------------------------------------------ the learner's credentials
def _summary(row: IssuedCredential):
    return summarize(row.document, locale=str(get_locale() or "en"), gettext=_)


def verify_url(row: IssuedCredential) -> str:
    return public_url("verify.public", public_id=row.public_id)


def status_note(row: IssuedCredential) -> str | None:
    when = (row.status_changed_at or row.issued_at).date().isoformat()
    if row.status == "revoked":
        return _("REVOKED on %(date)s: this credential is no longer valid.", date=when)
    if row.status == "suspended":
        return _("SUSPENDED since %(date)s.", date=when)
    if row.status == "superseded":
        return _("Replaced on %(date)s by a newer credential.", date=when)
    return None


def _svg_data_uri(text: str) -> str:
    buf = segno.make(text, error="m").svg_data_uri(scale=4, border=2, title=_("QR code"))
    return buf


@bp.get("/credentials")
def credentials():
    learner = require_learner()
    rows = db().scalars(select(IssuedCredential).where(IssuedCredential.learner_id == learner.id)
                        .order_by(IssuedCredential.issued_at.desc())).all()
    items = [{"row": r, "summary": _summary(r), "note": status_note(r)} for r in rows]
    from plugin.web.learner.credential_page import long_date
    return render_template("learner/list.html", items=items, learner=learner, long_date=long_date)


@bp.get("/credentials/<public_id>")
def credential(public_id: str):
    from plugin.web.learner.credential_page import learner_page
    learner = require_learner()
    row = own_credential(public_id, learner)
    vurl = verify_url(row)
    access_link = public_url("learner.credential", public_id=row.public_id,
                             access=make_access_token(_secret(), learner.public_id))
    return render_template("learner/credential.html", **learner_page(row, vurl), access_link=access_link,
                           verify_qr=_svg_data_uri(vurl), current=row.status in ("active", "suspended"))


def _filename(row: IssuedCredential, ext: str) -> str:
    title = _summary(row).title or "credential"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title.encode("ascii", "ignore").decode()).strip("-").lower()[:60]
    return f"{slug or 'credential'}-{row.public_id[:8]}.{ext}"




def download_bytes(row: IssuedCredential, kind: str) -> tuple[bytes, str]:
    import json
    if kind == "json":
        return json.dumps(row.document, ensure_ascii=False, indent=2).encode("utf-8"), "application/ld+json"
    if kind == "jwt":
        if not row.jwt:
            abort(404, description=_("This credential has no VC-JWT form."))
        return row.jwt.encode("ascii"), "application/jwt"
    if kind in ("png", "svg"):
        from plugin.web.learner.credential_page import baked_badge
        return baked_badge(row, kind)
    if kind == "pdf":
        from plugin.web.learner.credential_page import paper_for_request, pdf_bytes
        return pdf_bytes(row, verify_url=verify_url(row), status_note=status_note(row),
                         paper=paper_for_request()), "application/pdf"
    abort(404, description=_("Unknown download format."))


@bp.get("/credentials/<public_id>/download/<kind>")
def download(public_id: str, kind: str):
    learner = require_learner()
    row = own_credential(public_id, learner)
    if kind not in DOWNLOADS:
        abort(404, description=_("Unknown download format."))
    data, mime = download_bytes(row, kind)
    resp = Response(data, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{_filename(row, kind)}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


class ReissueForm(FlaskForm):
    launch = HiddenField()
    access = HiddenField()
    identify = RadioField(_l("How you appear on the credential"),
                          choices=[("name", _l("With my name")),
                                   ("hashed", _l("Only by a hashed e-mail address (my name is not shown)"))],
                          default="name", validators=[DataRequired()])
    display_name = StringField(_l("New name to appear on the credential"), validators=[Optional(), Length(max=200)])


@bp.route("/credentials/<public_id>/reissue", methods=["GET", "POST"])
def reissue_view(public_id: str):
    learner = require_learner()
    row = own_credential(public_id, learner)
    if row.status not in ("active",):
        abort(409, description=_("Only a valid credential can be re-issued under a new name."))
    form = ReissueForm(launch=request.values.get("launch"), access=request.values.get("access"),
                       display_name=row.display_name or _default_name(learner))
    form.identify.choices = identify_choices(learner)
    if request.method == "POST" and form.validate():
        hashed_only = form.identify.data == "hashed"
        name = re.sub(r"\s+", " ", form.display_name.data or "").strip()
        if not hashed_only and not name:
            form.display_name.errors = [_("Please enter the name to appear on the credential.")]
        else:
            actor = current_actor()
            try:
                new = reissue(db(), row, display_name=None if hashed_only else name, hashed_only=hashed_only,
                              actor_label=actor.label if actor else f"learner:{learner.public_id}")
            except IssuingUnavailable:
                abort(503, description=_("Issuing is not available right now; please try again later."))
            now = datetime.now(timezone.utc)
            new.consent_at = new.consent_at or now
            new.claimed_at = new.claimed_at or now
            db().commit()
            flash(_("Your credential was re-issued; the previous one is replaced."), "success")
            return redirect(keep("learner.credential", public_id=new.public_id)), 303
    return render_template("learner/reissue.html", form=form, row=row, summary=_summary(row))


@bp.post("/credentials/<public_id>/wallet")
def wallet(public_id: str):
    learner = require_learner()
    row = own_credential(public_id, learner)
    if row.status != "active":
        abort(409, description=_("Only a valid credential can be added to a wallet."))
    from plugin.web.api.exchanges import create_exchange
    exchange_url = create_exchange(db(), row)
    db().commit()
    base = services().settings.base_url
    links = wallet_links(origin=base, exchange_url=exchange_url)
    qr = segno.make(links["universal"], error="l").svg_data_uri(scale=3, border=2)
    return render_template("learner/wallet.html", row=row, summary=_summary(row), links=links, qr=qr,
                           exchange_url=exchange_url)
