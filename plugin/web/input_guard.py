"""Checks every request passes before any view sees it: input no page can accept is a 400 here,
in one place, with a sentence saying what is wrong (never a 500 from a database driver later).

* **NUL characters** (``%00``, ``\\u0000``) in the path, the query, a form field (names and
  values) or a JSON body: PostgreSQL refuses them in text ("A string literal cannot contain
  NUL characters"), so a lookup with one failed with a 500, and a streamed CSV export was cut
  off after its 200. No identifier, search or field of the tool has a use for them.

Uploaded files are not looked at: a PNG or PDF holds NUL bytes, and the verifier reads them.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import gettext as _

NUL = "\x00"


def _has_nul(value: Any, depth: int = 0) -> bool:
    """NUL anywhere in a parsed JSON value (keys included); depth is bounded by the JSON reader."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in k or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def _multidict_has_nul(values) -> bool:
    return any(NUL in key or NUL in value for key, value in values.items(multi=True))


def where_nul() -> str | None:
    """Where the request carries a NUL character (``path``, ``query``, ``form``, ``json``), or None."""
    if NUL in request.path:
        return "path"
    if NUL in request.query_string.decode("latin-1") or _multidict_has_nul(request.args):
        return "query"
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") and _multidict_has_nul(request.form):
        return "form"
    if request.is_json and _has_nul(request.get_json(silent=True)):
        return "json"
    return None


def refuse_nul():
    where = where_nul()
    if where is None:
        return None
    from plugin.web.errors import error_response, translated_title
    places = {"path": _("its address"), "query": _("its query string"), "form": _("a form field"),
              "json": _("its JSON body")}
    return error_response(400, translated_title("Bad Request"),
                          _("The request contains a NUL character (%%00) in %(where)s, which nothing in this tool "
                            "accepts. Remove it and try again.", where=places[where]))


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)
