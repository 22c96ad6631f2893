"""The awarding bodies (``/admin/issuers``): the list, the issuer form (identity, legal identifiers,
quality assurance, platforms and courses allowed to use it) and its logo."""
from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, URL, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from plugin.storage.models import Course, Issuer, IssuerCourse, IssuerPlatform, Platform
from plugin.web.audit import record
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.admin.issuer_fields import linkedin_organization_field
from plugin.web.admin import bp, platform_scope


LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
LOGO_MAX_BYTES = 512 * 1024


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
