"""The security headers of every response, set in one place (``tests/web/test_security_headers.py``
walks every route of the app, as each role that can reach it, and checks them).

| header | value |
|---|---|
| ``Content-Security-Policy`` | ``frame-ancestors 'self' <the launching platform>`` on LTI pages, ``frame-ancestors 'none'`` elsewhere; plus ``base-uri 'self'; object-src 'none'`` |
| ``X-Frame-Options`` | ``DENY`` where framing is not allowed (browsers without CSP level 2); absent on LTI pages |
| ``X-Content-Type-Options`` | ``nosniff`` |
| ``Referrer-Policy`` | ``same-origin`` (pages carry the launch id in their URL: it never leaves for another site); a view may set a stricter one |
| ``Strict-Transport-Security`` | ``max-age=31536000`` in production (https) |

**LTI pages** are ``/lti/…`` and any page of a launch (``?launch=``, a posted ``launch`` field).
Only the platform of *that* launch may frame them: its issuer's and login URL's origins. Before
the launch is known (the OIDC login, a launch being validated), the platform the request names
(``iss``, the id_token's unverified ``iss``) when it is registered; otherwise only the tool
itself. A view that sets its own ``frame-ancestors`` (Dynamic Registration, framed by a platform
that is not registered yet) keeps it. The local admin's pages (a session cookie that is
``SameSite=None`` in production) can never be framed.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, request

from plugin.web.context import db, services

log = logging.getLogger("microcred.headers")

HSTS = "max-age=31536000"
NO_FRAMING = "frame-ancestors 'none'"
ALWAYS = "base-uri 'self'; object-src 'none'"
# JSON the platforms and key servers fetch, not pages.
NOT_PAGES = ("/lti/jwks", "/lti/config")


def _launch_in_request() -> bool:
    from plugin.web.auth import form_launch_id
    return bool(request.args.get("launch") or (request.method == "POST" and form_launch_id())
                or request.headers.get("X-Microcred-Launch"))


def is_lti_page() -> bool:
    return (request.path.startswith("/lti/") and request.path not in NOT_PAGES) or _launch_in_request()


def _named_issuer() -> str | None:
    """The platform issuer a launch flow request names before any launch exists."""
    if request.path == "/lti/login":
        values = request.values if request.method == "POST" else request.args
        return values.get("iss")
    if request.path in ("/lti/launch", "/lti/deep-link") and request.method == "POST":
        import base64
        import json
        try:  # unverified, only to pick the frame-ancestors origins (the launch itself checks the token)
            body = request.form.get("id_token", "").split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except Exception:  # noqa: BLE001 - an unreadable token names no platform
            return None
        issuer = claims.get("iss") if isinstance(claims, dict) else None
        return issuer if isinstance(issuer, str) else None
    return None


def launching_origins() -> list[str]:
    """The origins of the platform this request's launch came from (issuer and login URL).

    Read through the per-process configuration cache (:mod:`plugin.storage.config_cache`): every
    LTI response asks, and a launch must stay within its statement budget."""
    from plugin.storage import config_cache
    from plugin.web.auth import current_actor
    actor = current_actor()
    session = db()
    if actor is not None and actor.kind == "lti" and actor.platform_id is not None:
        platform_id = actor.platform_id
        return config_cache.cached(session, ("frame-origins", "platform", platform_id),
                                   lambda: _origins_of_platform_id(session, platform_id))
    issuer = _named_issuer()
    if issuer and len(issuer) <= 512:
        return config_cache.cached(session, ("frame-origins", "issuer", issuer),
                                   lambda: _origins_of_issuer(session, issuer))
    return []


def _origins(platforms) -> list[str]:
    from lti.platforms import origin
    origins: set[str] = set()
    for platform in platforms:
        for url in (platform.issuer, platform.auth_login_url):
            o = origin(url or "")
            if o:
                origins.add(o)
    return sorted(origins)


def _origins_of_platform_id(session, platform_id: int) -> list[str]:
    from plugin.storage.models import Platform
    platform = session.get(Platform, platform_id)
    return _origins([platform] if platform is not None else [])


def _origins_of_issuer(session, issuer: str) -> list[str]:
    from plugin.evidence.base import platforms_for_issuer
    return _origins(platforms_for_issuer(session, issuer))


def frame_ancestors() -> str:
    if not is_lti_page():
        return NO_FRAMING
    try:
        origins = launching_origins()
    except Exception:  # noqa: BLE001 - never turn a page into an error because of a header
        log.warning("could not find the launching platform for frame-ancestors", exc_info=True)
        origins = []
    return "frame-ancestors " + " ".join(["'self'", *origins])


def set_headers(response: Response) -> Response:
    csp = response.headers.get("Content-Security-Policy", "")
    if "frame-ancestors" not in csp:
        csp = "; ".join(part for part in (csp.strip("; "), frame_ancestors()) if part)
    if "base-uri" not in csp:
        csp = csp + "; " + ALWAYS
    response.headers["Content-Security-Policy"] = csp
    if "frame-ancestors 'none'" in csp:
        response.headers["X-Frame-Options"] = "DENY"
    else:
        response.headers.pop("X-Frame-Options", None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    settings = services().settings
    if settings.is_production and settings.secure_cookies:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_headers)
