"""Signed, replay-proof webhooks from a platform plugin: the verification both bridges share.

The Open edX plugin (``microcred_openedx``, ``integrations/openedx``) and the Moodle plugin ``local_microcred``
(``integrations/moodle/local_microcred``) send one compact JWT per event, signed with a key
the tool's admin registered for that platform (``Platform.bridge_settings[bridge]``:
``webhook_jwks_url``, the plugin's public key page, or an inline ``webhook_jwks``).

Checked, in this order, each failure a :class:`WebhookRejected` with a stable ``code``:
the compact form, strict JSON (no NaN/Infinity, nesting at most 64 deep, no NUL character:
``unusable_value``), the algorithm (:data:`ALGORITHMS`), ``iss`` (a registered platform with a
webhook key of this bridge), the signature (the ``kid``'s key; a key registered without a
kid verifies any), ``aud`` (this tool's webhook URL of the bridge), ``iat``/``exp``
(at most :data:`MAX_LIFETIME` apart, :data:`CLOCK_SKEW` tolerated), and the ``jti``,
accepted once per issuer and bridge (stored as a ``OneTimeToken`` of kind
``<bridge>-webhook`` in the caller's transaction: a delivery whose processing fails can be
delivered again; a second delivery of an accepted one is a 409 ``replayed``).
"""
from __future__ import annotations

import hashlib
import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.evidence.base import bridge_settings, platforms_for_issuer
from plugin.net.http import SMALL
from plugin.net.jwks import KeySetError, KeySets
from plugin.ratelimit import RateLimited
from plugin.strict_json import problem, strict_jwt
from plugin.storage.models import OneTimeToken, Platform

MAX_LIFETIME = 600  # seconds between iat and exp
CLOCK_SKEW = 60  # seconds of clock difference tolerated
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "EdDSA"]
BRIDGE_NAMES = {"openedx": "Open edX", "moodle": "Moodle"}
KEYS_TTL = 300  # seconds a fetched webhook key set is used before it is fetched again


class WebhookRejected(Exception):
    """A webhook that must not be processed; ``status`` and ``code`` go back to the sender
    (with ``retry_after`` seconds for a 429)."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


# --------------------------------------------------------------------------- keys
def webhook_key_sets(session: Session, services) -> KeySets:
    """The webhooks' key sets: fetched through the outbound layer, cached five minutes, refetched
    for an unknown kid at most as often as MICROCRED_RATELIMIT_JWKS_REFETCH allows per platform."""
    return KeySets(session, services.http(max_bytes=SMALL), services.limits,
                   services.settings.ratelimit_jwks_refetch, ttl=KEYS_TTL)


def webhook_keys(platform: Platform, kid: str | None, key_sets: KeySets | None = None,
                 bridge: str = "openedx") -> list[jwt.PyJWK]:
    """The platform's registered webhook keys of ``bridge`` matching ``kid`` (all of them when no kid)."""
    conf = bridge_settings(platform, bridge)
    key_set: dict[str, Any] | None = None
    if conf.get("webhook_jwks"):
        key_set = conf["webhook_jwks"]
    elif conf.get("webhook_jwks_url"):
        if key_sets is None:
            raise WebhookRejected(503, "jwks_unreachable", "the platform's webhook key set cannot be fetched here")
        try:
            key_set = key_sets.get(conf["webhook_jwks_url"], kid=kid, scope=f"platform:{platform.id}")
        except KeySetError as exc:
            status, code = (503, "jwks_unreachable") if exc.unreachable else (502, "bad_key_set")
            raise WebhookRejected(status, code, f"the platform's webhook keys could not be used: {exc.message}") from None
        except RateLimited as exc:
            raise WebhookRejected(429, "rate_limited",
                                  f"no webhook key has the kid {kid!r}, and the platform's key set was fetched again "
                                  f"moments ago; try again in {exc.retry_after} s",
                                  retry_after=exc.retry_after) from None
    keys: list[jwt.PyJWK] = []
    if key_set is not None:
        try:
            keys = list(jwt.PyJWKSet.from_dict(key_set).keys)
        except jwt.PyJWTError as exc:
            source = "registered" if conf.get("webhook_jwks") else "fetched"
            raise WebhookRejected(502, "bad_registered_key", f"the {source} webhook key set is unusable: {exc}") from None
    if kid:
        # A key registered without a kid still verifies tokens that name one.
        keys = [k for k in keys if k.key_id == kid] or [k for k in keys if not k.key_id]
    return keys


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        claims = strict_jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise WebhookRejected(400, "malformed", f"the body is not a compact JWT: {exc}") from None
    except RecursionError:  # PyJWT reads the header with Python's json (deep nesting)
        raise WebhookRejected(400, "malformed", "the JWT header is nested too deeply to be one") from None
    if not isinstance(claims, dict):
        raise WebhookRejected(400, "malformed", "the JWT payload is not a JSON object")
    unusable = problem(header) or problem(claims)
    if unusable:
        # A NUL character, NaN or Infinity can never be stored or compared: the sender must not retry.
        raise WebhookRejected(400, "unusable_value", f"the token cannot be used: {unusable}")
    return header, claims


def has_webhook_key(platform: Platform, bridge: str) -> bool:
    conf = bridge_settings(platform, bridge)
    return bool(conf.get("webhook_jwks") or conf.get("webhook_jwks_url"))


def verify_signed_webhook(session: Session, token: str, *, audience: str, bridge: str,
                          now: float | None = None, key_sets: KeySets | None = None) -> tuple[Platform, dict[str, Any]]:
    """Check a webhook JWT of ``bridge`` completely and consume its ``jti``; returns (platform, claims).

    Raises :class:`WebhookRejected` naming the problem. The ``jti`` is stored in the
    caller's transaction, so a delivery whose processing fails can be delivered again.
    """
    token = (token or "").strip()
    if not token or token.count(".") != 2:
        raise WebhookRejected(400, "malformed", "the body must be one compact JWT (header.payload.signature)")
    header, unverified = _unverified(token)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise WebhookRejected(400, "bad_algorithm", f"the algorithm {alg!r} is not accepted; use one of {', '.join(ALGORITHMS)}")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise WebhookRejected(400, "missing_claim", "the token has no iss claim")
    platforms = [p for p in platforms_for_issuer(session, issuer) if has_webhook_key(p, bridge)]
    if not platforms:
        raise WebhookRejected(401, "unknown_issuer",
                              f"no platform {issuer!r} has a registered {BRIDGE_NAMES[bridge]} webhook key "
                              f"(microcred bridge set --{bridge}-webhook-jwks-url ...)")
    kid = header.get("kid")
    now = time.time() if now is None else now
    last_error: WebhookRejected | None = None
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > 255):
        raise WebhookRejected(400, "malformed", "the token's kid must be a non-empty string")
    for platform in platforms:
        for key in webhook_keys(platform, kid, key_sets, bridge):
            try:
                claims = _decode(token, key, alg, issuer=issuer, audience=audience, now=now)
            except WebhookRejected as exc:
                if exc.code != "bad_signature":
                    raise
                last_error = exc
                continue
            _consume_jti(session, issuer, claims, bridge)
            return platform, claims
    raise last_error or WebhookRejected(401, "unknown_key", f"no registered webhook key has the kid {kid!r}")


def _decode(token: str, key: jwt.PyJWK, alg: str, *, issuer: str, audience: str, now: float) -> dict[str, Any]:
    try:
        claims = strict_jwt.decode(
            token, key.key, algorithms=[alg], audience=audience, issuer=issuer,
            leeway=CLOCK_SKEW, options={"require": ["iss", "aud", "iat", "exp", "jti"], "verify_iat": False,
                                        "verify_exp": False})
    except (jwt.InvalidSignatureError, jwt.InvalidKeyError, jwt.InvalidAlgorithmError, TypeError):
        # InvalidKeyError/InvalidAlgorithmError/TypeError: this registered key is of another type than
        # alg (PyJWT raises TypeError "Expecting a PEM-formatted key" for e.g. an RSA key and ES256).
        raise WebhookRejected(401, "bad_signature", "the signature does not match the platform's registered key") from None
    except jwt.InvalidAudienceError:
        raise WebhookRejected(401, "wrong_audience", f"the token is not addressed to this tool (aud must be {audience})") from None
    except jwt.MissingRequiredClaimError as exc:
        raise WebhookRejected(400, "missing_claim", f"the token lacks the {exc.claim} claim") from None
    except jwt.InvalidIssuerError:
        raise WebhookRejected(401, "wrong_issuer", "the iss claim does not match") from None
    except jwt.PyJWTError as exc:
        raise WebhookRejected(400, "malformed", f"the token could not be read: {exc}") from None
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (iat, exp)):
        # PyJWT reads NaN and Infinity (not JSON): every comparison with NaN is false.
        raise WebhookRejected(400, "bad_timestamps", "iat and exp must be numbers (seconds since 1970)")
    if exp <= now - CLOCK_SKEW:
        raise WebhookRejected(401, "expired", f"the token expired {int(now - exp)} s ago")
    if iat > now + CLOCK_SKEW:
        raise WebhookRejected(401, "not_yet_valid", "the token was issued in the future (check the platform's clock)")
    if exp - iat > MAX_LIFETIME:
        raise WebhookRejected(400, "lifetime_too_long", f"exp must be at most {MAX_LIFETIME} s after iat")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not (8 <= len(jti) <= 255):
        raise WebhookRejected(400, "bad_jti", "jti must be a unique string of 8 to 255 characters")
    return claims


def _consume_jti(session: Session, issuer: str, claims: dict[str, Any], bridge: str) -> None:
    value = hashlib.sha256(f"{issuer}|{claims['jti']}".encode()).hexdigest()
    expires = datetime.fromtimestamp(claims["exp"], timezone.utc) + timedelta(seconds=CLOCK_SKEW)
    try:
        with session.begin_nested():
            session.add(OneTimeToken(kind=f"{bridge}-webhook", value=value, expires_at=expires))
            session.flush()
    except IntegrityError:
        raise WebhookRejected(409, "replayed", "this webhook (jti) was already accepted") from None
