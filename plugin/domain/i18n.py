"""Translatable messages for pure code (domain, evidence, issuance) that must not import Flask.

Pure code builds its sentences for people with :func:`N_`, which returns a :class:`Msg`:
a ``str`` holding the **English** text (so logs, the CLI, the database and existing callers
keep working unchanged) that also remembers its message id and parameters. The web layer
translates it with :func:`translate` and Flask-Babel's ``gettext`` (see
``plugin.web.extensions``: the ``tr`` template filter and ``plugin.web.extensions.tr``).

``pybabel extract -k N_`` finds the message ids (``babel.cfg`` lists the modules).
Parameters are ``%(name)s`` placeholders; a parameter that is itself a :class:`Msg` is
translated too, and a list or tuple parameter is translated item by item and joined
with ``"; "``.
"""
from __future__ import annotations

from typing import Any, Callable

Gettext = Callable[[str], str]


def _identity(s: str) -> str:
    return s


def _render(msgid: str, params: dict[str, Any], gettext: Gettext) -> str:
    text = gettext(msgid)
    if not params:
        return text
    return text % {k: _param(v, gettext) for k, v in params.items()}


def _param(value: Any, gettext: Gettext) -> Any:
    if isinstance(value, Msg):
        return value.translate(gettext)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_param(v, gettext)) for v in value)
    return value


class Msg(str):
    """English text that can be re-rendered in another language (see the module docstring)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None) -> "Msg":
        params = dict(params or {})
        self = super().__new__(cls, _render(msgid, params, _identity))
        self.msgid = msgid
        self.params = params
        return self

    def translate(self, gettext: Gettext) -> str:
        return _render(self.msgid, self.params, gettext)

    def __reduce__(self):  # pickles (job payloads) keep the message id
        return (Msg, (self.msgid, self.params))


def N_(msgid: str, **params: Any) -> Msg:
    """Mark ``msgid`` for extraction and build the message; translated later by the caller."""
    return Msg(msgid, params)


def translate(value: Any, gettext: Gettext) -> Any:
    """``value`` in the caller's language: a :class:`Msg` is translated, a list item by item,
    anything else (plain text from a platform, a person, an exception) is returned unchanged."""
    if isinstance(value, Msg):
        return value.translate(gettext)
    if isinstance(value, list):
        return [translate(v, gettext) for v in value]
    if isinstance(value, tuple):
        return tuple(translate(v, gettext) for v in value)
    return value


def language_of(locale: str | None) -> str:
    """The language of a locale: "fr" for "fr", "fr-FR" or "fr_CA"; "en" when none is given."""
    return ((locale or "en").replace("-", "_").split("_")[0] or "en").lower()


_STRICT = object()


def localized(texts: dict, locale: str | None, default=_STRICT):
    """``texts`` (language -> text) for ``locale``: its exact entry, else its language's, else
    English (``default`` when given and there is no English either)."""
    found = texts.get(locale or "en") or texts.get(language_of(locale))
    if found:
        return found
    return texts["en"] if default is _STRICT else texts.get("en", default)


def gettext_for(locale: str | None) -> Gettext:
    """The catalogue's ``gettext`` for ``locale`` ("fr", "fr-FR", "fr_CA"…), for code that runs
    outside a request (background jobs: e-mails); English, or a language without a catalogue,
    gives the text unchanged."""
    return _catalogue(language_of(locale)).gettext


def _catalogue(language: str):
    from babel.support import NullTranslations, Translations

    from plugin.paths import PACKAGE_DIR
    if language not in _CATALOGUES:
        folder = PACKAGE_DIR / "translations"
        found = Translations.load(str(folder), [language], domain="messages") if language != "en" else None
        _CATALOGUES[language] = found if isinstance(found, Translations) else NullTranslations()
    return _CATALOGUES[language]


_CATALOGUES: dict = {}
