"""A course's credential definition: every element of Annex I of the Council Recommendation.

Stored as JSON in ``DefinitionVersion.data`` (``to_json``/``from_json``). A draft may be
incomplete; :meth:`DefinitionData.missing_elements` lists, in an instructor's words,
what must be added before the credential can be enabled.

Annex I elements and where they live here (the learner, the issuer's country and
name, and the issue date come from elsewhere at issuance):

=====================================  =============================================
title                                  ``title``
learning outcomes                      ``learning_outcomes`` (text + optional ESCO URI)
notional workload                      ``workload_hours`` and ``ects_credits``
level (EQF, QF-EHEA cycle)             ``eqf_level`` (or ``eqf_not_applicable``), ``qf_ehea_cycle``
national framework level (optional)    ``nqf_framework`` + ``nqf_level`` (:mod:`plugin.domain.nqf`)
type of assessment                     ``assessment_type`` (EU list: :mod:`plugin.domain.assessment_methods`)
form of participation                  ``participation`` (online / onsite / blended)
type of quality assurance              ``quality_assurance``
prerequisites (optional)               ``prerequisites``
supervision and ID verification        ``supervision`` (four cases)
grade achieved (optional)              ``grading_scheme``, ``pass_mark`` (grade at issuance)
integration / stackability (optional)  ``stackability``, ``stackable_towards``
further information (optional)         ``further_information``, ``further_information_url``
=====================================  =============================================
plus languages, ISCED-F field of study and validity period.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugin.domain import nqf, vocab
from plugin.domain.frameworks import FrameworkAlignment
from plugin.domain.i18n import N_

ESCO_PREFIX = "http://data.europa.eu/esco/"

Participation = Literal["online", "onsite", "blended"]
Supervision = Literal["unsupervised-no-id", "supervised-no-id", "supervised-online-id", "supervised-onsite-id"]
Stackability = Literal["stand-alone", "integrated", "stackable"]
Cycle = Literal["short", "first", "second", "third"]


class LearningOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)
    esco_uri: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("a learning outcome needs a text")
        return v

    @field_validator("esco_uri")
    @classmethod
    def _esco(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if v and not v.startswith(ESCO_PREFIX):
            raise ValueError(f"an ESCO skill URI starts with {ESCO_PREFIX}")
        return v or None


class DefinitionData(BaseModel):
    """Every Annex I element of a micro-credential definition (a draft may be incomplete)."""
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=5000)
    learning_outcomes: list[LearningOutcome] = Field(default_factory=list)
    workload_hours: float | None = Field(default=None, gt=0, le=10000)
    ects_credits: float | None = Field(default=None, gt=0, le=300)
    eqf_level: int | None = Field(default=None, ge=1, le=8)
    eqf_not_applicable: bool = False
    qf_ehea_cycle: Cycle | None = None
    # level in a national qualifications framework (plugin/data/national-frameworks.json), both or neither
    nqf_framework: str | None = Field(default=None, max_length=64)
    nqf_level: int | None = None
    assessment_type: str = Field(default="", max_length=1000)
    participation: Participation | None = None
    quality_assurance: str = Field(default="", max_length=2000)
    prerequisites: str = Field(default="", max_length=2000)
    supervision: Supervision | None = None
    grading_scheme: str = Field(default="", max_length=1000)
    pass_mark: str = Field(default="", max_length=255)
    stackability: Stackability | None = None
    stackable_towards: str = Field(default="", max_length=1000)
    languages: list[str] = Field(default_factory=list)
    field_of_study: str | None = None  # ISCED-F 2013 code, e.g. "0613"
    field_of_study_label: str = ""
    further_information: str = Field(default="", max_length=5000)
    further_information_url: str | None = None
    validity_months: int | None = Field(default=None, gt=0, le=1200)  # None: does not expire
    criteria: str = Field(default="", max_length=5000)  # how it is earned, shown as OB criteria
    # RNCP blocks, Répertoire spécifique entries, ESCO skills (plugin.domain.frameworks): OB 3.0 alignments
    framework_alignments: list[FrameworkAlignment] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        out = []
        for code in v:
            code = code.strip().lower()
            if code not in vocab.LANGUAGES:
                raise ValueError(f"unknown language code {code!r}: use a two-letter code such as en or fr")
            if code not in out:
                out.append(code)
        return out

    @field_validator("field_of_study")
    @classmethod
    def _isced(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if v and not re.fullmatch(r"\d{2,4}", v):
            raise ValueError("the ISCED-F field of study is a 2- to 4-digit code, e.g. 0613")
        return v or None

    @field_validator("further_information_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        v = (v or "").strip()
        if v and not re.match(r"^https?://\S+$", v):
            raise ValueError("the further-information link must be an http(s) address")
        return v or None

    @model_validator(mode="after")
    def _nqf(self) -> "DefinitionData":
        nqf.check(self.nqf_framework, self.nqf_level)
        return self

    @property
    def nqf(self) -> "nqf.Level | None":
        """The national framework level, when one is given."""
        return nqf.level(self.nqf_framework, self.nqf_level)

    # ------------------------------------------------------------------ completeness
    def missing_elements(self) -> list[str]:
        """The mandatory Annex I elements still missing, each in words an instructor understands
        (English :class:`~plugin.domain.i18n.Msg`; the web layer translates them)."""
        return [message for _element, message in self.missing_by_element()]

    def missing_by_element(self) -> list[tuple[str, str]]:
        """:meth:`missing_elements` with the attribute each one is about (a form puts it on its field)."""
        missing = []
        if not self.title.strip():
            missing.append(("title", N_("Title: give the micro-credential a title")))
        if not self.learning_outcomes:
            missing.append(("learning_outcomes", N_("Learning outcomes: add at least one outcome")))
        if self.workload_hours is None and self.ects_credits is None:
            missing.append(("workload_hours", N_("Workload: give the notional workload in hours or in ECTS credits")))
        if self.eqf_level is None and not self.eqf_not_applicable:
            missing.append(("eqf_level", N_("Level: choose the EQF level (1 to 8), or say that no EQF level applies")))
        if not self.assessment_type.strip():
            missing.append(("assessment_type", N_("Type of assessment: say how learners are assessed (e.g. proctored online exam)")))
        if self.participation is None:
            missing.append(("participation", N_("Form of participation: choose online, onsite or blended")))
        if not self.quality_assurance.strip():
            missing.append(("quality_assurance", N_("Quality assurance: describe the type of quality assurance behind the credential")))
        if self.stackability == "stackable" and not self.stackable_towards.strip():
            missing.append(("stackable_towards", N_("Stackability: say which credential this one stacks towards")))
        return missing

    @property
    def is_complete(self) -> bool:
        return not self.missing_elements()

    # ------------------------------------------------------------------ labels
    @property
    def participation_label(self) -> str | None:
        return vocab.PARTICIPATION[self.participation][1] if self.participation else None

    @property
    def supervision_label(self) -> str | None:
        return vocab.SUPERVISION[self.supervision][1] if self.supervision else None

    @property
    def stackability_label(self) -> str | None:
        return vocab.STACKABILITY[self.stackability] if self.stackability else None

    @property
    def validity_period(self) -> str | None:
        """ISO 8601 duration (``P24M``) or ``None``."""
        return f"P{self.validity_months}M" if self.validity_months else None

    @property
    def workload_duration(self) -> str | None:
        if self.workload_hours is None:
            return None
        h = self.workload_hours
        return f"PT{int(h)}H" if float(h).is_integer() else f"PT{int(round(h * 60))}M"

    # ------------------------------------------------------------------ storage
    def to_json(self) -> dict:
        data = self.model_dump(mode="json")
        if not data.get("framework_alignments"):  # versions saved before the field existed stay equal
            data.pop("framework_alignments", None)
        for key in ("nqf_framework", "nqf_level"):  # likewise for the national framework level
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> "DefinitionData":
        return cls.model_validate(data or {})
