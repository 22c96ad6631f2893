"""The labels of vocabulary concepts in each language, read from data, not code.

``plugin/data/vocabularies/labels.json`` holds, per concept URI, its label in each language
(and the English texts older credentials carry instead of the URI, as ``aliases``);
``plugin/data/isced_f.json`` the ISCED-F fields; languages missing from labels.json are named by
Unicode CLDR (Babel). A third language is a column in those
files (and a catalogue in ``plugin/translations``), not code. Sources are in the files.
"""
from __future__ import annotations

import json
from functools import lru_cache

from plugin.domain.vocab import SNB
from plugin.paths import DATA_DIR

LABELS_FILE = DATA_DIR / "vocabularies" / "labels.json"
ISCED_FILE = DATA_DIR / "isced_f.json"


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    concepts: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    data = json.loads(LABELS_FILE.read_text(encoding="utf-8"))
    for uri, entry in data["concepts"].items():
        concepts[uri] = {k: v for k, v in entry.items() if k != "aliases"}
        for alias in entry.get("aliases", []):
            aliases.setdefault(alias, uri)
    from babel import Locale

    from plugin.domain.vocab import LANGUAGE_AUTHORITY, LANGUAGES
    names = {lang: Locale(lang).languages for lang in ("en", "fr")}
    for code, (three, _english) in LANGUAGES.items():  # the languages labels.json does not name: CLDR's names
        concepts.setdefault(LANGUAGE_AUTHORITY + three, {lang: n[code] for lang, n in names.items() if code in n})
    for field in json.loads(ISCED_FILE.read_text(encoding="utf-8"))["fields"]:
        uri = f"{SNB}isced-f/{field['code']}"
        concepts[uri] = {k: v for k, v in field.items() if k != "code"}
    return concepts, aliases


def languages() -> set[str]:
    """Every language some label is given in."""
    return {lang for labels in _tables()[0].values() for lang in labels}


def concept_of(text: str) -> str | None:
    """The concept URI of ``text``: a URI we have labels for, or a known English label."""
    concepts, aliases = _tables()
    if text in concepts:
        return text
    return aliases.get(text)


def label(text: str, locale: str = "en") -> str | None:
    """``text`` (a concept URI or a known English label) in ``locale``; None when unknown."""
    uri = concept_of(text)
    if uri is None:
        return None
    labels = _tables()[0][uri]
    for key in (locale, (locale or "en")[:2], "en"):
        if key in labels:
            return labels[key]
    return None
