"""Types of assessment from the EU's controlled list (ELM "Assessment type", scheme
``http://data.europa.eu/snb/assessment/25831c2``), read from ``plugin/data/vocabularies/assessment.json``.

A definition stores its type of assessment as text (``DefinitionData.assessment_type``): the
English label of the EU concept, optionally followed by " — " and details ("Written examination —
2-hour exam"). :func:`method_of` gives back the concept URI of such a text, which the EDC carries as
the assessment specification's ``dc:type``; any other wording (older definitions, free text) has
no concept and stays text only.
"""
from __future__ import annotations

import json
from functools import lru_cache

from plugin.domain.i18n import localized
from plugin.domain.vocab_labels import VOCABULARIES_DIR

ASSESSMENT_SCHEME = "http://data.europa.eu/snb/assessment/25831c2"
DETAILS_SEPARATOR = " — "


@lru_cache(maxsize=1)
def methods() -> dict[str, dict]:
    """Concept URI -> {"en": …, "fr": …, "aliases": [...]}, in the order of the data file."""
    data = json.loads((VOCABULARIES_DIR / "assessment.json").read_text(encoding="utf-8"))
    return {uri: {**entry["labels"], "aliases": entry.get("aliases", [])} for uri, entry in data["concepts"].items()}


def english(uri: str) -> str:
    return methods()[uri]["en"]


def label(uri: str, locale: str = "en") -> str:
    return localized(methods()[uri], locale)


def split(text: str) -> tuple[str | None, str]:
    """``text`` as (concept URI, details) when it starts with a concept's English label (or alias);
    (None, text) otherwise."""
    text = text or ""
    for uri, m in methods().items():
        for wording in (m["en"], *m["aliases"]):
            if text == wording:
                return uri, ""
            if text.startswith(wording + DETAILS_SEPARATOR):
                return uri, text[len(wording) + len(DETAILS_SEPARATOR):]
    return None, text


def method_of(text: str) -> str | None:
    """The EU concept URI of a stored type of assessment, or None when it names none."""
    return split(text)[0]
