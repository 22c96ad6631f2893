"""``/lti/register``: LTI Dynamic Registration, the page a platform opens to register the tool.

The platform (Moodle: *Site administration › Plugins › External tool › Manage tools*, paste the
URL, *Add LTI Advantage*) opens this page in a window or an iframe with ``openid_configuration``
and ``registration_token``. Registration happens on that GET (the platform's iframe may have no
cookies, so there is no second step that would need a session or a CSRF token); the page then
says exactly what was registered, or what failed, and its *Done* button posts
``{subject: "org.imsglobal.lti.close"}`` to the platform so it closes the window.
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, make_response, render_template, request

from lti.platforms import origin, tool_urls
from lti.registration import DynamicRegistrationError, register
from plugin.logging import log_event
from plugin.storage.models import AuditLog
from plugin.web.context import db, services
from plugin.web.errors import wants_json
from plugin.web.ratelimits import registration_limit
from plugin.web.request_log import current_request_id

bp = Blueprint("lti_registration", __name__)
log = logging.getLogger("microcred.lti.registration")

STEPS = {
    "request": "Reading the registration request",
    "openid_configuration": "Reading the platform's OpenID configuration",
    "registration": "Registering the tool with the platform",
    "storage": "Saving the registration",
}


def _frame_headers(response, platform_origin: str | None):
    # The platform shows this page in its own iframe before it is a known platform, so the
    # general frame-ancestors list (registered platforms only) cannot apply here.
    ancestors = "'self'" + (f" {platform_origin}" if platform_origin else "")
    response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL carries the registration token
    return response


@bp.get("/lti/register")
@registration_limit  # anyone may open it, and each opening makes the tool call the given URL
def register_tool():
    svc = services()
    config_url = (request.args.get("openid_configuration") or "").strip()
    token = request.args.get("registration_token")
    platform_origin = origin(config_url) if config_url else None
    if not config_url and token is None and not wants_json():
        # Somebody opened the URL by hand: say what it is for.
        return _frame_headers(make_response(render_template(
            "lti_registration/help.html", urls=tool_urls(svc.settings.base_url))), None)
    try:
        result = register(db(), base_url=svc.settings.base_url, openid_configuration_url=config_url,
                          registration_token=token, allow_http_loopback=not svc.settings.is_production,
                          policy=svc.outbound)
        db().add(AuditLog(actor=f"platform:{result.platform['issuer']}", action="lti.platform.registered",
                          target_type="platform", target_id=str(result.platform["id"]),
                          details={"kind": "dynamic", "client_id": result.platform["client_id"],
                                   "deployment_ids": result.platform["deployment_ids"],
                                   "product": result.product, "granted_scopes": result.granted_scopes,
                                   "created": result.created},
                          request_id=current_request_id()))
        db().commit()
    except DynamicRegistrationError as exc:
        db().rollback()
        log_event(log, "dynamic registration failed", logging.WARNING, step=exc.step, error=exc.message,
                  platform=platform_origin, request_id=current_request_id())
        if wants_json():
            response = jsonify({"error": exc.code, "step": exc.step, "message": exc.message,
                                "status": exc.status, "request_id": current_request_id()})
            response.status_code = exc.status
            return _frame_headers(response, platform_origin)
        response = make_response(render_template(
            "lti_registration/failed.html", step=STEPS.get(exc.step, exc.step), message=exc.message,
            config_url=config_url, request_id=current_request_id(), platform_origin=platform_origin), exc.status)
        return _frame_headers(response, platform_origin)
    log_event(log, "dynamic registration done", issuer=result.platform["issuer"],
              client_id=result.platform["client_id"], product=result.product,
              granted=len(result.granted_scopes), request_id=current_request_id())
    if wants_json():
        body = {"platform": result.platform, "created": result.created, "product": result.product,
                "granted_scopes": result.granted_scopes, "missing_scopes": result.missing_scopes,
                "warnings": result.warnings}
        return _frame_headers(jsonify(body), result.platform_origin)
    return _frame_headers(make_response(render_template("lti_registration/done.html", result=result)),
                          result.platform_origin)
