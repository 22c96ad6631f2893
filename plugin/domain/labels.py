"""Label profiles: named sets of rules a credential definition must meet to carry a label.

Profiles are data, not code: JSON files in ``plugin/data/labels/`` (shipped) and in the
instance folder's ``labels/`` (added by an admin, same format), so a new label needs no
release. The first profile is GRADEO / the Common Microcredential Framework (brief §3).

A profile::

    {"id": "gradeo", "version": 1, "name": {"en": ..., "fr": ...}, "description": {...},
     "rules": [{"id": "study-hours", "any_of": [[condition, ...], ...], "message": {"en": ..., "fr": ...}}]}

A rule holds when **any** of its alternatives holds, an alternative when **all** its
conditions hold. A condition names a :class:`~plugin.domain.definition.DefinitionData`
field and one test: ``min``/``max`` (numbers, inclusive), ``in`` (a list of values),
``matches`` (a regular expression, searched) or ``present`` (true: set and non-empty).
Conditions on a missing value fail, except ``present: false``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import N_

PACKAGE_LABELS = Path(__file__).resolve().parent.parent / "data" / "labels"
_FIELDS = set(DefinitionData.model_fields)


class LabelError(ValueError):
    """A label profile file is malformed; the message names the file and the problem."""


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    min: float | None = None
    max: float | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    matches: str | None = None
    present: bool | None = None

    @field_validator("field")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in _FIELDS:
            raise ValueError(f"unknown definition field {v!r}")
        return v

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        if self.min is None and self.max is None and self.in_ is None and self.matches is None and self.present is None:
            raise ValueError(f"the condition on {self.field!r} tests nothing (use min, max, in, matches or present)")
        if self.matches is not None:
            re.compile(self.matches)
        return self

    def holds(self, data: DefinitionData) -> bool:
        value = getattr(data, self.field)
        present = value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip())
        if self.present is not None and present != self.present:
            return False
        if not present:
            return self.present is False
        if self.min is not None or self.max is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return False
            if self.min is not None and value < self.min:
                return False
            if self.max is not None and value > self.max:
                return False
        if self.in_ is not None and value not in self.in_:
            return False
        if self.matches is not None and not re.search(self.matches, str(value)):
            return False
        return True


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    any_of: list[list[Condition]] = Field(min_length=1)
    message: dict[str, str]

    @field_validator("message")
    @classmethod
    def _english(cls, v: dict[str, str]) -> dict[str, str]:
        if not v.get("en"):
            raise ValueError("every rule needs an English message (message.en)")
        return v

    def holds(self, data: DefinitionData) -> bool:
        return any(all(c.holds(data) for c in alternative) for alternative in self.any_of)

    def text(self, locale: str = "en") -> str:
        return self.message.get((locale or "en")[:2]) or self.message["en"]


class LabelProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = 1
    name: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    # Where the label is described, and the body that awards it (named in the credential's alignment)
    url: str = ""
    awarded_by: str = ""
    # The slug of the label's body when it is an awarding body here: it then signs an endorsement
    endorser: str = ""

    def display_name(self, locale: str = "en") -> str:
        return self.name.get((locale or "en")[:2]) or self.name.get("en") or self.id

    def display_description(self, locale: str = "en") -> str:
        return self.description.get((locale or "en")[:2]) or self.description.get("en", "")

    def check(self, data: DefinitionData, locale: str = "en") -> "LabelCheck":
        failed = [(r.id, r.text(locale)) for r in self.rules if not r.holds(data)]
        return LabelCheck(profile_id=self.id, name=self.display_name(locale), failed=failed,
                          passed=[r.id for r in self.rules if r.holds(data)])


@dataclass
class LabelCheck:
    profile_id: str
    name: str
    failed: list[tuple[str, str]] = field(default_factory=list)  # (rule id, message)
    passed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def load_profile(path: Path) -> LabelProfile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return LabelProfile.model_validate(raw)
    except (OSError, ValueError) as exc:
        raise LabelError(f"label profile {path}: {exc}") from None


def load_profiles(extra_dirs: list[Path] | tuple[Path, ...] = ()) -> dict[str, LabelProfile]:
    """Every profile, shipped ones first; a file in an extra folder with the same id replaces a shipped one."""
    profiles: dict[str, LabelProfile] = {}
    for folder in (PACKAGE_LABELS, *extra_dirs):
        if not folder or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).glob("*.json")):
            profile = load_profile(path)
            profiles[profile.id] = profile
    return profiles


def check_labels(data: DefinitionData, label_ids: list[str], profiles: dict[str, LabelProfile],
                 locale: str = "en") -> list[LabelCheck]:
    """Check the claimed labels; an unknown label id is a failure that says so."""
    out = []
    for lid in label_ids:
        profile = profiles.get(lid)
        if profile is None:
            out.append(LabelCheck(profile_id=lid, name=lid, failed=[("unknown", N_("unknown label profile %(label)s", label=repr(lid)))]))
        else:
            out.append(profile.check(data, locale))
    return out
