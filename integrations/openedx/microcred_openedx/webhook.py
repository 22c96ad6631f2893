"""Sign and deliver the course-passing webhook to the tool.

The JWT: header ``alg`` (EdDSA, RS256 or ES256 from the key type) and ``kid``; claims
``iss`` (this LMS as LTI issuer), ``aud`` (the tool's webhook URL), ``iat``, ``exp``
(``MICROCRED_WEBHOOK_LIFETIME`` s later, at most 600), ``jti``, ``event_type``,
``event_time`` and ``data`` (``is_passing``, ``course_key``, ``user``, ``grade``).

Delivery retries with exponential backoff on network errors and 5xx answers, and after
the ``Retry-After`` delay (at most :data:`MAX_RETRY_AFTER` s) on a 429 from the tool's
per-platform rate limit, re-sending the same token (the tool accepts a jti once: a 409
"replayed" means an earlier attempt got through). Other 4xx answers are configuration
problems: logged, not retried.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from functools import lru_cache

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from microcred_openedx import tokens

log = logging.getLogger(__name__)

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
    key = _load_key(pem)
    try:
        tokens.algorithm_for(key)
    except ValueError as exc:
        raise WebhookConfigError(str(exc)) from None
    return key


def public_jwk() -> dict:
    """The public half as a JWK (served at /microcred/webhook-jwks.json for the tool's admin)."""
    return tokens.public_jwk(private_key(), settings.MICROCRED_WEBHOOK_KEY_ID or None)


def build_token(data: dict, *, now: float | None = None, event_time: datetime | None = None) -> str:
    return tokens.build_passing_token(
        private_key(), issuer=settings.MICROCRED_WEBHOOK_ISSUER, audience=settings.MICROCRED_WEBHOOK_URL,
        data=data, kid=settings.MICROCRED_WEBHOOK_KEY_ID or None,
        lifetime=int(settings.MICROCRED_WEBHOOK_LIFETIME), now=now, event_time=event_time)


MAX_RETRY_AFTER = 120  # seconds: a token lives at most 600 s, and is re-sent as it is


def _retry_after(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip()), MAX_RETRY_AFTER))
    except ValueError:
        return 30


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
            if resp.status_code == 429:
                # The tool's per-platform limit: wait as long as it says (within the token's life).
                if attempt == attempts:
                    log.error("microcred webhook failed after %s attempts (rate limited by the tool)", attempts)
                    return "failed"
                wait = _retry_after(resp.headers.get("Retry-After"))
                log.warning("microcred webhook attempt %s/%s rate limited; retrying in %ss", attempt, attempts, wait)
                sleep(wait)
                continue
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
