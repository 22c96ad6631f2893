"""European Digital Credentials (EDC, Europass) on the web.

Learners (same access as the other downloads: the signed ``?access=`` link or a launch,
own credentials only, see :mod:`plugin.delivery.access`):

* ``GET /credentials/<id>/edc``: the EDC as JSON-LD (``<title>.edc.json``), offered only
  after it passed the EDC shapes;
* ``GET /credentials/<id>/edc/sealed``: the sealed EDC (``<title>.edc.jades.json``), when the
  awarding body seals;
* ``POST /credentials/<id>/edc/europass``: "send to my Europass" (EDC Issuer), with consent.

Administrators:

* ``/admin/issuers/<id>/edc``: the awarding body's type of quality assurance (the EDC's
  machine-readable Accreditation), how it seals (own certificate, EDC Issuer, unsealed),
  whether its EDCs pass the shapes, and its seals that failed;
* ``/admin/edc``: every failed or waiting seal (with a retry), and the trust anchors that
  verification checks seal certificates against.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, URL

from plugin.storage.models import EdcSeal, EdcTrustAnchor, IssuedCredential, Issuer
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.extensions import tr

bp = Blueprint("edc", __name__)
CERT_MAX_BYTES = 256 * 1024


# ------------------------------------------------------------------------ learner downloads
def _learner_row(public_id: str) -> IssuedCredential:
    from plugin.web.learner.routes import own_credential, require_learner
    return own_credential(public_id, require_learner())


def _attachment(body: bytes, mime: str, filename: str) -> Response:
    resp = Response(body, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _stem(row: IssuedCredential) -> str:
    from plugin.web.learner.routes import _filename
    return _filename(row, "x")[:-2]


def _export_or_409(row: IssuedCredential, **kwargs) -> dict:
    from plugin.issuance.edc import EdcError, export
    try:
        return export(db(), services(), row, **kwargs)
    except EdcError as exc:
        reasons = "; ".join(tr(p) for p in exc.problems) or str(exc)
        abort(409, description=_("The European Digital Credential of this credential does not pass the EDC "
                                 "checks, so it is not offered: %(why)s", why=reasons))


def _current(row: IssuedCredential) -> IssuedCredential:
    """An EDC carries no revocation status of its own: only a current credential gets one."""
    if row.status not in ("active", "suspended"):
        abort(409, description=_("This credential is no longer valid (%(status)s): its European Digital Credential "
                                 "is not offered.", status=row.status))
    return row


@bp.get("/credentials/<public_id>/edc")
def download(public_id: str):
    row = _current(_learner_row(public_id))
    document = _export_or_409(row)
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return _attachment(body, "application/ld+json", f"{_stem(row)}.edc.json")


@bp.get("/credentials/<public_id>/edc/sealed")
def download_sealed(public_id: str):
    from plugin.issuance import edc_sealing
    from plugin.issuance.edc import EdcError
    row = _current(_learner_row(public_id))
    try:
        text = edc_sealing.sealed_document(db(), services(), row)
    except (EdcError, edc_sealing.SealConfigError) as exc:
        abort(409, description=_("The European Digital Credential cannot be sealed: %(why)s",
                                 why=tr(exc.args[0]) if exc.args else str(exc)))
    if text is None:
        abort(404, description=_("This credential has no sealed European Digital Credential (yet)."))
    db().commit()
    return _attachment(text.encode("utf-8"), "application/json", f"{_stem(row)}.edc.jades.json")


class EuropassForm(FlaskForm):
    launch = HiddenField()
    access = HiddenField()
    address = StringField(_l("E-mail address of your Europass account"),
                          validators=[DataRequired(), Email(), Length(max=320)])
    consent = BooleanField(_l("I agree that this credential, with my name and its details, is sent to the Europass "
                              "account of this address by my awarding body's EDC Issuer."),
                           validators=[DataRequired(message=_l("Please confirm to send your credential."))])


@bp.post("/credentials/<public_id>/edc/europass")
def europass(public_id: str):
    from plugin.issuance import edc_sealing
    from plugin.web.learner.routes import keep
    row = _learner_row(public_id)
    if row.status != "active":
        abort(409, description=_("Only a valid credential can be sent to Europass."))
    form = EuropassForm()
    if not form.validate():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(keep("learner.credential", public_id=row.public_id)), 303
    try:
        edc_sealing.request_europass(db(), services(), row, form.address.data.strip())
    except edc_sealing.SealConfigError as exc:
        abort(409, description=tr(exc.args[0]))
    db().commit()
    flash(_("Your credential is being sent to your Europass account; this page shows when it is done."), "success")
    return redirect(keep("learner.credential", public_id=row.public_id)), 303


@bp.app_context_processor
def _edc_helpers():
    def edc_info(row: IssuedCredential) -> dict:
        """What the learner's page says about the EDC of ``row``."""
        from plugin.issuance import edc_sealing
        issuer = db().get(Issuer, row.issuer_id)
        state = edc_sealing.state(db(), row)
        mode = edc_sealing.mode_of(db(), issuer)
        sealed = mode == "own" or (state is not None and state.status == "sealed")
        form = None
        if mode == "edc_issuer" and row.status == "active" and (state is None or state.europass_status in ("none", "failed")):
            form = EuropassForm(formdata=None, launch=request.values.get("launch"),
                                access=request.values.get("access"), address=row.learner.email or "")
        return {"mode": mode, "state": state, "sealed": sealed, "europass_form": form}
    return {"edc_info": edc_info}


# ------------------------------------------------------------------------ admin
def _admin_issuer(issuer_id: int) -> Issuer:
    from plugin.web.admin.issuers import _get_issuer
    return _get_issuer(issuer_id)


@bp.before_request
def _guard():
    if request.path.startswith("/admin/"):
        actor = current_actor()
        if actor is None:
            abort(401, description=_("Sign in as an administrator, or open the tool from your platform as an "
                                     "administrator."))
        if not actor.has("admin"):
            abort(403, description=_("Only administrators can open the admin area."))
    return None


QA_CHOICES = [("", _l("Not set")), ("institutional-qa", _l("Institutional quality assurance")),
              ("programme-qa", _l("Programme quality assurance")),
              ("institutional-licence", _l("Institutional licence")), ("programme-licence", _l("Programme licence"))]


class QaForm(FlaskForm):
    launch = HiddenField()
    qa_type = SelectField(_l("Type of quality assurance"), choices=QA_CHOICES, validators=[Optional()],
                          description=_l("From the Europass list of accreditation types: the European Digital "
                                         "Credential states it as data (Annex I element 11)."))
    qa_agency = StringField(_l("Quality-assuring authority"), validators=[Optional(), Length(max=255)],
                            description=_l("Who assures or accredits, e.g. “Hcéres”. Leave empty when the awarding "
                                           "body assures its own quality."))
    qa_agency_country = SelectField(_l("Country of the authority"), validators=[Optional()])
    qa_agency_url = URLField(_l("Web site of the authority"), validators=[Optional(), URL(require_tld=False)])


class SealForm(FlaskForm):
    launch = HiddenField()
    mode = RadioField(_l("How European Digital Credentials are sealed"), validators=[DataRequired()],
                      choices=[("unsealed", _l("Not sealed: export only (clearly labelled as not sealed)")),
                               ("own", _l("With our own electronic seal (certificate and key uploaded here)")),
                               ("edc_issuer", _l("By our EDC Issuer (the institution's European Digital "
                                                 "Credentials issuer)"))])
    certificate = FileField(_l("Seal certificate: PKCS#12 (.p12, .pfx) or PEM certificate chain"))
    key = FileField(_l("Private key (PEM), if not in the file above"))
    password = PasswordField(_l("Password of the PKCS#12 file or of the key"), validators=[Optional()])
    edc_issuer_url = URLField(_l("Address of the EDC Issuer"), validators=[Optional(), URL(require_tld=False)],
                              description=_l("e.g. https://edci.example.edu; the tool calls "
                                             "/api/v1/public/credentials/seal under it."))
    edc_issuer_password = PasswordField(_l("Password of the EDC Issuer's seal"), validators=[Optional()],
                                        description=_l("Kept encrypted; leave empty to keep the current one."))
    edc_issuer_token = PasswordField(_l("Access token (optional)"), validators=[Optional()],
                                     description=_l("Sent as a bearer token; leave empty to keep the current one."))


def keep_edc_fields(issuer: Issuer | None, profile):
    """The issuer form does not edit the quality-assurance data of the EDC: keep it."""
    if issuer is None or profile is None:
        return profile
    old = issuer.profile or {}
    return profile.model_copy(update={k: old.get(k) for k in ("qa_type", "qa_agency", "qa_agency_country",
                                                              "qa_agency_url") if old.get(k) is not None})


def _readiness(issuer: Issuer) -> list:
    """Problems of this body's EDCs, checked on its most recent definition (or none)."""
    from plugin.domain.definition import DefinitionData
    from plugin.domain.issuer import IssuerProfile
    from plugin.issuance.edc import readiness_problems
    from plugin.storage.models import CredentialDefinition, DefinitionVersion
    version = db().scalars(select(DefinitionVersion).join(CredentialDefinition)
                           .where(CredentialDefinition.issuer_id == issuer.id)
                           .order_by(DefinitionVersion.created_at.desc(), DefinitionVersion.id.desc())).first()
    profile = IssuerProfile.from_json(issuer.profile)
    if version is None:
        from plugin.issuance.demo_data import demo_definition
        data = demo_definition()
    else:
        data = DefinitionData.from_json(version.data)
        if data.missing_elements():
            return []
    return [tr(p) for p in readiness_problems(profile, data)]


def _certificate_info(cfg) -> dict | None:
    if cfg is None or not cfg.certificate_chain:
        return None
    from cryptography import x509

    from plugin.signing.jades import organization_identifier, qc_claims
    chain = x509.load_pem_x509_certificates(cfg.certificate_chain.encode("ascii"))
    leaf = chain[0]
    qualified, eseal = qc_claims(leaf)
    return {"subject": leaf.subject.rfc4514_string(), "issuer": leaf.issuer.rfc4514_string(),
            "not_after": leaf.not_valid_after_utc, "sha256": cfg.certificate_sha256,
            "organization_identifier": organization_identifier(leaf), "qualified": qualified and eseal,
            "chain_length": len(chain)}


def _render_issuer(issuer: Issuer, qa_form: QaForm, seal_form: SealForm, status: int = 200):
    from plugin.issuance import edc_sealing
    from plugin.web.admin.issuers import _country_choices
    qa_form.qa_agency_country.choices = _country_choices()
    cfg = edc_sealing.config(db(), issuer)
    seals = db().scalars(select(EdcSeal).join(IssuedCredential, IssuedCredential.id == EdcSeal.credential_id)
                         .where(IssuedCredential.issuer_id == issuer.id)
                         .order_by(EdcSeal.updated_at.desc()).limit(50)).all()
    return render_template("admin/edc_issuer.html", issuer=issuer, qa_form=qa_form, seal_form=seal_form, cfg=cfg,
                           certificate=_certificate_info(cfg), problems=_readiness(issuer), seals=seals), status


@bp.get("/admin/issuers/<int:issuer_id>/edc")
@require_roles("admin")
def admin_issuer(issuer_id: int):
    from plugin.issuance import edc_sealing
    issuer = _admin_issuer(issuer_id)
    p = issuer.profile or {}
    launch = request.args.get("launch", "")
    qa_form = QaForm(formdata=None, launch=launch, qa_type=p.get("qa_type") or "", qa_agency=p.get("qa_agency"),
                     qa_agency_country=p.get("qa_agency_country") or "", qa_agency_url=p.get("qa_agency_url"))
    cfg = edc_sealing.config(db(), issuer)
    seal_form = SealForm(formdata=None, launch=launch, mode=cfg.mode if cfg else "unsealed",
                         edc_issuer_url=cfg.edc_issuer_url if cfg else None)
    return _render_issuer(issuer, qa_form, seal_form)


@bp.post("/admin/issuers/<int:issuer_id>/edc/quality")
@require_roles("admin")
def admin_quality(issuer_id: int):
    from pydantic import ValidationError as PydanticError

    from plugin.domain.issuer import IssuerProfile
    from plugin.issuance.service import update_issuer_profile
    from plugin.web.admin.issuers import _country_choices
    issuer = _admin_issuer(issuer_id)
    qa_form = QaForm()
    qa_form.qa_agency_country.choices = _country_choices()
    seal_form = SealForm(formdata=None, launch=qa_form.launch.data)
    if not qa_form.validate():
        return _render_issuer(issuer, qa_form, seal_form, 400)
    raw = dict(issuer.profile or {})
    raw.update(qa_type=qa_form.qa_type.data or None, qa_agency=(qa_form.qa_agency.data or "").strip(),
               qa_agency_country=qa_form.qa_agency_country.data or "", qa_agency_url=(qa_form.qa_agency_url.data or "").strip())
    try:
        profile = IssuerProfile.model_validate(raw)
    except PydanticError as exc:
        qa_form.qa_type.errors = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
        return _render_issuer(issuer, qa_form, seal_form, 400)
    update_issuer_profile(db(), issuer, profile, actor=current_actor().label)
    db().commit()
    flash(_("Quality assurance saved."), "ok")
    return redirect(launch_url("edc.admin_issuer", issuer_id=issuer.id)), 303


def _read_upload(storage) -> bytes | None:
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.read(CERT_MAX_BYTES + 1)
    if len(data) > CERT_MAX_BYTES:
        raise ValueError(_("The file is larger than 256 KB: it is not a certificate or key file."))
    return data


@bp.post("/admin/issuers/<int:issuer_id>/edc/seal")
@require_roles("admin")
def admin_seal(issuer_id: int):
    from plugin.issuance import edc_sealing
    issuer = _admin_issuer(issuer_id)
    seal_form = SealForm()
    qa_form = QaForm(formdata=None, launch=seal_form.launch.data, **{k: (issuer.profile or {}).get(k) for k in (
        "qa_type", "qa_agency", "qa_agency_country", "qa_agency_url")})
    if not seal_form.validate():
        return _render_issuer(issuer, qa_form, seal_form, 400)
    actor = current_actor().label
    mode = seal_form.mode.data
    try:
        if mode == "own":
            try:
                cert_data, key_data = _read_upload(seal_form.certificate.data), _read_upload(seal_form.key.data)
            except ValueError as exc:
                seal_form.certificate.errors = [str(exc)]
                return _render_issuer(issuer, qa_form, seal_form, 400)
            cfg = edc_sealing.config(db(), issuer)
            if cert_data is None and cfg is not None and cfg.private_sealed:
                cfg.mode = "own"  # keep the certificate already uploaded
                cfg.updated_by = actor
            else:
                key, chain = edc_sealing.load_seal_material(cert_data or b"", seal_form.password.data or None,
                                                            key_data)
                edc_sealing.set_own_seal(db(), services(), issuer, key, chain, actor=actor)
        elif mode == "edc_issuer":
            cfg = edc_sealing.config(db(), issuer)
            url = (seal_form.edc_issuer_url.data or "").strip()
            if not url:
                seal_form.edc_issuer_url.errors = [_("Give the address of your EDC Issuer.")]
                return _render_issuer(issuer, qa_form, seal_form, 400)
            if not seal_form.edc_issuer_password.data and not (cfg and cfg.edc_issuer_password_sealed):
                seal_form.edc_issuer_password.errors = [_("Give the password of the EDC Issuer's seal.")]
                return _render_issuer(issuer, qa_form, seal_form, 400)
            edc_sealing.set_edc_issuer(db(), services(), issuer, url=url,
                                       password=seal_form.edc_issuer_password.data or None,
                                       token=seal_form.edc_issuer_token.data or None, actor=actor)
        else:
            edc_sealing.set_unsealed(db(), issuer, actor=actor)
    except edc_sealing.SealConfigError as exc:
        db().rollback()
        target = seal_form.certificate if mode == "own" else seal_form.edc_issuer_url
        target.errors = [tr(exc.args[0])]
        return _render_issuer(issuer, qa_form, seal_form, 400)
    db().commit()
    flash(_("Sealing saved."), "ok")
    return redirect(launch_url("edc.admin_issuer", issuer_id=issuer.id)), 303


class TrustForm(FlaskForm):
    launch = HiddenField()
    name = StringField(_l("Name"), validators=[Optional(), Length(max=255)],
                       description=_l("e.g. “Qualified seal CA of …”; the certificate's subject when empty."))
    certificate = FileField(_l("CA certificate (PEM or DER)"))


class ActionForm(FlaskForm):
    launch = HiddenField()


def _visible_issuer_ids() -> set[int]:
    from plugin.web.admin.issuers import _issuers_query
    from plugin.web.admin import platform_scope
    return {i.id for i in _issuers_query(platform_scope())}


def _render_overview(trust_form: TrustForm, status: int = 200):
    from plugin.issuance import edc_sealing
    visible = _visible_issuer_ids()
    rows = [r for r in edc_sealing.problems_for_admin(db()) if r.credential.issuer_id in visible]
    anchors = db().scalars(select(EdcTrustAnchor).order_by(EdcTrustAnchor.id)).all()
    return render_template("admin/edc.html", seals=rows, anchors=anchors, trust_form=trust_form,
                           action_form=ActionForm(formdata=None, launch=trust_form.launch.data),
                           can_edit_trust=current_actor().kind == "admin"), status


@bp.get("/admin/edc")
@require_roles("admin")
def admin_overview():
    return _render_overview(TrustForm(formdata=None, launch=request.args.get("launch", "")))


@bp.post("/admin/edc/trust")
@require_roles("admin")
def admin_trust_add():
    from plugin.issuance import edc_sealing
    form = TrustForm()
    if current_actor().kind != "admin":
        abort(403, description=_("Only a local administrator can change the trust anchors (they apply to every platform)."))
    if not form.validate():
        return _render_overview(form, 400)
    try:
        data = _read_upload(form.certificate.data)
    except ValueError as exc:
        form.certificate.errors = [str(exc)]
        return _render_overview(form, 400)
    if not data:
        form.certificate.errors = [_("Choose the certificate file.")]
        return _render_overview(form, 400)
    try:
        edc_sealing.add_trust_anchor(db(), data, name=(form.name.data or "").strip(), actor=current_actor().label)
    except edc_sealing.SealConfigError as exc:
        form.certificate.errors = [tr(exc.args[0])]
        return _render_overview(form, 400)
    db().commit()
    flash(_("Trust anchor added."), "ok")
    return redirect(launch_url("edc.admin_overview")), 303


@bp.post("/admin/edc/trust/<int:anchor_id>/remove")
@require_roles("admin")
def admin_trust_remove(anchor_id: int):
    from plugin.issuance.service import audit
    if current_actor().kind != "admin":
        abort(403, description=_("Only a local administrator can change the trust anchors (they apply to every platform)."))
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    anchor = db().get(EdcTrustAnchor, anchor_id)
    if anchor is None:
        abort(404, description=_("No such trust anchor."))
    audit(db(), current_actor().label, "edc.trust.remove", "trust_anchor", anchor.sha256)
    db().delete(anchor)
    db().commit()
    flash(_("Trust anchor removed."), "ok")
    return redirect(launch_url("edc.admin_overview")), 303


@bp.post("/admin/edc/seals/<int:seal_id>/retry")
@require_roles("admin")
def admin_retry(seal_id: int):
    from plugin.issuance import edc_sealing
    if not ActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    seal_row = db().get(EdcSeal, seal_id)
    if seal_row is None or seal_row.credential.issuer_id not in _visible_issuer_ids():
        abort(404, description=_("No such seal."))
    edc_sealing.retry(db(), services(), seal_row, actor=current_actor().label)
    db().commit()
    flash(_("Sealing queued again."), "ok")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url)
                    else launch_url("edc.admin_overview")), 303
