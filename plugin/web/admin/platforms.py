"""The LTI platforms (``/admin/platforms``): registration by hand, deployments, and the bridges
(Open edX and Moodle settings for webhooks and catch-up syncs) with their connection test."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional, URL

from plugin.storage.models import Deployment, Platform
from plugin.web.audit import record
from plugin.web.auth import launch_url, require_roles
from plugin.web.context import db, services
from plugin.web.admin import bp, platform_scope
from plugin.web.admin.keys import KeyActionForm


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
