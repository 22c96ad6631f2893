"""One structured log line per request, with a request id (also sent back as X-Request-ID)."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from plugin.logging import log_event
from plugin.metrics import observe_request

log = logging.getLogger("microcred.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return g.get("request_id")


def init_app(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started:
            observe_request(request.endpoint, request.path, time.perf_counter() - started)
        log_event(log, "request", request_id=rid, method=request.method,
                  path=request.path,  # never the query string or the body: they may carry tokens
                  status=response.status_code,
                  duration_ms=round((time.perf_counter() - started) * 1000, 1) if started else None,
                  remote=request.remote_addr)
        return response
