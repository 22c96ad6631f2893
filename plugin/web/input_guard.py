"""Checks every request passes before any view sees it: input no page can accept is a 400 here,
in one place, with a sentence saying what is wrong (never a 500 from a database driver later).

* **NUL characters** (``%00``, ``\\u0000``) in the path, the query, a form field (names and
  values) or a JSON body: PostgreSQL refuses them in text ("A string literal cannot contain
  NUL characters"), so a lookup with one failed with a 500, and a streamed CSV export was cut
  off after its 200. No identifier, search or field of the tool has a use for them.

* **JSON bodies that are not JSON** (``Content-Type: application/json``): ``NaN``/``Infinity``
  (Python's reader takes them; RFC 8259 does not), nesting deeper than
  :data:`plugin.strict_json.MAX_DEPTH` (it raised ``RecursionError``, a 500 or a webhook's 503),
  or text that does not parse. The app's JSON reader (``request.get_json``) is strict the same way.

Uploaded files are not looked at: a PNG or PDF holds NUL bytes, and the verifier reads them.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

from plugin import strict_json

NUL = "\x00"


def _multidict_has_nul(values) -> bool:
    return any(NUL in key or NUL in value for key, value in values.items(multi=True))


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with a strict reader (:func:`plugin.strict_json.loads`); writing is unchanged."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_json.loads(s)


def json_body() -> tuple[Any, str | None]:
    """(the parsed JSON body, None), or (None, why it is not JSON) for a JSON request; (None, None)
    for a request without a JSON body. Reading a body over the size limit raises the 413."""
    if "json_body" not in g:
        g.json_body = (None, None)
        if request.is_json:
            data = request.get_data(cache=True)
            if data.strip():
                try:
                    value = strict_json.loads(data)
                except ValueError as exc:
                    g.json_body = (None, str(exc))
                else:
                    g.json_body = (value, None)
                    # What request.get_json() would parse again with the same strict reader: the
                    # view gets this parse (werkzeug's per-request cache) instead of a second one.
                    request._cached_json = (value, value)
    return g.json_body


def where_nul() -> str | None:
    """Where the request carries a NUL character (``path``, ``query``, ``form``, ``json``), or None."""
    if NUL in request.path:
        return "path"
    if NUL in request.query_string.decode("latin-1") or _multidict_has_nul(request.args):
        return "query"
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") and _multidict_has_nul(request.form):
        return "form"
    if strict_json.has_nul(json_body()[0]):
        return "json"
    return None


def refuse_unusable_input():
    from plugin.web.errors import error_response, translated_title
    where = where_nul()
    if where is None:
        _body, not_json = json_body()
        if not_json:
            return error_response(400, translated_title("Bad Request"),
                                  _("The request's JSON body cannot be read: %(why)s.", why=not_json))
        return None
    places = {"path": _("its address"), "query": _("its query string"), "form": _("a form field"),
              "json": _("its JSON body")}
    return error_response(400, translated_title("Bad Request"),
                          _("The request contains a NUL character (%%00) in %(where)s, which nothing in this tool "
                            "accepts. Remove it and try again.", where=places[where]))


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_unusable_input)
