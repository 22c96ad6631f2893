"""Rate limits of the public endpoints (flask-limiter; the counters outside requests are in
:mod:`plugin.ratelimit`, on the same storage kind).

| endpoint | counted per | setting |
|---|---|---|
| ``POST /admin/login`` (failed attempts only) | client address | ``MICROCRED_RATELIMIT_LOGIN`` |
| ``GET /lti/register`` (Dynamic Registration) | client address | ``MICROCRED_RATELIMIT_REGISTRATION`` |
| ``POST /verify``, ``POST /api/verify`` (uploads) | client address | ``MICROCRED_RATELIMIT_VERIFY`` |
| ``POST /api/webhooks/openedx`` | platform (the token's ``iss``) | ``MICROCRED_RATELIMIT_WEBHOOK`` |
| ``POST /oid4vci/<slug>/token``, ``/nonce``, ``/credential`` (EU wallets) | client address | ``MICROCRED_RATELIMIT_OID4VCI`` |
| refetch of a platform's JWKS for an unknown ``kid`` | platform | ``MICROCRED_RATELIMIT_JWKS_REFETCH`` |

Past a limit the answer is 429 with ``Retry-After`` (seconds) and a sentence saying what
was limited and when to try again, as HTML or JSON like every other error.
"""
from __future__ import annotations

import hashlib
import time

from flask import Flask, make_response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from plugin.web.context import services
from plugin.web.extensions import limiter

WHAT = {
    "login": _l("failed sign-in attempts"),
    "registration": _l("registration requests from this address"),
    "verify": _l("uploads to verify from this address"),
    "webhook": _l("webhook deliveries from this platform"),
    "oid4vci": _l("wallet requests from this address"),
}


def _rate(name: str):
    return lambda: getattr(services().settings, f"ratelimit_{name}")


def _platform_key() -> str:
    """The platform a webhook says it comes from (its unverified ``iss``): one budget per platform."""
    import jwt
    from plugin.web.api.webhooks import _token_from_request
    try:
        claims = jwt.decode(_token_from_request(), options={"verify_signature": False})
        issuer = claims.get("iss") if isinstance(claims, dict) else None
    except Exception:  # noqa: BLE001 - anything unreadable shares one budget
        issuer = None
    if not isinstance(issuer, str) or not issuer:
        return "webhook:unidentified"
    return "webhook:" + hashlib.sha256(issuer.encode()).hexdigest()[:32]


def limit(name: str, *, methods=None, key_func=get_remote_address, **kwargs):
    """The limit ``name`` (its setting, e.g. ``MICROCRED_RATELIMIT_VERIFY``) as a view decorator."""
    return limiter.limit(_rate(name), key_func=key_func, methods=methods, scope=name, **kwargs)


login_limit = limit("login", methods=["POST"], deduct_when=lambda response: response.status_code != 302)
registration_limit = limit("registration")
# One budget for both upload endpoints (the page and the API).
verify_limit = limiter.shared_limit(_rate("verify"), "verify", key_func=get_remote_address, methods=["POST"])
webhook_limit = limit("webhook", key_func=_platform_key)


def too_many(what: str, retry_after: int, **extra):
    """The 429 answer (HTML or JSON), with ``Retry-After``."""
    from plugin.web.errors import error_response
    retry_after = max(1, int(retry_after))
    response = make_response(error_response(
        429, _("Too many requests"),
        _("Too many %(what)s: try again in %(seconds)s seconds.", what=what, seconds=retry_after),
        retry_after=retry_after, **extra))
    response.headers["Retry-After"] = str(retry_after)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded):
        current = limiter.current_limit
        # As flask-limiter computes the Retry-After header it adds after this handler.
        retry_after = int(current.reset_at - time.time()) if current is not None else 60
        scope = getattr(exc.limit, "scope", None) if getattr(exc, "limit", None) is not None else None
        return too_many(str(WHAT.get(scope, _("requests"))), retry_after)
