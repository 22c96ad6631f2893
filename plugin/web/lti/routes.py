"""LTI 1.3 endpoints: OIDC login, launch, deep linking, the tool's JWKS and configuration.

The protocol work is in :mod:`lti` (no Flask); this module turns requests into plain
values, the results into responses, and every :class:`~lti.errors.LtiError` into a 4xx
page (HTML that reads well inside the platform iframe) or JSON error naming the problem.
The POST endpoints carry signed tokens (or an unguessable launch id), not a session,
so they are exempt from CSRF; no page here needs a cookie to survive the iframe.
"""
from __future__ import annotations

import logging

from flask import (Blueprint, Response, current_app, jsonify, make_response, redirect, render_template, request,
                   url_for)
from sqlalchemy import select

from lti import CLAIM_AGS, CLAIM_CONTEXT, CLAIM_CUSTOM, CLAIM_NRPS, CLAIM_RESOURCE_LINK
from lti.deep_linking import (CUSTOM_DEFINITION, accepts_line_item, autosubmit_form, content_item, response_jwt,
                              settings_from_claims)
from lti.errors import LaunchError, LtiError
from lti.identity import clean, definition_for_course, upsert_course, upsert_learner
from lti.keys import active_key, jwks
from lti.launch import keep_launch_claims, restore_registration, stored_launch_claims, validate_launch
from lti.login import begin_login
from lti.platforms import tool_configuration, tool_urls
from lti.roles import home_role, map_roles
from lti.service import service_claim_problems
from plugin.logging import log_event
from plugin.net.http import SMALL
from plugin.storage.models import Course, CredentialDefinition
from plugin.web.auth import Actor, current_actor, store_launch
from plugin.web.context import db, services
from plugin.web.errors import error_response
from plugin.web.extensions import csrf

bp = Blueprint("lti", __name__, url_prefix="/lti")
log = logging.getLogger("microcred.lti")

HOME_ENDPOINTS = {"instructor": "instructor.home", "learner": "learner.home", "admin": "admin.home"}
ROLE_LABELS = {"instructor": "Instructor", "learner": "Learner", "admin": "Administrator"}


def _base_url() -> str:
    return services().settings.base_url


def _secure() -> bool:
    return services().settings.secure_cookies


def _params() -> dict[str, str]:
    values = request.values if request.method == "POST" else request.args
    return {k: values.get(k) for k in values.keys()}


def _refuse(exc: LtiError):
    db().rollback()
    status = exc.status if 400 <= exc.status < 500 else 400
    response = error_response(status, "LTI request refused", exc.message, code=exc.code)
    if exc.retry_after:
        response = make_response(response)
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# --------------------------------------------------------------------------- OIDC login
@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    try:
        result = begin_login(db(), services().secrets, _base_url(), _params(), secure=_secure(),
                             state_secret=services().settings.secret_key)
        db().commit()
    except LtiError as exc:
        return _refuse(exc)
    response = redirect(result.redirect_url, code=302)
    for name, value, max_age in result.cookies:
        # Not needed by the launch (state is server-side); when the browser keeps it, fine.
        response.set_cookie(name, value, max_age=max_age, secure=_secure(), httponly=True,
                            samesite="None" if _secure() else "Lax", path="/lti/")
    return response


# --------------------------------------------------------------------------- launch
@bp.route("/launch", methods=["GET", "POST"])
@bp.route("/deep-link", methods=["GET", "POST"])
@csrf.exempt
def launch():
    if request.method == "GET":
        return error_response(400, "LTI request refused",
                              "This address receives LTI launches from a learning platform: open the tool from your course.",
                              code="invalid_launch")
    try:
        svc = services()
        result = validate_launch(db(), svc.secrets, _base_url(), request.form.to_dict(),
                                 state_secret=svc.settings.secret_key, cookies=request.cookies, secure=_secure(), http=svc.http(max_bytes=SMALL),
                                 limits=svc.limits, jwks_refetch=svc.settings.ratelimit_jwks_refetch,
                                 keep_claims=False)
        actor = actor_for_launch(result)
        keep_launch_claims(db(), result.launch_id, result.claims)
        store_launch(db(), actor)  # both rows in one INSERT at the next flush
        bridge_launch(actor, result.claims)
        db().commit()
    except LtiError as exc:
        return _refuse(exc)
    if result.is_deep_link:
        return redirect(url_for("lti.deep_link_select", launch=actor.launch_id), code=303)
    return redirect(home_url(actor), code=303)


def bridge_launch(actor: Actor, claims: dict) -> None:
    """Hand the validated launch to the bridges (Open edX username, AGS line item, gated launch).

    Runs in a savepoint of the launch's transaction: a credential issued because of this
    launch is there when the learner's page opens; if the bridges fail, the launch still
    goes through (the failure is logged and a catch-up sync issues later).
    """
    from plugin.evidence.launch import has_work, on_launch
    s = db()
    try:
        if not has_work(s, actor, claims):
            return
        with s.begin_nested():
            on_launch(s, services(), actor, claims)
    except Exception as exc:  # noqa: BLE001 - the learner still gets their page
        log_event(log, "launch evidence failed", level=logging.ERROR, launch=actor.launch_id,
                  course_id=actor.course_id, learner_id=actor.learner_id, error=f"{type(exc).__name__}: {exc}")


def actor_for_launch(result) -> Actor:
    claims = result.claims
    s = db()
    learner = upsert_learner(s, result.issuer, claims, result.product)
    course = upsert_course(s, result.issuer, result.platform_id, claims)
    context = claims.get(CLAIM_CONTEXT) if isinstance(claims.get(CLAIM_CONTEXT), dict) else {}
    link = claims.get(CLAIM_RESOURCE_LINK) if isinstance(claims.get(CLAIM_RESOURCE_LINK), dict) else {}
    custom = claims.get(CLAIM_CUSTOM) if isinstance(claims.get(CLAIM_CUSTOM), dict) else {}
    definition = clean(custom.get(CUSTOM_DEFINITION), 36)
    service_claims = {}
    for name, claim in (("ags", CLAIM_AGS), ("nrps", CLAIM_NRPS)):
        if isinstance(claims.get(claim), dict):
            problems = service_claim_problems(services(), name, claims[claim])
            if problems:  # kept out of the launch: nothing will call these URLs
                log_event(log, "launch service claim refused", logging.WARNING, launch=result.launch_id,
                          platform=result.issuer, claim=name, problems=problems)
                continue
            service_claims[name] = claims[claim]
    if result.is_deep_link:
        service_claims["deep_linking"] = settings_from_claims(claims)
    return Actor(kind="lti", roles=map_roles(claims.get("https://purl.imsglobal.org/spec/lti/claim/roles")),
                 launch_id=result.launch_id, platform_id=result.platform_id, platform_issuer=result.issuer,
                 client_id=result.client_id, deployment_id=result.deployment_id, sub=claims["sub"],
                 learner_id=learner.id, course_id=course.id if course else None,
                 context_id=context.get("id") if course else None,
                 context_title=clean(context.get("title"), 512) if course else None,
                 resource_link_id=clean(link.get("id"), 255), definition_public_id=definition,
                 name=learner.name, email=learner.email, locale=learner.locale,
                 message_type=result.message_type, services=service_claims)


def home_url(actor: Actor) -> str:
    role = home_role(actor.roles)
    endpoint = HOME_ENDPOINTS[role]
    if endpoint in current_app.view_functions:
        return url_for(endpoint, launch=actor.launch_id)
    return url_for("lti.launched", launch=actor.launch_id)


@bp.get("/launched")
def launched():
    """Placeholder home for a role whose pages are not installed."""
    actor = current_actor()
    if actor is None or actor.kind != "lti":
        return error_response(401, "Unauthorized", "Open the tool from your course (LTI launch).")
    role = home_role(actor.roles)
    return render_template("lti/launched.html", actor=actor, role=role, role_label=ROLE_LABELS[role])


# --------------------------------------------------------------------------- deep linking
def _deep_link_actor() -> Actor:
    actor = current_actor()
    if actor is None or actor.kind != "lti":
        raise LaunchError("open the tool from your course to add it (deep-linking launch)", status=401)
    if actor.message_type != "LtiDeepLinkingRequest":
        raise LaunchError("this launch is not a deep-linking request", status=409)
    if "instructor" not in actor.roles:
        raise LaunchError("only instructors can add the micro-credential to a course", status=403)
    if actor.course_id is None:
        raise LaunchError("the platform sent no course (context) with this deep-linking request: "
                          "add the tool from inside a course", status=409)
    return actor


@bp.get("/deep-link/select")
def deep_link_select():
    try:
        actor = _deep_link_actor()
    except LtiError as exc:
        return _refuse(exc)
    course = db().get(Course, actor.course_id)
    existing = db().scalars(select(CredentialDefinition).where(CredentialDefinition.course_id == course.id)).first()
    return render_template("lti/deep_link.html", actor=actor, course=course, definition=existing,
                           settings=actor.services.get("deep_linking", {}))


@bp.post("/deep-link/respond")
@csrf.exempt
def deep_link_respond():
    try:
        actor = _deep_link_actor()
        s = db()
        course = s.get(Course, actor.course_id)
        definition = definition_for_course(s, course)
        registration = restore_registration(s, services().secrets, actor.platform_id)
        if registration is None:
            raise LaunchError("the platform registration was removed", status=409)
        settings = actor.services.get("deep_linking") or {}
        title = request.form.get("title", "").strip() or f"Micro-credential: {course.title or course.context_id}"
        item = content_item(tool_urls(_base_url())["launch_url"], definition.public_id, title=title,
                            line_item=accepts_line_item(settings))
        token, _claims = response_jwt(registration, actor.deployment_id, settings, [item])
        s.commit()
    except LtiError as exc:
        return _refuse(exc)
    return Response(autosubmit_form(settings["deep_link_return_url"], token), mimetype="text/html")


# --------------------------------------------------------------------------- cookie check
def _safe_next(value: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or any(
            ord(c) < 32 for c in value):
        return None
    return value


@bp.get("/cookie-check")
def cookie_check():
    """For the few pages that need a cookie (the launch does not): continue if this frame can
    keep one, otherwise offer to open the page in a new window (or ask for storage access)."""
    target = _safe_next(request.args.get("next"))
    if target is None:
        return error_response(400, "Bad Request", "The cookie check needs a next= path on this site.")
    return render_template("lti/cookie_check.html", next_url=target, secure=_secure())


# --------------------------------------------------------------------------- keys and configuration
@bp.get("/jwks")
def tool_jwks():
    s = db()
    active_key(s, services().secrets)
    s.commit()
    response = jsonify(jwks(s))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config")
def config():
    return jsonify(tool_configuration(_base_url()))


def launch_claims(launch_id: str) -> dict | None:
    """The validated id_token body of a launch (for pages that need more than the Actor)."""
    return stored_launch_claims(db(), launch_id)
