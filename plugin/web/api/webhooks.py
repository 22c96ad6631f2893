"""Signed events from the platform plugins, one endpoint per platform:

* ``POST /api/webhooks/openedx``: course-passing events from the Open edX plugin;
* ``POST /api/webhooks/moodle``: course-status events (completion, grades) from the Moodle
  plugin ``local_microcred``.

The body is the compact JWT itself (``Content-Type: application/jwt``), or JSON
``{"token": "<jwt>"}``. CSRF-exempt: the signature is the authentication. Every
rejection is a 4xx JSON body naming the problem (``error`` = a stable code) and one log
line (never the token). An accepted event is recorded and, when the course's policy says
so, the credential is issued before the reply (idempotent: a second delivery changes nothing).
When issuing fails (signing, keys, storage), the event is still accepted (200) and kept: its
result's ``action`` is ``pending`` (or ``failed``) with ``issue_error`` in plain words, and a
job retries it (:mod:`plugin.issuance.pending`), so the sender does not re-send a valid event
for a failure on our side. 503 only when nothing could be recorded at all.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import DataError

from plugin.evidence import moodle_plugin, openedx
from plugin.evidence.signed_webhook import WebhookRejected, webhook_key_sets
from plugin.logging import log_event
from plugin.web.context import db, services
from plugin.web.extensions import csrf
from plugin.web.ratelimits import webhook_limit
from plugin.web.request_log import current_request_id

log = logging.getLogger("microcred.webhooks")

bp = Blueprint("webhooks", __name__)

WEBHOOK_PATH = openedx.WEBHOOK_PATH


def webhook_audience(path: str = WEBHOOK_PATH) -> str:
    return services().settings.base_url + path


def _token_from_request() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            return body["token"]
        return ""
    return request.get_data(as_text=True)[:65536]  # cached: the rate limit read it first


def _rejected(name: str, exc: WebhookRejected):
    log_event(log, f"{name} webhook rejected", logging.WARNING, request_id=current_request_id(),
              code=exc.code, reason=exc.message, remote=request.remote_addr)
    response = jsonify({"error": exc.code, "message": exc.message, "status": exc.status,
                        "request_id": current_request_id()})
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, exc.status


def _receive(name: str, path: str, verify: Callable[..., tuple[Any, dict]], handle: Callable[..., dict]):
    session = db()
    svc = services()
    # Read before the try: a body over the size limit is a 413 (werkzeug raises it here), never
    # the 503 that asks the sender to deliver it again.
    token = _token_from_request()
    try:
        _platform, claims = verify(session, token, audience=webhook_audience(path),
                                   key_sets=webhook_key_sets(session, svc))
        result = handle(session, svc, claims)
        session.commit()
    except WebhookRejected as exc:
        session.rollback()
        return _rejected(name, exc)
    except DataError as exc:
        # The database refuses a value of the event (too long for its column, out of range): the
        # same event would fail every time, so it is the sender's 400, not a 503 to retry.
        session.rollback()
        return _rejected(name, WebhookRejected(400, "invalid_payload", "the event holds a value that cannot be "
                                               f"stored ({type(exc.orig).__name__ if exc.orig else 'DataError'})"))
    except Exception as exc:
        # Nothing was kept (the jti included): the sender retries later and is accepted then.
        session.rollback()
        log.exception(f"{name} webhook processing failed",
                      extra={"fields": {"request_id": current_request_id(), "error": type(exc).__name__}})
        return jsonify({"error": "processing_failed", "status": 503, "request_id": current_request_id(),
                        "message": "the event was valid but could not be processed now; deliver it again later"}), 503
    log_event(log, f"{name} webhook accepted", request_id=current_request_id(), platform=claims["iss"],
              jti=claims["jti"], results=[(r["definition_id"], r["action"]) for r in result["results"]])
    return jsonify(result), 200


@bp.post(openedx.WEBHOOK_PATH)
@csrf.exempt
@webhook_limit  # per platform (the token's iss); MICROCRED_RATELIMIT_WEBHOOK
def openedx_webhook():
    return _receive("openedx", openedx.WEBHOOK_PATH, openedx.verify_webhook, openedx.handle_passing_event)


@bp.post(moodle_plugin.WEBHOOK_PATH)
@csrf.exempt
@webhook_limit
def moodle_webhook():
    return _receive("moodle", moodle_plugin.WEBHOOK_PATH, moodle_plugin.verify_webhook,
                    moodle_plugin.handle_course_status)
