"""The badge designer: how an awarding body's badges and certificates look.

Administrators (same access rules as the rest of the admin area, scoped to their platform):

* ``GET/POST /admin/issuers/<id>/design``: shape, colours, the level ribbon, the logo on
  the badge (and a new logo), the certificate's signatory (name, role, signature picture);
  a live preview of the badge with any title;
* ``GET /admin/issuers/<id>/design/preview.svg?shape=…&background=…``: the badge the form
  would draw (the preview the page shows while the admin edits, before saving);
* ``GET /admin/issuers/<id>/design/signature.png``: the saved signature picture.

Instructors see their awarding body's design in their preview (``badge_svg``).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.fields import ColorField
from wtforms.validators import Length, Optional

from plugin.delivery import badge_image
from plugin.delivery.images import LOGO, SIGNATURE, ImageError, normalise_image, read_limited
from plugin.domain.branding import SHAPES, BadgeDesign, Branding
from plugin.storage.branding import load_branding, save_branding
from plugin.storage.models import CredentialDefinition, Issuer
from plugin.web.audit import record
from plugin.web.auth import current_actor, launch_url, require_roles
from plugin.web.context import db
from plugin.web.extensions import tr

bp = Blueprint("branding", __name__)
UPLOAD_MAX_BYTES = 512 * 1024
SAMPLE_TITLE = _l("Introduction to data science for public policy")


def _guard():
    from plugin.web.admin import _guard as admin_guard  # the admin area's own check, every view
    return admin_guard()


bp.before_request(_guard)


def _issuer(issuer_id: int) -> Issuer:
    from plugin.web.admin.issuers import _get_issuer  # the admin area's platform scope
    return _get_issuer(issuer_id)


class DesignForm(FlaskForm):
    launch = HiddenField()
    shape = RadioField(_l("Shape"), choices=[(k, _l(v)) for k, v in SHAPES.items()], default="circle")
    background = ColorField(_l("Badge colour"), default="#003399")
    accent = ColorField(_l("Border and ribbon colour"), default="#ffcc00")
    text = ColorField(_l("Text colour"), default="#ffffff",
                      description=_l("It must stand out from the badge colour (contrast of at least 4.5 to 1)."))
    ribbon = BooleanField(_l("Show the EQF level on a ribbon"), default=True)
    show_logo = BooleanField(_l("Show the awarding body's logo on the badge"), default=True)
    logo = FileField(_l("New logo (PNG or JPEG, up to 512 KB)"),
                     description=_l("Also used on the public pages and the PDF certificate. At least 32 pixels a side; "
                                    "a square logo on a transparent background looks best."))
    signatory_name = StringField(_l("Signatory's name"), validators=[Optional(), Length(max=120)],
                                 description=_l("Printed under the signature on the PDF certificate, e.g. “Dr Marie "
                                                "Curie”. Leave empty for no signature block."))
    signatory_role = StringField(_l("Signatory's role"), validators=[Optional(), Length(max=120)],
                                 description=_l("e.g. “Vice-president for lifelong learning”."))
    signature = FileField(_l("Signature picture (PNG or JPEG, up to 512 KB, optional)"),
                          description=_l("A scan of the signature on a white or transparent background."))
    remove_signature = BooleanField(_l("Remove the signature picture"))
    preview_title = StringField(_l("Title to try in the preview (not saved)"), validators=[Optional(), Length(max=300)])


def _design_from(values) -> BadgeDesign:
    """A design from form or query values; ValueError (a Msg inside) when it is not valid."""
    def flag(name: str) -> bool:
        return str(values.get(name, "")).lower() in ("y", "1", "true", "on")
    try:
        return BadgeDesign(shape=values.get("shape") or "circle", background=values.get("background") or "",
                           accent=values.get("accent") or "", text=values.get("text") or "",
                           ribbon=flag("ribbon"), show_logo=flag("show_logo"))
    except PydanticError as exc:
        raise ValueError(_validation_messages(exc)) from None


def _validation_messages(exc: PydanticError) -> str:
    out = []
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        out.append(tr(inner.args[0]) if isinstance(inner, ValueError) and inner.args else
                   err["msg"].removeprefix("Value error, "))
    return "; ".join(out)


def _sample_title(issuer: Issuer) -> str:
    row = db().scalars(select(CredentialDefinition).where(CredentialDefinition.issuer_id == issuer.id)
                       .order_by(CredentialDefinition.id.desc())).first()
    if row is not None and row.versions:
        title = (row.versions[-1].data or {}).get("title")
        if title:
            return title
    return str(SAMPLE_TITLE)


def _upload(field, what) -> bytes | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    try:
        return normalise_image(read_limited(storage, UPLOAD_MAX_BYTES), what=what, max_bytes=UPLOAD_MAX_BYTES,
                               max_side=512 if what == LOGO else 800)
    except ImageError as exc:
        field.errors = [tr(exc.args[0])]
        return None


@bp.route("/admin/issuers/<int:issuer_id>/design", methods=["GET", "POST"])
@require_roles("admin")
def design(issuer_id: int):
    issuer = _issuer(issuer_id)
    look = load_branding(db(), issuer.id)
    saved = look.branding
    if request.method == "GET":
        form = DesignForm(formdata=None, launch=request.args.get("launch", ""), **saved.design.model_dump(),
                          signatory_name=saved.signatory_name, signatory_role=saved.signatory_role,
                          preview_title=_sample_title(issuer))
        return render_template("admin/design.html", form=form, issuer=issuer, look=look, problem=None)
    form = DesignForm()
    problem = None
    ok = form.validate()
    design_obj = None
    try:
        design_obj = _design_from({"shape": form.shape.data, "background": form.background.data,
                                   "accent": form.accent.data, "text": form.text.data,
                                   "ribbon": "y" if form.ribbon.data else "", "show_logo": "y" if form.show_logo.data else ""})
    except ValueError as exc:
        problem = str(exc)
        form.text.errors = [problem]
        ok = False
    logo = _upload(form.logo, LOGO)
    signature = _upload(form.signature, SIGNATURE)
    ok = ok and not form.logo.errors and not form.signature.errors
    branding = None
    if ok:
        try:
            branding = Branding(design=design_obj, signatory_name=form.signatory_name.data or "",
                                signatory_role=form.signatory_role.data or "")
        except PydanticError as exc:
            form.signatory_name.errors = [_validation_messages(exc)]
            ok = False
    if not ok:
        db().rollback()
        return render_template("admin/design.html", form=form, issuer=issuer, look=look, problem=problem), 400
    actor = current_actor().label
    save_branding(db(), issuer.id, branding, actor=actor, signature=signature,
                  remove_signature=bool(form.remove_signature.data))
    if logo is not None:
        _replace_logo(issuer, logo, actor)
    record("issuer.design", "issuer", issuer.slug, shape=design_obj.shape, logo_changed=logo is not None,
           signature_changed=signature is not None or bool(form.remove_signature.data))
    db().commit()
    flash(_("Badge and certificate design saved. New downloads and pictures use it at once."), "ok")
    return redirect(launch_url("branding.design", issuer_id=issuer.id)), 303


def _replace_logo(issuer: Issuer, png: bytes, actor: str) -> None:
    """The awarding body's logo, everywhere it is used (issuer form, credentials issued from now on)."""
    import base64

    from plugin.domain.issuer import IssuerProfile
    from plugin.issuance.service import update_issuer_profile
    raw = dict(issuer.profile or {})
    raw["logo"] = "data:image/png;base64," + base64.b64encode(png).decode()
    update_issuer_profile(db(), issuer, IssuerProfile.model_validate(raw), actor=actor)
    issuer.logo, issuer.logo_mime = png, "image/png"


@bp.get("/admin/issuers/<int:issuer_id>/design/preview.svg")
@require_roles("admin")
def preview(issuer_id: int):
    issuer = _issuer(issuer_id)
    saved = load_branding(db(), issuer.id).branding.design
    try:
        design_obj = _design_from(request.args) if request.args.get("shape") else saved
        status = 200
    except ValueError:
        design_obj, status = saved, 200  # the page says what is wrong next to the field; the preview keeps drawing
    title = (request.args.get("title") or _sample_title(issuer))[:300]
    level = request.args.get("level", "6")
    svg = badge_image.render_svg(title, issuer.name, int(level) if level.isdigit() and 1 <= int(level) <= 8 else None,
                                 design=design_obj, logo=(issuer.profile or {}).get("logo"))
    return Response(svg, status=status, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/admin/issuers/<int:issuer_id>/design/signature.png")
@require_roles("admin")
def signature_picture(issuer_id: int):
    issuer = _issuer(issuer_id)
    look = load_branding(db(), issuer.id)
    if not look.signature:
        abort(404, description=_("This awarding body has no signature picture."))
    return Response(look.signature, mimetype="image/png", headers={"Cache-Control": "no-store"})


def badge_svg(issuer: Issuer | None, title: str, level: int | None) -> str:
    """The badge of ``title`` as ``issuer`` draws it (the instructor's preview)."""
    design_obj = load_branding(db(), issuer.id).branding.design if issuer is not None else None
    return badge_image.render_svg(title, issuer.name if issuer else "", level, design=design_obj,
                                  logo=(issuer.profile or {}).get("logo") if issuer is not None else None)
