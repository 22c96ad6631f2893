"""Signing in with a local account (``/admin/login``, ``/admin/logout``) and the admin overview (``/admin/``)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from plugin.storage.models import AdminUser, AuditLog, Platform
from plugin.web.auth import require_roles
from plugin.web.context import db
from plugin.web.ratelimits import login_limit
from plugin.web.admin import bp, platform_scope
from plugin.web.admin.issuers import _issuers_query


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
