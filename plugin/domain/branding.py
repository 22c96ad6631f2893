"""How an awarding body's credentials look: the badge design and who signs the certificate.

Stored per awarding body (``plugin.storage.models.IssuerBranding``), set by an admin in
the badge designer (:mod:`plugin.web.admin.branding`). Nothing here is signed into a credential:
the badge picture (:mod:`plugin.delivery.badge_image`) and the PDF certificate
(:mod:`plugin.delivery.pdf`) draw the signed title and awarding body *in* this design.

Pure code (pydantic): the web form and the CLI get the same checks and the same sentences.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugin.domain.i18n import N_

Shape = Literal["circle", "shield", "hexagon", "rounded"]
SHAPES: dict[str, str] = {
    "circle": N_("Round seal"),
    "shield": N_("Shield"),
    "hexagon": N_("Hexagon"),
    "rounded": N_("Rounded square"),
}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
# WCAG 2.x: normal text needs 4.5:1; the badge's title is large bold text (3:1 would pass)
# but the awarding body's name is small, so ask 4.5:1 of both.
MIN_CONTRAST = 4.5


def normalise_colour(value: str) -> str:
    """``#abc``, ``abc`` or ``#AABBCC`` -> ``#aabbcc``; ValueError otherwise."""
    m = _HEX.match((value or "").strip())
    if not m:
        raise ValueError(N_("use a colour such as #003399 (a # and six hexadecimal digits)"))
    digits = m.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def rgb(colour: str) -> tuple[int, int, int]:
    c = normalise_colour(colour)
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _luminance(colour: str) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class BadgeDesign(BaseModel):
    """The look of every badge of one awarding body. Frozen: usable as a cache key."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: Shape = "circle"
    background: str = "#003399"   # EU blue
    accent: str = "#ffcc00"       # EU yellow: border, ring and the level ribbon
    text: str = "#ffffff"
    ribbon: bool = True           # the EQF level on a ribbon
    show_logo: bool = True        # the awarding body's logo on a white plate at the top

    @field_validator("background", "accent", "text", mode="before")
    @classmethod
    def _colour(cls, v: str) -> str:
        return normalise_colour(v)

    @model_validator(mode="after")
    def _readable(self) -> "BadgeDesign":
        ratio = contrast(self.text, self.background)
        if ratio < MIN_CONTRAST:
            raise ValueError(N_("the text colour does not stand out from the badge colour (contrast %(ratio)s:1, "
                                "at least %(min)s:1 is needed to read it)", ratio=f"{ratio:.1f}", min=MIN_CONTRAST))
        return self

    @property
    def ribbon_text_colour(self) -> str:
        """Black or white, whichever reads better on the accent colour."""
        return "#000000" if contrast("#000000", self.accent) >= contrast("#ffffff", self.accent) else "#ffffff"


class Branding(BaseModel):
    """The badge design and the certificate's signatory of one awarding body."""
    model_config = ConfigDict(extra="forbid")

    design: BadgeDesign = Field(default_factory=BadgeDesign)
    signatory_name: str = Field(default="", max_length=120)
    signatory_role: str = Field(default="", max_length=120)

    @field_validator("signatory_name", "signatory_role")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return " ".join((v or "").split())

    @model_validator(mode="after")
    def _role_needs_name(self) -> "Branding":
        if self.signatory_role and not self.signatory_name:
            raise ValueError(N_("give the signatory's name as well as their role"))
        return self

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict | None) -> "Branding":
        return cls.model_validate(data or {})


DEFAULT_DESIGN = BadgeDesign()
