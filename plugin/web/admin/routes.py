"""The admin area: issuers and their keys, platforms and their bridges, the audit log.

Reached by an LTI administrator launch (``?launch=``; scoped to that platform) or by a
local account created with ``microcred admin create`` (``/admin/login``; sees everything).
Every view requires the ``admin`` role; a blueprint-wide guard repeats the check so a
view added later without its decorator is still closed.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import (BooleanField, HiddenField, PasswordField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, URLField)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, URL, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from plugin.paths import DATA_DIR
from plugin.storage.models import (AdminUser, AuditLog, Course, Deployment, Issuer, IssuerCourse, IssuerKey,
                                   IssuerPlatform, Platform)
from plugin.web.audit import record
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.ratelimits import login_limit
from plugin.web.formatting import install as install_helpers
from plugin.web.admin.issuer_fields import linkedin_organization_field

bp = Blueprint("admin", __name__, url_prefix="/admin")
PUBLIC_ENDPOINTS = {"admin.login"}
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
LOGO_MAX_BYTES = 512 * 1024


@bp.before_request
def _guard():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    actor = current_actor()
    if actor is None:
        abort(401, description=_("Sign in as an administrator, or open the tool from your platform as an administrator."))
    if not actor.has("admin"):
        abort(403, description=_("Only administrators can open the admin area."))
    return None


install_helpers(bp)


def platform_scope() -> int | None:
    """None for a local admin (every platform); the launch's platform for an LTI administrator."""
    actor = current_actor()
    if actor is not None and actor.kind == "lti":
        return actor.platform_id or -1
    return None


# --------------------------------------------------------------------------- login
class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=150)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@login_limit  # failed attempts only (a success redirects); MICROCRED_RATELIMIT_LOGIN
def login():
    from plugin.cli.admin import verify_password
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = db().scalar(select(AdminUser).where(AdminUser.username == form.username.data.strip()))
        if user is not None and verify_password(user.password_hash, form.password.data):
            session.clear()
            session["admin_username"] = user.username
            user.last_login_at = datetime.now(timezone.utc)
            db().add(AuditLog(actor=f"admin:{user.username}", action="admin.login",
                              target_type="admin_user", target_id=user.username))
            db().commit()
            return redirect(url_for("admin.home"))
        form.password.errors.append(_("Unknown username or wrong password."))
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
@require_roles("admin")
def logout():
    session.pop("admin_username", None)
    return redirect(url_for("admin.login"))


# --------------------------------------------------------------------------- overview
@bp.get("/")
@require_roles("admin")
def home():
    from plugin.web.admin.audit_log import count_for
    scope = platform_scope()
    counts = {
        "issuers": len(_issuers_query(scope)),
        "platforms": db().scalar(select(func.count(Platform.id)).where(
            *( [Platform.id == scope] if scope is not None else []))),
        "audit": count_for(scope),  # what the audit page lists, in the same scope
    }
    from plugin.web.admin.issuance import overview
    return render_template("admin/home.html", counts=counts, issuance=overview(scope))


# --------------------------------------------------------------------------- issuers
def _country_choices():
    from flask_babel import get_locale
    from babel import Locale
    locale = get_locale() or Locale("en")
    names = Locale.parse(str(locale)).territories
    codes = sorted((c for c in names if re.fullmatch(r"[A-Z]{2}", c)), key=lambda c: names[c])
    return [("", _("Choose a country"))] + [(c, f"{names[c]} ({c})") for c in codes]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _parse_identifiers(text: str) -> list[dict]:
    """"SIREN: 130 029 747" lines -> LegalIdentifier dicts; unknown schemes become OTHER with a label."""
    from plugin.domain.issuer import IDENTIFIER_SCHEMES
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        scheme, _sep, value = line.partition(":")
        key = scheme.strip().upper()
        if key in IDENTIFIER_SCHEMES:
            out.append({"scheme": key, "value": value.strip()})
        else:
            out.append({"scheme": "OTHER", "value": value.strip(), "label": scheme.strip()})
    return out


def _legal_identifiers(form, field):
    for line in (field.data or "").splitlines():
        if line.strip() and (":" not in line or not line.partition(":")[2].strip() or not line.partition(":")[0].strip()):
            raise ValidationError(_("Write one identifier per line as “scheme: value”, e.g. “SIREN: 130 025 265”."))


class IssuerForm(FlaskForm):
    launch = HiddenField()
    name = StringField(_l("Name of the awarding body"), validators=[DataRequired(), Length(max=255)],
                       description=_l("As it must appear on every credential, e.g. “Université de Lille”."))
    slug = StringField(_l("Short identifier"), validators=[DataRequired(), Length(max=64),
                       Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and dashes."))],
                       description=_l("Used in the issuer's web address (did:web). Cannot change once keys exist."))
    url = URLField(_l("Web site"), validators=[DataRequired(), URL(require_tld=False)])
    email = StringField(_l("Contact e-mail"), validators=[Optional(), Email()])
    linkedin_organization_id = linkedin_organization_field()
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Choose the issuer's country."))],
                          description=_l("Annex I element 3: the country of the awarding body."))
    region = StringField(_l("Region"), validators=[Optional(), Length(max=255)],
                         description=_l("Optional, e.g. “Hauts-de-France”."))
    legal_identifiers = TextAreaField(
        _l("Legal identifiers"), validators=[Optional(), _legal_identifiers],
        description=_l("One per line, “scheme: value” (e.g. “SIREN: 130 025 265”, “VAT: FR12345678901”). "
                       "Verifiers use them to check the legal identity of the issuer."))
    quality_assurance = TextAreaField(
        _l("Quality assurance"), validators=[DataRequired(), Length(max=2000)],
        description=_l("Annex I element 11: how the quality of this body's micro-credentials is assured "
                       "(e.g. “Internal QA, Hcéres external evaluation”)."))
    accreditation = TextAreaField(_l("Accreditation"), validators=[Optional(), Length(max=2000)],
                                  description=_l("Optional: who accredits this body, and for what."))
    platforms = MultiCheckboxField(_l("Platforms that may use this issuer"), coerce=int, validate_choice=False,
                                   description=_l("Instructors on these platforms can choose this issuer."))
    courses = MultiCheckboxField(
        _l("Courses that may use this issuer"), coerce=int, validate_choice=False,
        description=_l("Leave a platform's courses all unticked to let every course of that platform choose this "
                       "issuer; tick some to offer it only to those courses."))
    logo = FileField(_l("Logo (PNG or JPEG, up to 512 KB)"))


def _issuers_query(scope):
    q = select(Issuer).order_by(Issuer.name)
    if scope is not None:
        q = q.join(IssuerPlatform, IssuerPlatform.issuer_id == Issuer.id).where(IssuerPlatform.platform_id == scope)
    return db().scalars(q).unique().all()


def _get_issuer(issuer_id: int) -> Issuer:
    issuer = db().get(Issuer, issuer_id)
    if issuer is None or issuer not in _issuers_query(platform_scope()):
        abort(404, description=_("No such issuer."))
    return issuer


def _platform_choices():
    scope = platform_scope()
    q = select(Platform).order_by(Platform.name, Platform.id)
    if scope is not None:
        q = q.where(Platform.id == scope)
    return [(p.id, f"{p.name or p.issuer} ({p.client_id})") for p in db().scalars(q)]


def _course_choices() -> list[tuple[int, str, int]]:
    """(course id, label, platform id) of the courses this admin may restrict an issuer to."""
    scope = platform_scope()
    q = (select(Course, Platform).join(Platform, Platform.id == Course.platform_id)
         .order_by(Platform.name, Platform.id, Course.title, Course.context_id))
    if scope is not None:
        q = q.where(Course.platform_id == scope)
    return [(c.id, f"{p.name or p.issuer}: {c.title or c.context_id} ({c.context_id})", p.id)
            for c, p in db().execute(q)]


def _check_logo(storage):
    """Return (bytes, mime) of an uploaded logo, or raise ValidationError."""
    data = storage.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo is larger than 512 KB."))
    for mime, magic in LOGO_TYPES.items():
        if data.startswith(magic):
            try:
                from io import BytesIO
                from PIL import Image
                with Image.open(BytesIO(data)) as im:
                    im.verify()
            except Exception:
                raise ValidationError(_("The logo file is damaged or not an image.")) from None
            return data, mime
    raise ValidationError(_("The logo must be a PNG or JPEG image."))


def _profile_from_form(form: IssuerForm, logo_data_uri: str | None):
    """The domain model (IssuerProfile) decides; its errors come back as ValueError."""
    from pydantic import ValidationError as PydanticError
    from plugin.domain.issuer import IssuerProfile
    raw = {
        "legal_name": form.name.data.strip(), "url": form.url.data.strip(), "email": (form.email.data or "").strip(),
        "description": (form.description.data or "").strip(), "country_code": form.country.data,
        "region": (form.region.data or "").strip(), "legal_identifiers": _parse_identifiers(form.legal_identifiers.data),
        "quality_assurance": form.quality_assurance.data.strip(),
        "accreditation": (form.accreditation.data or "").strip(), "logo": logo_data_uri,
        "linkedin_organization_id": form.linkedin_organization_id.data or "",
    }
    try:
        return IssuerProfile.model_validate(raw)
    except PydanticError as exc:
        fields = {"legal_name": form.name, "url": form.url, "email": form.email, "country_code": form.country,
                  "region": form.region, "legal_identifiers": form.legal_identifiers,
                  "quality_assurance": form.quality_assurance, "accreditation": form.accreditation,
                  "logo": form.logo, "description": form.description,
                  "linkedin_organization_id": form.linkedin_organization_id}
        for err in exc.errors():
            target = fields.get(err["loc"][0] if err["loc"] else "", form.name)
            target.errors.append(err["msg"].removeprefix("Value error, "))
        return None


@bp.get("/issuers")
@require_roles("admin")
def issuers():
    return render_template("admin/issuers.html", issuers=_issuers_query(platform_scope()))


@bp.route("/issuers/new", methods=["GET", "POST"])
@require_roles("admin")
def issuer_new():
    return _issuer_form(None)


@bp.route("/issuers/<int:issuer_id>", methods=["GET", "POST"])
@require_roles("admin")
def issuer_edit(issuer_id: int):
    return _issuer_form(_get_issuer(issuer_id))


def _issuer_form(issuer: Issuer | None):
    form = IssuerForm()
    form.country.choices = _country_choices()
    form.platforms.choices = _platform_choices()
    course_rows = _course_choices()
    form.courses.choices = [(cid, label) for cid, label, _pid in course_rows]
    course_platform = {cid: pid for cid, _label, pid in course_rows}
    scope = platform_scope()
    if issuer is not None:
        form.slug.render_kw = {"readonly": True}
    if request.method == "GET":
        form.launch.data = request.args.get("launch", "")
        if issuer is not None:
            p = issuer.profile or {}
            form.name.data, form.slug.data = issuer.name, issuer.slug
            form.url.data, form.email.data = p.get("url"), p.get("email")
            form.linkedin_organization_id.data = p.get("linkedin_organization_id")
            form.description.data = p.get("description")
            form.country.data, form.region.data = p.get("country_code"), p.get("region")
            form.legal_identifiers.data = "\n".join(f"{i.get('label') or i['scheme']}: {i['value']}"
                                                     for i in p.get("legal_identifiers", []))
            form.quality_assurance.data, form.accreditation.data = p.get("quality_assurance"), p.get("accreditation")
            form.platforms.data = [r.platform_id for r in db().scalars(
                select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id))]
            form.courses.data = [r.course_id for r in db().scalars(
                select(IssuerCourse).where(IssuerCourse.issuer_id == issuer.id)) if r.course_id in course_platform]
        elif scope is not None:
            form.platforms.data = [scope]
    status = 200
    if request.method == "POST":
        logo = None
        ok = form.validate()
        wanted_courses = {int(c) for c in (form.courses.data or []) if int(c) in course_platform}
        if ok:
            chosen_platforms = {int(p) for p in (form.platforms.data or [])} | ({scope} if scope is not None else set())
            stray = sorted(label for cid, label in form.courses.choices
                           if cid in wanted_courses and course_platform[cid] not in chosen_platforms)
            if stray:
                form.courses.errors.append(_("These courses are on a platform this issuer is not allowed on; "
                                             "allow the platform too or untick them: %(courses)s",
                                             courses="; ".join(stray)))
                ok = False
        if ok and form.logo.data and getattr(form.logo.data, "filename", ""):
            try:
                logo = _check_logo(form.logo.data)
            except ValidationError as exc:
                form.logo.errors = [str(exc)]
                ok = False
        if ok:
            slug_owner = db().scalar(select(Issuer).where(Issuer.slug == form.slug.data))
            if slug_owner is not None and slug_owner is not issuer:
                form.slug.errors.append(_("Another issuer already uses this identifier."))
                ok = False
            elif issuer is not None and issuer.slug != form.slug.data:
                form.slug.errors.append(_("This issuer already has keys: its identifier is part of "
                                          "the credentials it signed and cannot change."))
                ok = False
        profile = None
        if ok:
            import base64
            if logo is not None:
                data_uri = f"data:{logo[1]};base64," + base64.b64encode(logo[0]).decode()
            else:
                data_uri = (issuer.profile or {}).get("logo") if issuer is not None else None
            from plugin.web.learner.edc import keep_edc_fields
            profile = keep_edc_fields(issuer, _profile_from_form(form, data_uri))
            ok = profile is not None
        if ok:
            from plugin.issuance.service import IssuanceError, create_issuer, update_issuer_profile
            actor = current_actor().label
            created = issuer is None
            try:
                if created:
                    issuer = create_issuer(db(), services(), form.slug.data, profile, actor=actor)
                else:
                    issuer.slug = form.slug.data
                    update_issuer_profile(db(), issuer, profile, actor=actor)
            except IssuanceError as exc:
                form.name.errors.append(str(exc))
                ok = False
        if ok:
            if logo is not None:
                issuer.logo, issuer.logo_mime = logo
            allowed = {pid for pid, _label in form.platforms.choices}
            wanted = {int(p) for p in (form.platforms.data or []) if int(p) in allowed}
            if scope is not None:
                wanted.add(scope)  # an LTI admin cannot hide an issuer from their own platform
            current = {r.platform_id: r for r in db().scalars(
                select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id))}
            for pid in wanted - set(current):
                db().add(IssuerPlatform(issuer_id=issuer.id, platform_id=pid))
            for pid in set(current) - wanted:
                if pid in allowed:
                    db().delete(current[pid])
            record("issuer.platforms", "issuer", issuer.slug, platforms=sorted(wanted), logo_changed=logo is not None)
            current_courses = {r.course_id: r for r in db().scalars(
                select(IssuerCourse).where(IssuerCourse.issuer_id == issuer.id))}
            for cid in wanted_courses - set(current_courses):
                db().add(IssuerCourse(issuer_id=issuer.id, course_id=cid))
            for cid in set(current_courses) - wanted_courses:
                if cid in course_platform:  # a scoped admin never touches another platform's courses
                    db().delete(current_courses[cid])
            if wanted_courses != {c for c in current_courses if c in course_platform}:
                record("issuer.courses", "issuer", issuer.slug, courses=sorted(wanted_courses))
            db().commit()
            flash(_("Issuer saved."), "ok")
            return redirect(launch_url("admin.issuer_keys", issuer_id=issuer.id))
        db().rollback()
        status = 400
    return render_template("admin/issuer_form.html", form=form, issuer=issuer), status


@bp.get("/issuers/<int:issuer_id>/logo")
@require_roles("admin")
def issuer_logo(issuer_id: int):
    issuer = _get_issuer(issuer_id)
    if not issuer.logo:
        abort(404, description=_("This issuer has no logo."))
    return current_app.response_class(issuer.logo, mimetype=issuer.logo_mime or "application/octet-stream")


class KeyActionForm(FlaskForm):
    launch = HiddenField()


@bp.get("/issuers/<int:issuer_id>/keys")
@require_roles("admin")
def issuer_keys(issuer_id: int):
    issuer = _get_issuer(issuer_id)
    document, error = _issuer_documents(issuer)
    form = KeyActionForm(launch=request.args.get("launch", ""))
    return render_template("admin/issuer_keys.html", issuer=issuer, keys=list(issuer.keys),
                           document=document, document_error=error, form=form)


def _issuer_documents(issuer: Issuer):
    """The did:web document and the issuer profile verifiers read, exactly as published."""
    import json
    from plugin.issuance.service import did_document_for, issuer_profile_document, issuer_profile_url
    from plugin.signing.did import did_web_url
    from plugin.issuance.keys import issuer_identifier
    try:
        did = issuer_identifier(services(), issuer)
        docs = {
            f"{did} ({did_web_url(did)})": did_document_for(db(), services(), issuer),
            issuer_profile_url(services(), issuer): issuer_profile_document(db(), services(), issuer),
        }
    except Exception as exc:  # shown to the admin, not a 500: the page must still let them rotate
        return None, f"{type(exc).__name__}: {exc}"
    return {name: json.dumps(doc, indent=2, ensure_ascii=False) for name, doc in docs.items()}, None


@bp.post("/issuers/<int:issuer_id>/keys/rotate")
@require_roles("admin")
def issuer_rotate(issuer_id: int):
    issuer = _get_issuer(issuer_id)
    form = KeyActionForm()
    if not form.validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    from plugin.issuance.service import rotate_keys
    had_keys = any(k.retired_at is None for k in issuer.keys)
    rotate_keys(db(), services(), issuer, actor=current_actor().label)  # audited by the engine
    db().commit()
    flash(_("New signing keys are active. Credentials signed with the previous keys still verify.")
          if had_keys else _("Signing keys generated."), "ok")
    return redirect(launch_url("admin.issuer_keys", issuer_id=issuer.id))


# --------------------------------------------------------------------------- platforms
class PlatformForm(FlaskForm):
    launch = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)],
                       description=_l("How you call this platform, e.g. “Moodle of the Faculty of Law”."))
    product = SelectField(_l("Product"), choices=[("moodle", "Moodle"), ("openedx", "Open edX"),
                                                  ("generic", _l("Other LTI 1.3 platform")), ("sandbox", "Sandbox")])
    issuer = URLField(_l("Platform issuer (iss)"), validators=[DataRequired(), URL(require_tld=False), Length(max=512)],
                      description=_l("Moodle: the site root, e.g. https://moodle.example.edu"))
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=255)])
    auth_login_url = URLField(_l("Authentication request URL"), validators=[DataRequired(), URL(require_tld=False)],
                              description=_l("Moodle: https://…/mod/lti/auth.php"))
    auth_token_url = URLField(_l("Access token URL"), validators=[DataRequired(), URL(require_tld=False)],
                              description=_l("Moodle: https://…/mod/lti/token.php"))
    key_set_url = URLField(_l("Public keyset URL"), validators=[DataRequired(), URL(require_tld=False)],
                           description=_l("Moodle: https://…/mod/lti/certs.php"))
    deployment_ids = StringField(_l("Deployment ids"), validators=[Optional()],
                                 description=_l("Comma-separated. Open edX always uses “1”; Moodle: the tool type id."))


class BridgeForm(FlaskForm):
    launch = HiddenField()
    openedx_webhook_jwks_url = URLField(
        _l("Open edX plugin key: JWKS URL"), validators=[Optional(), URL(require_tld=False)],
        description=_l("Where the microcred Open edX plugin publishes the public key it signs course-passing events with."))
    openedx_webhook_key = TextAreaField(
        _l("…or the plugin's public key"), validators=[Optional(), Length(max=20000)],
        description=_l("PEM public key, JWK or JWKS. Never the private key."))
    openedx_api_url = URLField(_l("Open edX LMS URL"), validators=[Optional(), URL(require_tld=False)],
                               description=_l("For the grades API (catch-up sync), e.g. https://lms.example.edu"))
    openedx_client_id = StringField(_l("Open edX API client id"), validators=[Optional(), Length(max=255)])
    openedx_client_secret = PasswordField(_l("Open edX API client secret"), validators=[Optional()],
                                          description=_l("Leave empty to keep the stored one."))
    moodle_url = URLField(_l("Moodle site URL"), validators=[Optional(), URL(require_tld=False)])
    moodle_token = PasswordField(_l("Moodle web-service token"), validators=[Optional()],
                                 description=_l("Leave empty to keep the stored one."))
    forget_openedx = BooleanField(_l("Remove the Open edX settings"))
    forget_moodle = BooleanField(_l("Remove the Moodle settings"))


def _get_platform(platform_id: int) -> Platform:
    platform = db().get(Platform, platform_id)
    scope = platform_scope()
    if platform is None or (scope is not None and platform.id != scope):
        abort(404, description=_("No such platform."))
    return platform


@bp.get("/platforms")
@require_roles("admin")
def platforms():
    scope = platform_scope()
    q = select(Platform).order_by(Platform.name, Platform.id)
    if scope is not None:
        q = q.where(Platform.id == scope)
    tool_keys = None
    if scope is None:  # the tool's key serves every platform: only an instance admin manages it
        from lti.keys import active_key, previous_keys
        tool_keys = {"active": active_key(db(), services().secrets).kid,
                     "previous": [k.kid for k in previous_keys(db())],
                     "form": KeyActionForm(launch=request.args.get("launch", ""))}
        db().commit()  # the key made on first use
    return render_template("admin/platforms.html", platforms=db().scalars(q).all(), tool_keys=tool_keys)


def _tool_key_action() -> None:
    if platform_scope() is not None:
        abort(403, description=_("The tool's key serves every platform: only an administrator of the "
                                 "whole instance can change it."))
    if not KeyActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))


@bp.post("/tool-key/rotate")
@require_roles("admin")
def tool_key_rotate():
    """New LTI signing key; the replaced one stays in /lti/jwks until the next rotation or retirement."""
    from lti.keys import active_key, previous_keys, rotate
    _tool_key_action()
    old = active_key(db(), services().secrets).kid
    earlier = [k.kid for k in previous_keys(db())]
    new = rotate(db(), services().secrets)
    db().add(AuditLog(actor=current_actor().label, action="tool_key.rotate", target_type="tool_key",
                      target_id=new.kid, details={"replaced": old, "retired": earlier}))
    db().commit()
    flash(_("The tool signs with a new key (%(kid)s). The previous key stays published until the next "
            "rotation, so platforms that cached it keep working.", kid=new.kid), "ok")
    return redirect(launch_url("admin.platforms"))


@bp.post("/tool-key/retire")
@require_roles("admin")
def tool_key_retire():
    """Stop publishing the keys that no longer sign."""
    from lti.keys import retire_previous
    _tool_key_action()
    dropped = retire_previous(db())
    if dropped:
        db().add(AuditLog(actor=current_actor().label, action="tool_key.retire", target_type="tool_key",
                          target_id=dropped[0], details={"retired": dropped}))
    db().commit()
    flash(_("The previous keys are no longer published.") if dropped else _("No previous key was published."), "ok")
    return redirect(launch_url("admin.platforms"))


@bp.route("/platforms/new", methods=["GET", "POST"])
@require_roles("admin")
def platform_new():
    if platform_scope() is not None:
        abort(403, description=_("Register new platforms with a local administrator account."))
    form = PlatformForm()
    if request.method == "GET":
        form.launch.data = request.args.get("launch", "")
    status = 200
    if form.validate_on_submit():
        iss, client_id = form.issuer.data.strip().rstrip("/"), form.client_id.data.strip()
        if db().scalar(select(Platform).where(Platform.issuer == iss, Platform.client_id == client_id)):
            form.client_id.errors.append(_("This platform and client id are already registered."))
        else:
            platform = Platform(issuer=iss, client_id=client_id, name=form.name.data.strip(),
                                product=form.product.data, auth_login_url=form.auth_login_url.data.strip(),
                                auth_token_url=form.auth_token_url.data.strip(),
                                key_set_url=form.key_set_url.data.strip(), registration_kind="manual",
                                bridge_settings={})
            db().add(platform)
            db().flush()
            deployments = [d.strip() for d in (form.deployment_ids.data or "").split(",") if d.strip()]
            for dep in dict.fromkeys(deployments):
                db().add(Deployment(platform_id=platform.id, deployment_id=dep))
            record("platform.registered", "platform", platform.id, issuer=iss, client_id=client_id,
                   deployments=deployments)
            db().commit()
            flash(_("Platform registered."), "ok")
            return redirect(launch_url("admin.platform_edit", platform_id=platform.id))
    if request.method == "POST":
        status = 400
    return render_template("admin/platform_new.html", form=form), status


@bp.route("/platforms/<int:platform_id>", methods=["GET", "POST"])
@require_roles("admin")
def platform_edit(platform_id: int):
    platform = _get_platform(platform_id)
    form = BridgeForm()
    current = platform.bridge_settings or {}
    oe, moodle = dict(current.get("openedx") or {}), dict(current.get("moodle") or {})
    if request.method == "GET":
        form.launch.data = request.args.get("launch", "")
        form.openedx_webhook_jwks_url.data = oe.get("webhook_jwks_url")
        form.openedx_api_url.data, form.openedx_client_id.data = oe.get("api_url"), oe.get("client_id")
        form.moodle_url.data = moodle.get("url")
    status = 200
    if form.validate_on_submit():
        if _save_bridges(platform, form, oe, moodle):
            db().commit()
            flash(_("Bridge settings saved."), "ok")
            return redirect(launch_url("admin.platform_edit", platform_id=platform.id))
        db().rollback()
    if request.method == "POST":
        status = 400
    return _platform_page(platform, form, None), status


def _save_bridges(platform: Platform, form: BridgeForm, oe: dict, moodle: dict) -> bool:
    """Apply the form through plugin.evidence.bridge_config (which seals the secrets); False on an error."""
    from plugin.evidence import bridge_config as bc
    changed: list[str] = []

    def attempt(field, fn, *args):
        try:
            fn(*args)
            return True
        except bc.BridgeConfigError as exc:
            field.errors.append(exc.message)
            return False

    ok = True
    settings = dict(platform.bridge_settings or {})
    if form.forget_openedx.data:
        settings.pop("openedx", None)
        changed.append("openedx removed")
    if form.forget_moodle.data:
        settings.pop("moodle", None)
        changed.append("moodle removed")
    platform.bridge_settings = settings
    if not form.forget_openedx.data:
        url = (form.openedx_webhook_jwks_url.data or "").strip()
        if form.openedx_webhook_key.data and form.openedx_webhook_key.data.strip():
            ok &= attempt(form.openedx_webhook_key, bc.set_openedx_webhook_key, platform, form.openedx_webhook_key.data)
            changed.append("openedx webhook key")
        elif url and url != oe.get("webhook_jwks_url"):
            ok &= attempt(form.openedx_webhook_jwks_url, bc.set_openedx_webhook_jwks_url, platform, url)
            changed.append("openedx webhook jwks url")
        api_url = (form.openedx_api_url.data or "").strip()
        client_id = (form.openedx_client_id.data or "").strip()
        secret = form.openedx_client_secret.data or ""
        if api_url or client_id or secret:
            if secret:
                ok &= attempt(form.openedx_api_url, bc.set_openedx_api, services(), platform, api_url, client_id, secret)
                changed.append("openedx api (new secret)")
            elif oe.get("client_secret_sealed"):
                if (api_url, client_id) != (oe.get("api_url"), oe.get("client_id")):
                    ok &= attempt(form.openedx_api_url, _keep_secret, platform, "openedx",
                                  {"api_url": api_url, "client_id": client_id}, bc)
                    changed.append("openedx api")
            else:
                form.openedx_client_secret.errors.append(_("Give the API client's secret too."))
                ok = False
    if not form.forget_moodle.data:
        url = (form.moodle_url.data or "").strip()
        token = form.moodle_token.data or ""
        if token:
            ok &= attempt(form.moodle_url, bc.set_moodle, services(), platform, url, token)
            changed.append("moodle (new token)")
        elif url and moodle.get("token_sealed"):
            if url != moodle.get("url"):
                ok &= attempt(form.moodle_url, _keep_secret, platform, "moodle", {"url": url}, bc)
                changed.append("moodle url")
        elif url:
            form.moodle_token.errors.append(_("Give the web-service token too."))
            ok = False
    if ok:
        ok = _bridge_urls_are_public(platform, form, oe, moodle)
    if ok:
        record("platform.bridge_updated", "platform", platform.id, changed=changed)  # names only, never values
    return ok


def _bridge_urls_are_public(platform: Platform, form: BridgeForm, oe: dict, moodle: dict) -> bool:
    """Nobody points the tool's server-side calls at an internal address (anybody can register a
    platform through Dynamic Registration) unless MICROCRED_OUTBOUND_ALLOW lists it (plugin.net)."""
    new = platform.bridge_settings or {}
    checks = ((form.openedx_webhook_jwks_url, (new.get("openedx") or {}).get("webhook_jwks_url"), oe.get("webhook_jwks_url")),
              (form.openedx_api_url, (new.get("openedx") or {}).get("api_url"), oe.get("api_url")),
              (form.moodle_url, (new.get("moodle") or {}).get("url"), moodle.get("url")))
    ok = True
    for field, url, before in checks:
        if not url or url == before:
            continue
        refused = services().outbound.refusal_for_url(url)
        if refused is not None:
            field.errors.append(_("This address is local or private (%(address)s); the tool calls it only if "
                                  "MICROCRED_OUTBOUND_ALLOW lists it.", address=refused.address))
            ok = False
    return ok


def _keep_secret(platform: Platform, section: str, values: dict, bc) -> None:
    """Change the URL/client id of a bridge and keep its stored (sealed) secret."""
    for key, value in values.items():
        if key.endswith("url"):
            values[key] = bc._url(value, "the URL")
    settings = dict(platform.bridge_settings or {})
    merged = dict(settings.get(section) or {})
    merged.update(values)
    settings[section] = merged
    platform.bridge_settings = settings


def _platform_page(platform: Platform, form: BridgeForm, results):
    from plugin.evidence.bridge_config import describe
    return render_template("admin/platform_edit.html", platform=platform, form=form,
                           configured=describe(platform),
                           test_form=KeyActionForm(formdata=None, launch=request.values.get("launch", "")),
                           results=results)


@bp.post("/platforms/<int:platform_id>/test")
@require_roles("admin")
def platform_test(platform_id: int):
    """Test every configured bridge (bridges' own checks): one line per bridge saying what works or failed."""
    from plugin.evidence.bridge_config import check_bridges
    platform = _get_platform(platform_id)
    if not KeyActionForm().validate():
        abort(400, description=_("The form expired; reload the page and try again."))
    course_id = (request.form.get("course_id") or "").strip() or None
    results = check_bridges(services(), platform, course_id)
    record("platform.connection_tested", "platform", platform.id,
           results=[{"bridge": name, "ok": ok, "message": message} for name, ok, message in results])
    db().commit()
    return _platform_page(platform, BridgeForm(formdata=None, launch=request.form.get("launch", "")), results)


# --------------------------------------------------------------------------- label profiles
class LabelUploadForm(FlaskForm):
    launch = HiddenField()
    file = FileField(_l("Label profile (JSON)"))


@bp.route("/labels", methods=["GET", "POST"])
@require_roles("admin")
def labels():
    """The label profiles instructors can claim; a local admin adds one by uploading its JSON file."""
    import json
    from plugin.domain.labels import LabelError, LabelProfile, load_profiles
    folder = services().settings.instance_dir / "labels"
    form = LabelUploadForm(launch=request.values.get("launch", ""))
    status = 200
    if request.method == "POST":
        if platform_scope() is not None:
            abort(403, description=_("Add label profiles with a local administrator account."))
        if not form.validate():
            abort(400, description=_("The form expired; reload the page and try again."))
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise LabelError(_("Choose a JSON file."))
            raw = upload.read(256 * 1024 + 1)
            if len(raw) > 256 * 1024:
                raise LabelError(_("The file is larger than 256 KB."))
            try:
                profile = LabelProfile.model_validate(json.loads(raw.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as exc:
                raise LabelError(str(exc)) from None
        except LabelError as exc:
            form.file.errors = [str(exc)]
            status = 400
        else:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{profile.id}.json").write_text(json.dumps(profile.model_dump(by_alias=True, exclude_none=True),
                                                                  ensure_ascii=False, indent=1), encoding="utf-8")
            record("label_profile.saved", "label_profile", profile.id, version=profile.version,
                   rules=[r.id for r in profile.rules])
            db().commit()
            flash(_("Label profile “%(name)s” saved.", name=profile.display_name()), "ok")
            return redirect(launch_url("admin.labels"))
    from flask_babel import get_locale
    try:
        profiles = load_profiles([folder])
        error = None
    except LabelError as exc:  # a hand-edited file is broken: say which, keep the page usable
        profiles, error = load_profiles(), str(exc)
    shipped = {p.stem for p in (DATA_DIR / "labels").glob("*.json")}
    return render_template("admin/labels.html", profiles=profiles.values(), locale=str(get_locale() or "en"),
                           form=form, folder=folder, error=error, shipped=shipped), status
