"""Error pages: HTML for people, JSON for API clients. Never a stack trace to the client."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from plugin.logging import log_event
from plugin.web.request_log import current_request_id

log = logging.getLogger("microcred.errors")


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json")


def _l(text: str) -> str:
    return text


# HTTP status names (werkzeug's English), for the error page's heading in the page's language.
TITLES = {name: name for name in (
    _l("Bad Request"), _l("Unauthorized"), _l("Forbidden"), _l("Not Found"), _l("Method Not Allowed"),
    _l("Conflict"), _l("Gone"), _l("Request Entity Too Large"), _l("Unsupported Media Type"),
    _l("Unprocessable Entity"), _l("Too Many Requests"), _l("Internal Server Error"), _l("Service Unavailable"))}


def translated_title(name: str) -> str:
    if name in TITLES and not wants_json():
        return _(name)
    return name


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
        return error_response(exc.code or 500, translated_title(exc.name), exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        log.exception("unhandled error", extra={"fields": {"request_id": current_request_id()}})
        return error_response(500, translated_title(InternalServerError().name),
                              _("Something went wrong on our side. Quote the request id if you report it."))
