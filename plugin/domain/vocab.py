"""Controlled values of a definition and the EU vocabulary URIs they map to.

Concept URIs are those of the Europass / European Learning Model controlled lists
(``http://data.europa.eu/snb/...``), as used by the European Commission's own Annex I
sample (``shared/elm/Sample-MC-Annex1-unsigned.jsonld``). Where the EU list has no
concept for a value we know of, the value maps to the project vocabulary
(:data:`PROJECT_VOCAB`) instead of a guessed EU code.
"""
from __future__ import annotations

PROJECT_VOCAB = "https://w3id.org/microcred/vocab#"
SNB = "http://data.europa.eu/snb/"

# EQF levels 1..8
EQF_SCHEME = SNB + "eqf/25831c2"


def eqf_uri(level: int) -> str:
    if not 1 <= int(level) <= 8:
        raise ValueError("the EQF level is between 1 and 8")
    return f"{SNB}eqf/{int(level)}"


# QF-EHEA cycles (Bologna framework): no EU concept list in ELM; project vocabulary.
QF_EHEA_CYCLES = {
    "short": "Short cycle (within or linked to the first cycle)",
    "first": "First cycle (Bachelor)",
    "second": "Second cycle (Master)",
    "third": "Third cycle (Doctorate)",
}


def qf_ehea_uri(cycle: str) -> str:
    return f"{PROJECT_VOCAB}qf-ehea-{cycle}"


# Form of participation -> "Mode of learning and assessment" (learning-assessment list).
PARTICIPATION = {
    "online": (SNB + "learning-assessment/920fbb3cbe", "Online"),
    "onsite": (SNB + "learning-assessment/9191af2ed9", "Onsite (presential)"),
    "blended": (SNB + "learning-assessment/e92d221e4d", "Blended"),
}

# Supervision and identity verification during assessment: the four cases of the
# Council Recommendation. Only "unsupervised, no ID verification" has an EU concept
# we can cite from the Commission's sample; the others use the project vocabulary.
SUPERVISION = {
    "unsupervised-no-id": (SNB + "supervision-verification/c598449d64",
                           "Unsupervised, with no identity verification"),
    "supervised-no-id": (PROJECT_VOCAB + "supervised-no-id",
                         "Supervised, with no identity verification"),
    "supervised-online-id": (PROJECT_VOCAB + "supervised-online-id",
                             "Supervised online, with identity verification"),
    "supervised-onsite-id": (PROJECT_VOCAB + "supervised-onsite-id",
                             "Supervised onsite, with identity verification"),
}

STACKABILITY = {
    "stand-alone": "Stand-alone, not integrated or stackable",
    "integrated": "Integrated into another credential",
    "stackable": "Stackable towards another credential",
}

LEARNING_SETTING_NON_FORMAL = SNB + "learning-setting/e207a81fc7"
ECTS_FRAMEWORK = SNB + "education-credit/6fcec5c5af"


def isced_f_uri(code: str) -> str:
    """ISCED-F 2013 field: ``0613`` -> ``http://data.europa.eu/snb/isced-f/0613``."""
    return f"{SNB}isced-f/{code}"


# The 24 official EU languages (ISO 639-1) -> EU "language" authority table (ISO 639-2/B style codes).
LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language/"
LANGUAGES = {
    "bg": ("BUL", "Bulgarian"), "cs": ("CES", "Czech"), "da": ("DAN", "Danish"), "de": ("DEU", "German"),
    "el": ("ELL", "Greek"), "en": ("ENG", "English"), "es": ("SPA", "Spanish"), "et": ("EST", "Estonian"),
    "fi": ("FIN", "Finnish"), "fr": ("FRA", "French"), "ga": ("GLE", "Irish"), "hr": ("HRV", "Croatian"),
    "hu": ("HUN", "Hungarian"), "it": ("ITA", "Italian"), "lt": ("LIT", "Lithuanian"), "lv": ("LAV", "Latvian"),
    "mt": ("MLT", "Maltese"), "nl": ("NLD", "Dutch"), "pl": ("POL", "Polish"), "pt": ("POR", "Portuguese"),
    "ro": ("RON", "Romanian"), "sk": ("SLK", "Slovak"), "sl": ("SLV", "Slovenian"), "sv": ("SWE", "Swedish"),
}


def language_uri(code: str) -> str:
    entry = LANGUAGES.get(code.lower().split("-")[0])
    if entry is None:
        raise ValueError(f"unknown language code {code!r}")
    return LANGUAGE_AUTHORITY + entry[0]


def language_label(code: str) -> str:
    entry = LANGUAGES.get(code.lower().split("-")[0])
    return entry[1] if entry else code
