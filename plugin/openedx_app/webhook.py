"""Sign and deliver the course-passing webhook to the tool.

The JWT: header ``alg`` (EdDSA, RS256 or ES256 from the key type) and ``kid``; claims
``iss`` (this LMS as LTI issuer), ``aud`` (the tool's webhook URL), ``iat``, ``exp``
(``MICROCRED_WEBHOOK_LIFETIME`` s later, at most 600), ``jti``, ``event_type``,
``event_time`` and ``data`` (``is_passing``, ``course_key``, ``user``, ``grade``).

Delivery retries with exponential backoff on network errors and 5xx answers, re-sending
the same token (the tool accepts a jti once: a 409 "replayed" means an earlier attempt
got through). Other 4xx answers are configuration problems: logged, not retried.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone
from functools import lru_cache

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings

log = logging.getLogger(__name__)

EVENT_PASSING = "org.openedx.learning.course.passing.status.updated.v1"


class WebhookConfigError(RuntimeError):
    pass


@lru_cache(maxsize=4)
def _load_key(pem: str):
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise WebhookConfigError(f"MICROCRED_WEBHOOK_PRIVATE_KEY is not a usable PEM private key: {exc}") from None


def private_key():
    pem = settings.MICROCRED_WEBHOOK_PRIVATE_KEY
    if not pem and settings.MICROCRED_WEBHOOK_PRIVATE_KEY_FILE:
        with open(settings.MICROCRED_WEBHOOK_PRIVATE_KEY_FILE, encoding="ascii") as fh:
            pem = fh.read()
    if not pem:
        raise WebhookConfigError("set MICROCRED_WEBHOOK_PRIVATE_KEY or MICROCRED_WEBHOOK_PRIVATE_KEY_FILE")
    return _load_key(pem)


def algorithm_for(key) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return "ES256"
    raise WebhookConfigError("the webhook key must be Ed25519, RSA or EC P-256")


def public_jwk() -> dict:
    """The public half as a JWK (served at /microcred/webhook-jwks.json for the tool's admin)."""
    key = private_key()
    alg = algorithm_for(key)
    algo = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk.update({"use": "sig", "alg": alg, "kid": key_id()})
    return jwk


def key_id() -> str:
    if settings.MICROCRED_WEBHOOK_KEY_ID:
        return settings.MICROCRED_WEBHOOK_KEY_ID
    # A stable kid derived from the public key (RFC 7638 thumbprint).
    key = private_key()
    algo = jwt.get_algorithm_by_name(algorithm_for(key))
    jwk = json.loads(algo.to_jwk(key.public_key()))
    required = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    import base64
    import hashlib
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def build_token(data: dict, *, now: float | None = None, event_time: datetime | None = None) -> str:
    key = private_key()
    now = time.time() if now is None else now
    lifetime = min(int(settings.MICROCRED_WEBHOOK_LIFETIME), 600)
    claims = {
        "iss": settings.MICROCRED_WEBHOOK_ISSUER,
        "aud": settings.MICROCRED_WEBHOOK_URL,
        "iat": int(now),
        "exp": int(now) + lifetime,
        "jti": uuid.uuid4().hex,
        "event_type": EVENT_PASSING,
        "event_time": (event_time or datetime.now(timezone.utc)).isoformat(),
        "data": data,
    }
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers={"kid": key_id(), "typ": "JWT"})


def deliver(token: str, *, attempts: int | None = None, sleep=time.sleep) -> str:
    """POST the token; returns ``accepted``, ``duplicate``, ``rejected`` or ``failed``."""
    url = settings.MICROCRED_WEBHOOK_URL
    attempts = attempts or int(settings.MICROCRED_WEBHOOK_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            resp = requests.post(url, data=token, timeout=float(settings.MICROCRED_WEBHOOK_TIMEOUT),
                                 headers={"Content-Type": "application/jwt", "Accept": "application/json"})
        except requests.RequestException as exc:
            problem = f"{type(exc).__name__}"
        else:
            if 200 <= resp.status_code < 300:
                return "accepted"
            if resp.status_code == 409:
                return "duplicate"
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if 400 <= resp.status_code < 500:
                log.error("microcred webhook rejected by the tool: HTTP %s %s: %s", resp.status_code,
                          body.get("error"), body.get("message"))
                return "rejected"
            problem = f"HTTP {resp.status_code} {body.get('error', '')}".strip()
        if attempt < attempts:
            delay = 2 ** (attempt - 1)
            log.warning("microcred webhook attempt %s/%s failed (%s); retrying in %ss", attempt, attempts, problem, delay)
            sleep(delay)
        else:
            log.error("microcred webhook failed after %s attempts (%s)", attempts, problem)
    return "failed"


def send_passing_status(data: dict, event_time: datetime | None = None) -> str | None:
    """Sign now and deliver (in a thread after commit unless MICROCRED_WEBHOOK_ASYNC is False)."""
    if not settings.MICROCRED_WEBHOOK_URL:
        return None
    token = build_token(data, event_time=event_time)
    if not settings.MICROCRED_WEBHOOK_ASYNC:
        return deliver(token)
    from django.db import transaction

    def start():
        threading.Thread(target=deliver, args=(token,), name="microcred-webhook", daemon=True).start()
    transaction.on_commit(start)
    return "queued"
