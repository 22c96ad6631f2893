"""National qualifications frameworks (NQF): the level a credential has in its country's framework.

Annex I of the Council Recommendation asks for the level "(EQF, QF-EHEA), if applicable"; in
France the national framework of professional certifications (levels 1 to 8, décret n° 2019-14)
is what employers and France Compétences (RNCP) read. ``plugin/data/national-frameworks.json``
holds each framework: its names, its levels with their EQF level, and, where the EU's
``http://data.europa.eu/snb/qdr/25831c2`` list has one (the scheme the EDC shapes require for
``elm:NQFLevel``), the EU concept of the level. A level the EU list lacks has no concept: the
credential names it in words, never with a made-up IRI. Sources are in the data file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from plugin.domain.i18n import localized
from plugin.paths import DATA_DIR

NQF_SCHEME = "http://data.europa.eu/snb/qdr/25831c2"
FRAMEWORKS_FILE = DATA_DIR / "national-frameworks.json"


@dataclass(frozen=True)
class Level:
    number: int
    eqf: int | None
    labels: dict
    concept: str | None  # EU concept in NQF_SCHEME, or None
    concept_label: str | None
    hints: dict

    def hint(self, locale: str = "en") -> str:
        """Plain words for the level ("e.g. licence, BUT"), '' when none."""
        return localized(self.hints, locale, "")

    def label(self, locale: str = "en") -> str:
        return localized(self.labels, locale)


@dataclass(frozen=True)
class Framework:
    key: str
    country: str
    names: dict
    short: dict
    concept: str | None
    concept_label: str | None
    levels: dict  # number -> Level

    def name(self, locale: str = "en") -> str:
        return localized(self.names, locale)

    def short_name(self, locale: str = "en") -> str:
        return localized(self.short, locale)


@lru_cache(maxsize=1)
def frameworks() -> dict[str, Framework]:
    data = json.loads(FRAMEWORKS_FILE.read_text(encoding="utf-8"))["frameworks"]
    out = {}
    for key, f in data.items():
        levels = {int(n): Level(int(n), lv.get("eqf"), dict(lv["labels"]), lv.get("concept"), lv.get("concept_label"),
                        dict(lv.get("hints") or {}))
                  for n, lv in f["levels"].items()}
        out[key] = Framework(key, f["country"], dict(f["names"]), dict(f.get("short") or f["names"]),
                             f.get("concept"), f.get("concept_label"), dict(sorted(levels.items())))
    return out


def level(framework: str | None, number: int | None) -> Level | None:
    f = frameworks().get(framework or "")
    return f.levels.get(number) if f is not None and number is not None else None


def check(framework: str | None, number: int | None) -> None:
    """Raise ValueError, in words an instructor understands, unless both are given and known (or neither)."""
    if framework is None and number is None:
        return
    if framework is None:
        raise ValueError("a national framework level needs its framework: choose the framework")
    f = frameworks().get(framework)
    if f is None:
        raise ValueError(f"unknown national framework {framework!r}")
    if number is None:
        raise ValueError("choose the level in the national framework")
    if number not in f.levels:
        raise ValueError(f"the {f.name('en')} has levels {min(f.levels)} to {max(f.levels)}")


def alignment(framework: str, number: int) -> dict:
    """The OB 3.0 ``Alignment`` of the achievement to its national framework level (typed like the EQF one)."""
    f = frameworks()[framework]
    lv = f.levels[number]
    out = {"type": ["Alignment"], "targetName": lv.label("en"), "targetCode": str(number),
           "targetFramework": f.name("en"), "targetType": "ext:NQFLevel"}
    url = lv.concept or f.concept
    if url:
        out["targetUrl"] = url
    if lv.eqf:
        out["targetDescription"] = f"Level {number} of the {f.name('en')} ({f.country}), at EQF level {lv.eqf}"
    return out

