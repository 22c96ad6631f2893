"""The labels of vocabulary concepts in each language, read from data, not code.

``plugin/data/vocabularies/<scheme>.json`` holds one controlled vocabulary each: its
source and licence, and per concept URI its ``labels`` by language (the EU Vocabularies'
own ``skos:prefLabel`` in every EU language where the EU gives them), ``ours`` (the
languages whose label microcred wrote because the EU gives none) and ``aliases`` (the
English texts older credentials carry instead of the URI). ``plugin/data/isced_f.json``
holds the ISCED-F fields. A third UI language needs no code: its labels are in these
files already (or a key added to them) and its messages in ``plugin/translations``.
"""
from __future__ import annotations

import json
from functools import lru_cache

from plugin.domain.vocab import SNB
from plugin.paths import DATA_DIR

VOCABULARIES_DIR = DATA_DIR / "vocabularies"
ISCED_FILE = DATA_DIR / "isced_f.json"


def vocabulary_files() -> list:
    return sorted(VOCABULARIES_DIR.glob("*.json"))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, frozenset[str]]]:
    concepts: dict[str, dict[str, str]] = {}
    aliases: dict[str, str] = {}
    ours: dict[str, frozenset[str]] = {}
    for path in vocabulary_files():
        for uri, entry in json.loads(path.read_text(encoding="utf-8"))["concepts"].items():
            concepts[uri] = dict(entry["labels"])
            ours[uri] = frozenset(entry.get("ours", ()))
            for alias in entry.get("aliases", []):
                aliases.setdefault(alias, uri)
    from babel import Locale

    from plugin.domain.vocab import LANGUAGE_AUTHORITY, LANGUAGES
    # The languages language.json does not label (it has the EU's 24): CLDR's names, in each
    # language the data labels anything in.
    langs = sorted({lang for labels in concepts.values() for lang in labels} | {"en", "fr"})
    names = {lang: Locale.parse(lang).languages for lang in langs}
    for code, (three, _english) in LANGUAGES.items():
        concepts.setdefault(LANGUAGE_AUTHORITY + three, {lang: n[code] for lang, n in names.items() if code in n})
    for field in json.loads(ISCED_FILE.read_text(encoding="utf-8"))["fields"]:
        uri = f"{SNB}isced-f/{field['code']}"
        concepts[uri] = {k: v for k, v in field.items() if k not in ("code", "ours")}
        ours[uri] = frozenset(field.get("ours", ()))
    for uri, labels in concepts.items():
        aliases.setdefault(labels.get("en", ""), uri)
    aliases.pop("", None)
    return concepts, aliases, ours


def languages() -> set[str]:
    """Every language some label is given in."""
    return {lang for labels in _tables()[0].values() for lang in labels}


def concept_of(text: str) -> str | None:
    """The concept URI of ``text``: a URI we have labels for, or a known English label."""
    concepts, aliases, _ = _tables()
    if text in concepts:
        return text
    return aliases.get(text)


def labels_of(uri: str) -> dict[str, str]:
    """Every label of the concept ``uri`` by language (empty when unknown)."""
    return dict(_tables()[0].get(uri, {}))


def is_ours(uri: str, locale: str) -> bool:
    """True when the label of ``uri`` in ``locale`` is microcred's, not the EU's."""
    return locale in _tables()[2].get(uri, frozenset())


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
