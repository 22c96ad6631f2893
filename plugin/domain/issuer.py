"""The awarding body (issuer) profile, stored as JSON in ``Issuer.profile``."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from plugin.domain.i18n import N_

_DATA_URI = re.compile(r"^data:image/(png|jpeg|svg\+xml|gif|webp);base64,[A-Za-z0-9+/=]+$")

IDENTIFIER_SCHEMES = {
    "SIREN": "SIREN (France)",
    "SIRET": "SIRET (France)",
    "UAI": "UAI (France)",
    "VAT": "VAT number",
    "EIDAS": "eIDAS legal identifier",
    "LEI": "Legal Entity Identifier",
    "NATIONAL": "National registration number",
    "OTHER": "Other identifier",
}


_LINKEDIN_ADMIN_URL = re.compile(r"^(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/company/([0-9]{1,20})(?:[/?#].*)?$",
                                 re.IGNORECASE)


def linkedin_organization_id(value: str | None) -> str:
    """The id as typed, trimmed; an admin-view address pasted whole gives its number
    (``https://www.linkedin.com/company/12345678/admin/`` -> ``12345678``)."""
    value = (value or "").strip()
    found = _LINKEDIN_ADMIN_URL.match(value)
    return found.group(1) if found else value


class LegalIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scheme: Literal["SIREN", "SIRET", "UAI", "VAT", "EIDAS", "LEI", "NATIONAL", "OTHER"]
    value: str = Field(min_length=1, max_length=128)
    label: str = ""  # for OTHER: what the identifier is

    @property
    def display_scheme(self) -> str:
        return self.label or IDENTIFIER_SCHEMES[self.scheme]


QaType = Literal["institutional-qa", "programme-qa", "institutional-licence", "programme-licence"]


class IssuerProfile(BaseModel):
    """An awarding body: Annex I elements 3 (country/region) and 4 (awarding body), plus
    what makes it *authentic* (legal identifiers) and *trustworthy* (quality assurance)."""
    model_config = ConfigDict(extra="forbid")

    legal_name: str = Field(default="", max_length=255)
    url: str = ""
    email: str = ""
    country_code: str = ""  # ISO 3166-1 alpha-2, e.g. "FR"
    region: str = ""        # e.g. "Île-de-France"
    locality: str = ""
    legal_identifiers: list[LegalIdentifier] = Field(default_factory=list)
    quality_assurance: str = ""   # statement: how the body assures quality
    accreditation: str = ""       # e.g. accrediting agency and decision
    # Machine-readable quality assurance (the EDC's Accreditation, plugin/composition/edc.py):
    # its Europass type (plugin.domain.vocab.ACCREDITATION_TYPES) and the quality-assuring
    # authority; no authority named means the awarding body assures its own quality.
    qa_type: QaType | None = None
    qa_agency: str = Field(default="", max_length=255)
    qa_agency_country: str = ""   # ISO 3166-1 alpha-2
    qa_agency_url: str = ""
    logo: str | None = None       # data URI (PNG/JPEG/SVG)
    description: str = ""
    # The awarding body's LinkedIn organisation (company page) id: the learners' "Add to
    # profile" link then names the page (logo, link) instead of a free-text name. Not in
    # the credential.
    linkedin_organization_id: str = ""

    @field_validator("country_code")
    @classmethod
    def _country(cls, v: str) -> str:
        v = v.strip().upper()
        if v and not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError("use the two-letter ISO 3166-1 country code, e.g. FR")
        return v

    @field_validator("qa_agency_country")
    @classmethod
    def _qa_country(cls, v: str) -> str:
        return cls._country(v)

    @field_validator("url", "qa_agency_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        if v and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("the web site must be an http(s) address")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip()
        if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError("not an email address")
        return v

    @field_validator("linkedin_organization_id")
    @classmethod
    def _linkedin(cls, v: str) -> str:
        v = linkedin_organization_id(v)
        if v and not re.fullmatch(r"[0-9]{1,20}", v):
            raise ValueError("the LinkedIn organisation ID is digits only: the number in the address of the "
                             "page's admin view, linkedin.com/company/<number>/admin/")
        return v

    @field_validator("logo")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        if v and not _DATA_URI.match(v):
            raise ValueError("the logo must be a base64 data URI of a PNG, JPEG, GIF, WebP or SVG image")
        return v or None

    def missing_elements(self) -> list[str]:
        """What an admin must still fill in before this body can award credentials."""
        missing = []
        if not self.legal_name.strip():
            missing.append(N_("Legal name: give the awarding body's official name"))
        if not self.country_code:
            missing.append(N_("Country: give the country of the awarding body (two-letter code, e.g. FR)"))
        if not self.url:
            missing.append(N_("Web site: give the awarding body's web address"))
        return missing

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict | None) -> "IssuerProfile":
        return cls.model_validate(data or {})
