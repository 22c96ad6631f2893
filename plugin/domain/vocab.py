"""Controlled values of a definition and the EU vocabulary URIs they map to.

Concept URIs are those of the Europass / European Learning Model (ELM) controlled lists
(``http://data.europa.eu/snb/...``). Every EU URI below was read in a published source,
recorded next to it and in :data:`SOURCES` (and in ``docs/credential-format.md``):

- ``ELM_REPO``: the Commission's ELM repository, github.com/european-commission-empl/
  European-Learning-Model, controlled-vocabulary XSDs under ``xsd/loq/cv/`` and
  ``xsd/ams/cv/`` (each enumerates the concept URIs of one list with its English label);
- ``EC_SAMPLE``: the Commission's Annex I micro-credential sample
  ``Credentials/JSON-LD Examples (ELM v3)/Sample-MC-Annex1-unsigned.jsonld`` in the same
  repository (also in ``shared/elm/``).

Where no EU concept could be found in a published source, the value maps to the project
vocabulary (:data:`PROJECT_VOCAB`) instead of a guessed EU code.
"""
from __future__ import annotations

PROJECT_VOCAB = "https://w3id.org/microcred/vocab#"
SNB = "http://data.europa.eu/snb/"

ELM_REPO = "github.com/european-commission-empl/European-Learning-Model"
EC_SAMPLE = f"{ELM_REPO}: Credentials/JSON-LD Examples (ELM v3)/Sample-MC-Annex1-unsigned.jsonld"

# Concept scheme -> where its concept URIs used here were read.
SOURCES = {
    SNB + "eqf/25831c2": f"{ELM_REPO}: xsd/ams/cv/eqf.xsd",
    SNB + "learning-assessment/25831c2": f"{ELM_REPO}: xsd/loq/cv/europass-modes.xsd",
    SNB + "supervision-verification/25831c2": EC_SAMPLE,
    SNB + "learning-setting/25831c2": f"{ELM_REPO}: xsd/loq/cv/europass-learning-setting-types.xsd",
    SNB + "education-credit/25831c2": f"{ELM_REPO}: xsd/loq/cv/credit-points.xsd",
    SNB + "isced-f/25831c2": f"{ELM_REPO}: xsd/ams/cv/isced-f.xsd",
    "http://publications.europa.eu/resource/authority/language": f"{ELM_REPO}: xsd/ams/cv/language.xsd",
    "http://publications.europa.eu/resource/authority/country": f"{ELM_REPO}: xsd/ams/cv/country.xsd",
    SNB + "accreditation/25831c2": f"{ELM_REPO}: xsd/ams/cv/europass-accreditation-types.xsd",
}

# EQF levels 1..8: http://data.europa.eu/snb/eqf/1 .. /8, "Level 1".."Level 8"
# (source: ELM repo xsd/ams/cv/eqf.xsd; the EC sample uses eqf/6).
EQF_SCHEME = SNB + "eqf/25831c2"


def eqf_uri(level: int) -> str:
    if not 1 <= int(level) <= 8:
        raise ValueError("the EQF level is between 1 and 8")
    return f"{SNB}eqf/{int(level)}"


# QF-EHEA cycles (Bologna framework). No EU concept list: the ELM XSDs and SHACL shapes
# have no QF-EHEA scheme (only EQF and national "qdr" levels), so these stay in the
# project vocabulary.
QF_EHEA_CYCLES = {
    "short": "Short cycle (within or linked to the first cycle)",
    "first": "First cycle (Bachelor)",
    "second": "Second cycle (Master)",
    "third": "Third cycle (Doctorate)",
}


def qf_ehea_uri(cycle: str) -> str:
    if cycle not in QF_EHEA_CYCLES:
        raise ValueError(f"unknown QF-EHEA cycle {cycle!r}")
    return f"{PROJECT_VOCAB}qf-ehea-{cycle}"


# Form of participation -> "Modes of learning and assessment" (scheme learning-assessment/25831c2).
# Source: ELM repo xsd/loq/cv/europass-modes.xsd, which lists 920fbb3cbe "Online",
# 9191af2ed9 "Presential", e92d221e4d "Blended" (and Workbased, Project based,
# Research-Lab based, which the Recommendation's online/onsite/blended does not use).
# The EC sample uses 920fbb3cbe and e92d221e4d.
PARTICIPATION_SCHEME = SNB + "learning-assessment/25831c2"
PARTICIPATION = {
    "online": (SNB + "learning-assessment/920fbb3cbe", "Online"),
    "onsite": (SNB + "learning-assessment/9191af2ed9", "Onsite (presential)"),
    "blended": (SNB + "learning-assessment/e92d221e4d", "Blended"),
}

# Supervision and identity verification during assessment: the cases of the Council
# Recommendation. Only "unsupervised, no ID verification" has an EU concept we could cite:
# c598449d64 "Unsupervised without ID Verification" in the EC's Annex I sample
# (provenBy.idVerification). No published source we could find gives the concept URIs
# of "supervised, no ID verification" or "supervised online / onsite with ID
# verification" (the scheme's concepts are not in the ELM XSDs or SHACL shapes), so
# those three stay in the project vocabulary.
SUPERVISION_SCHEME = SNB + "supervision-verification/25831c2"
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

# Integration / stackability: no EU controlled list; written as a label only.
STACKABILITY = {
    "stand-alone": "Stand-alone, not integrated or stackable",
    "integrated": "Integrated into another credential",
    "stackable": "Stackable towards another credential",
}

# Learning setting: e207a81fc7 "non-formal learning" (6fd4685715 is "formal learning").
# Source: ELM repo xsd/loq/cv/europass-learning-setting-types.xsd; used by the EC sample.
LEARNING_SETTING_NON_FORMAL = SNB + "learning-setting/e207a81fc7"
# Credit system: 6fcec5c5af "European Credit Transfer System".
# Source: ELM repo xsd/loq/cv/credit-points.xsd; used by the EC sample.
ECTS_FRAMEWORK = SNB + "education-credit/6fcec5c5af"


def is_eu_concept(uri: str) -> bool:
    """True for an EU controlled-vocabulary concept, False for a project-vocabulary IRI."""
    return uri.startswith(SNB) or uri.startswith(LANGUAGE_AUTHORITY)


# ISCED-F 2013 fields: http://data.europa.eu/snb/isced-f/<2-4 digit code>.
# Source: ELM repo xsd/ams/cv/isced-f.xsd (e.g. isced-f/0613); the EC sample uses isced-f/0688.
def isced_f_uri(code: str) -> str:
    """ISCED-F 2013 field: ``0613`` -> ``http://data.europa.eu/snb/isced-f/0613``."""
    return f"{SNB}isced-f/{code}"


# Languages: every ISO 639-1 code -> its concept in the EU Publications Office "language"
# authority table (http://publications.europa.eu/resource/authority/language/<code>), read from
# plugin/data/language-codes.json (sources there; the ELM repo's xsd/ams/cv/language.xsd
# lists the concepts, the EC sample uses language/ENG). English names from Unicode CLDR (Babel).
LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language/"
# The 24 official EU languages, which pickers offer first.
EU_LANGUAGES = ("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv",
                "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv")


def _languages() -> dict[str, tuple[str, str]]:
    import json

    from babel import Locale

    from plugin.paths import DATA_DIR
    codes = json.loads((DATA_DIR / "language-codes.json").read_text(encoding="utf-8"))["languages"]
    names = Locale("en").languages
    return {code: (three, names.get(code, code)) for code, three in codes.items()}


LANGUAGES = _languages()


def language_uri(code: str) -> str:
    entry = LANGUAGES.get(code.lower().split("-")[0])
    if entry is None:
        raise ValueError(f"unknown language code {code!r}")
    return LANGUAGE_AUTHORITY + entry[0]


def language_label(code: str) -> str:
    entry = LANGUAGES.get(code.lower().split("-")[0])
    return entry[1] if entry else code


# Countries -> EU Publications Office "country" authority table
# (http://publications.europa.eu/resource/authority/country/<ISO 3166-1 alpha-3>).
# Source: ELM repo xsd/ams/cv/country.xsd; the EC sample uses country/IRL, /BEL, /ITA.
# The EU/EEA countries, Switzerland and the United Kingdom (the countries the awarding-body
# form names); any other code has no mapping and the EDC export says so.
COUNTRY_AUTHORITY = "http://publications.europa.eu/resource/authority/country"
COUNTRY_ALPHA3 = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "HR": "HRV", "CY": "CYP", "CZ": "CZE", "DK": "DNK", "EE": "EST",
    "FI": "FIN", "FR": "FRA", "DE": "DEU", "GR": "GRC", "HU": "HUN", "IE": "IRL", "IT": "ITA", "LV": "LVA",
    "LT": "LTU", "LU": "LUX", "MT": "MLT", "NL": "NLD", "PL": "POL", "PT": "PRT", "RO": "ROU", "SK": "SVK",
    "SI": "SVN", "ES": "ESP", "SE": "SWE", "IS": "ISL", "LI": "LIE", "NO": "NOR", "CH": "CHE", "GB": "GBR",
}


def country_uri(code: str) -> str | None:
    """``FR`` -> ``http://publications.europa.eu/resource/authority/country/FRA`` (None if unmapped)."""
    alpha3 = COUNTRY_ALPHA3.get((code or "").strip().upper())
    return f"{COUNTRY_AUTHORITY}/{alpha3}" if alpha3 else None


# Type of quality assurance -> Europass "accreditation types" (scheme accreditation/25831c2).
# Source: ELM repo xsd/ams/cv/europass-accreditation-types.xsd, which lists exactly these four.
ACCREDITATION_SCHEME = SNB + "accreditation/25831c2"
ACCREDITATION_TYPES = {
    "institutional-qa": (SNB + "accreditation/bb4618238e", "Institutional Quality Assurance"),
    "programme-qa": (SNB + "accreditation/820101cba6", "Program Quality Assurance"),
    "institutional-licence": (SNB + "accreditation/003293d2ce", "Institutional License"),
    "programme-licence": (SNB + "accreditation/e57dddfcf3", "Program License"),
}
