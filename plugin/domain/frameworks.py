"""Alignments of a credential to national and European frameworks (no Flask).

A definition may say which French RNCP block of competences (``RNCP34826BC01``) or
Répertoire spécifique entry (``RS5487``) it prepares for, both registered by France
Compétences, and which ESCO skills it covers. Each becomes an Open Badges 3.0 ``Alignment``
of the achievement (:func:`alignment`). People type them one per line (:func:`parse_lines`):
the code or URI, then optionally " — " or " | " and the name.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from plugin.domain.i18n import N_

Framework = Literal["rncp", "rs", "esco"]
RNCP = re.compile(r"^RNCP(\d{3,6})(BC\d{2})?$")
RS = re.compile(r"^RS(\d{3,6})$")
ESCO = re.compile(r"^http://data\.europa\.eu/esco/(skill|occupation)/[0-9a-f-]{36}$")
FRAMEWORK_NAMES = {"rncp": "RNCP (France Compétences)", "rs": "Répertoire spécifique (France Compétences)",
                   "esco": "ESCO"}


class FrameworkAlignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    framework: Framework
    code: str = Field(min_length=1, max_length=255)  # RNCP/RS code, or the ESCO URI
    name: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _code(self) -> "FrameworkAlignment":
        pattern = {"rncp": RNCP, "rs": RS, "esco": ESCO}[self.framework]
        if not pattern.match(self.code):
            raise ValueError({"rncp": "an RNCP code reads RNCP34826, or RNCP34826BC01 for a block of competences",
                              "rs": "a Répertoire spécifique code reads RS5487",
                              "esco": "an ESCO skill is its URI, http://data.europa.eu/esco/skill/…"}[self.framework])
        return self

    @property
    def url(self) -> str:
        if self.framework == "esco":
            return self.code
        number = (RNCP.match(self.code) or RS.match(self.code)).group(1)
        return f"https://www.francecompetences.fr/recherche/{self.framework}/{number}/"


def parse_line(line: str) -> FrameworkAlignment:
    """``RNCP34826BC01 — Analyser des données`` or ``http://data.europa.eu/esco/skill/… | name``."""
    parts = re.split(r"\s+[—–-]\s+|\s*\|\s*", line.strip(), maxsplit=1)
    code, name = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    upper = code.upper()
    if upper.startswith("RNCP"):
        return FrameworkAlignment(framework="rncp", code=upper, name=name)
    if upper.startswith("RS"):
        return FrameworkAlignment(framework="rs", code=upper, name=name)
    return FrameworkAlignment(framework="esco", code=code, name=name)


# What is wrong with a line, for people (English Msg; the web layer translates it).
LINE_ERRORS = {
    "rncp": N_("an RNCP code reads RNCP34826, or RNCP34826BC01 for a block of competences"),
    "rs": N_("a Répertoire spécifique code reads RS5487"),
    "esco": N_("an ESCO skill is its URI, http://data.europa.eu/esco/skill/…"),
}


def parse_lines(text: str) -> tuple[list[FrameworkAlignment], list[str]]:
    """The alignments typed one per line, and one message per line that is not one
    (:class:`~plugin.domain.i18n.Msg`: English text the web layer translates)."""
    out, errors = [], []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(parse_line(line))
        except ValidationError as exc:
            errors.append(N_("line %(n)s: %(why)s", n=n, why=_why(line, exc)))
    return out, errors


def _why(line: str, exc: ValidationError):
    err = exc.errors()[0]
    field = err["loc"][0] if err["loc"] else ""
    if field == "name" and err["type"] == "string_too_long":
        return N_("the name is too long (at most %(max)s characters)", max=err["ctx"]["max_length"])
    if field == "code" and err["type"] == "string_too_long":
        return N_("the code is too long (at most %(max)s characters)", max=err["ctx"]["max_length"])
    upper = line.strip().upper()
    return LINE_ERRORS["rncp" if upper.startswith("RNCP") else "rs" if upper.startswith("RS") else "esco"]


def as_lines(alignments: list[FrameworkAlignment]) -> str:
    return "\n".join(a.code + (f" — {a.name}" if a.name else "") for a in alignments)


def alignment(a: FrameworkAlignment) -> dict:
    """The OB 3.0 ``Alignment`` of one framework entry."""
    out = {"type": ["Alignment"], "targetName": a.name or a.code, "targetUrl": a.url,
           "targetFramework": FRAMEWORK_NAMES[a.framework]}
    if a.framework == "esco":
        out["targetType"] = "ceasn:Competency"
    else:
        out["targetCode"] = a.code
        out["targetType"] = "ext:RNCPBlock" if a.framework == "rncp" and "BC" in a.code else \
            ("ext:RNCP" if a.framework == "rncp" else "ext:RepertoireSpecifique")
    return out


def label_alignment(profile, base_url: str) -> dict:
    """A typed ``Alignment`` saying the credential meets a label profile (name and version):
    what the credential carries when the label's body has no key here to endorse it."""
    out = {"type": ["Alignment"], "targetType": "ext:Label", "targetCode": f"{profile.id}@{profile.version}",
           "targetName": f"{profile.display_name('en')} (version {profile.version})",
           "targetUrl": profile.url or f"{base_url.rstrip('/')}/labels/{profile.id}",
           "targetFramework": profile.awarded_by or profile.display_name("en")}
    if profile.display_description("en"):
        out["targetDescription"] = profile.display_description("en")[:1000]
    return out
