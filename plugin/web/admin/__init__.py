"""The admin area: issuers and their keys, platforms and their bridges, the audit log.

Reached by an LTI administrator launch (``?launch=``; scoped to that platform) or by a
local account created with ``microcred admin create`` (``/admin/login``; sees everything).
Every view requires the ``admin`` role; a blueprint-wide guard repeats the check so a
view added later without its decorator is still closed.

The ``admin`` blueprint is defined here; its views live in one module per task and register
on it: :mod:`~plugin.web.admin.home` (sign-in, overview), :mod:`~plugin.web.admin.issuers`,
:mod:`~plugin.web.admin.keys` (issuer and tool keys), :mod:`~plugin.web.admin.platforms`
(platforms and bridges), :mod:`~plugin.web.admin.labels`. The other admin pages are
blueprints of their own in this package (``admin_audit``, ``admin_issuance``, ``catch_up``,
``branding``), sharing :func:`_guard` and :func:`platform_scope`.
"""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_babel import gettext as _

from plugin.web.auth import current_actor
from plugin.web.formatting import install as install_helpers

bp = Blueprint("admin", __name__, url_prefix="/admin")
PUBLIC_ENDPOINTS = {"admin.login"}


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


# The views register on ``bp`` when their modules load (last: they import ``bp`` from here).
from plugin.web.admin import home, issuers, keys, platforms, labels  # noqa: E402

VIEW_MODULES = (home, issuers, keys, platforms, labels)
