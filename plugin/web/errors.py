"""Error pages: HTML for people, JSON for API clients. Never a stack trace to the client."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from plugin.logging import log_event
from plugin.web.request_log import current_request_id

log = logging.getLogger("microcred.errors")


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json")


def error_response(status: int, title: str, message: str, **extra):
    rid = current_request_id()
    if wants_json():
        body = {"error": title, "message": message, "status": status, "request_id": rid}
        body.update(extra)
        return jsonify(body), status
    return render_template("error.html", status=status, title=title, message=message,
                           request_id=rid, **extra), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            log_event(log, "server error", logging.ERROR, request_id=current_request_id(), error=str(exc))
        return error_response(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        log.exception("unhandled error", extra={"fields": {"request_id": current_request_id()}})
        return error_response(500, InternalServerError().name,
                              "Something went wrong on our side. Quote the request id if you report it.")
