"""``POST /api/webhooks/openedx``: signed course-passing events from the Open edX plugin.

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

from flask import Blueprint, jsonify, request

from plugin.evidence.openedx import (WEBHOOK_PATH, WebhookRejected, handle_passing_event, verify_webhook,
                                     webhook_key_sets)
from plugin.logging import log_event
from plugin.web.context import db, services
from plugin.web.extensions import csrf
from plugin.web.ratelimits import webhook_limit
from plugin.web.request_log import current_request_id

log = logging.getLogger("microcred.webhooks")

bp = Blueprint("webhooks", __name__)


def webhook_audience() -> str:
    return services().settings.base_url + WEBHOOK_PATH


def _token_from_request() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            return body["token"]
        return ""
    return request.get_data(as_text=True)[:65536]  # cached: the rate limit read it first


@bp.post(WEBHOOK_PATH)
@csrf.exempt
@webhook_limit  # per platform (the token's iss); MICROCRED_RATELIMIT_WEBHOOK
def openedx_webhook():
    session = db()
    svc = services()
    try:
        platform, claims = verify_webhook(session, _token_from_request(), audience=webhook_audience(),
                                          key_sets=webhook_key_sets(session, svc))
        result = handle_passing_event(session, services(), claims)
        session.commit()
    except WebhookRejected as exc:
        session.rollback()
        log_event(log, "openedx webhook rejected", logging.WARNING, request_id=current_request_id(),
                  code=exc.code, reason=exc.message, remote=request.remote_addr)
        response = jsonify({"error": exc.code, "message": exc.message, "status": exc.status,
                            "request_id": current_request_id()})
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, exc.status
    except Exception as exc:
        # Nothing was kept (the jti included): the sender retries later and is accepted then.
        session.rollback()
        log.exception("openedx webhook processing failed",
                      extra={"fields": {"request_id": current_request_id(), "error": type(exc).__name__}})
        return jsonify({"error": "processing_failed", "status": 503, "request_id": current_request_id(),
                        "message": "the event was valid but could not be processed now; deliver it again later"}), 503
    log_event(log, "openedx webhook accepted", request_id=current_request_id(), platform=claims["iss"],
              jti=claims["jti"], results=[(r["definition_id"], r["action"]) for r in result["results"]])
    return jsonify(result), 200
