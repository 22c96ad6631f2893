"""The language switch on every page, and the choice kept.

Which language a page is in (:func:`plugin.web.extensions.select_locale`): ``?lang=``; inside
an LMS launch, the launch's language: the platform's ``locale`` claim until the person
switches, then their choice (kept in the launch on the server: platform iframes often block
third-party cookies); outside a launch, the person's choice (cookie ``microcred_lang``);
then the browser's preference.

* ``GET /language/<code>?next=<path>``: remember ``code`` and go back to ``next`` (a path on
  this site only); every page links to it (``templates/base.html``, :func:`language_links`).
* A page opened with ``?lang=fr`` remembers it too, so the next click stays in French.

A new language is a catalogue (``plugin/translations/<code>``) and a line in
:data:`LANGUAGE_NAMES`; the vocabulary labels come from ``plugin/data/vocabularies``.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import gettext as _

from plugin.web.extensions import LANGUAGES

bp = Blueprint("language", __name__)
COOKIE = "microcred_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
_SECRET_PARAM = re.compile(r"token|jwt|key|secret|password|state|code|nonce", re.I)
# Each language named in itself: a person who cannot read the page still finds theirs.
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def chosen_language() -> str | None:
    """The language this request asks for (``?lang=``) or the person chose before (cookie)."""
    for value in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if value and value[:2].lower() in LANGUAGES:
            return value[:2].lower()
    return None


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never ``//evil.example`` or ``https://…``)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return url_for("home.index")
    return value


def _set_cookie(response, code: str) -> None:
    secure = request.is_secure or (request.headers.get("X-Forwarded-Proto") == "https")
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, path="/", httponly=True, secure=secure,
                        samesite="None" if secure else "Lax")


def _remember_in_launch(next_path: str, code: str) -> None:
    """Inside an LMS the cookie may be dropped: the launch (server side) keeps the choice."""
    launch_ids = parse_qs(urlsplit(next_path).query).get("launch") or []
    if not launch_ids:
        return
    from plugin.storage.models import KeyValue
    from plugin.web.context import db
    row = db().get(KeyValue, f"launch:{launch_ids[0][:128]}")
    if row is not None and row.value.get("locale") != code:
        row.value = {**row.value, "locale": code}
        db().commit()


@bp.get("/language/<code>")
def switch(code: str):
    if code not in LANGUAGES:
        abort(404, description=_("This language is not available."))
    target = _safe_next(request.args.get("next"))
    _remember_in_launch(target, code)
    response = redirect(target, code=303)
    _set_cookie(response, code)
    return response


def language_links() -> list[dict]:
    """One link per language for the switch in ``base.html``: back to this very page."""
    if request.method == "GET":
        # the page's own parameters (launch, access, filters), never anything secret-looking
        args = {k: [v for v in vs if len(v) <= 512] for k, vs in request.args.to_dict(flat=False).items()
                if k != "lang" and not _SECRET_PARAM.search(k)}
        from urllib.parse import urlencode
        query = urlencode(args, doseq=True)
        here = request.path + (f"?{query}" if query else "")
    else:  # the answer to a form: back to the form's page
        here = request.path
    current = str(getattr(g, "locale", "en"))
    return [{"code": code, "name": LANGUAGE_NAMES.get(code, code), "current": code == current,
             "url": url_for("language.switch", code=code, next=here)} for code in LANGUAGES]


@bp.app_context_processor
def _switch():
    return {"language_links": language_links}


@bp.after_app_request
def _remember_lang_parameter(response):
    code = request.args.get("lang", "")[:2].lower()
    if code in LANGUAGES and request.endpoint != "language.switch":
        if request.cookies.get(COOKIE) != code:
            _set_cookie(response, code)
        launch_id = request.args.get("launch")
        if launch_id and request.method == "GET":  # and the launch keeps it, for the next click inside the LMS
            _remember_in_launch(f"/?launch={launch_id}", code)
    return response
