"""Read an Open Badges 3.0 micro-credential back into the EU Annex I elements, for people.

The learner's page, the public verification page and the PDF certificate all show
the same descriptors in the same order, taken from the **credential document itself**
(not from the database), so what a verifier reads is exactly what was signed, and an
uploaded file from elsewhere is shown the same way.

Pure code: no Flask. Labels are English source strings; callers translate them with
the ``gettext`` they pass in (the web layer passes Flask-Babel's ``gettext``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

Translate = Callable[[str], str]


def _identity(s: str) -> str:
    return s


def _l(s: str) -> str:
    """Mark a label for extraction; translated later with the caller's gettext."""
    return s


# Annex I elements, mandatory first (numbers as in the Council Recommendation), then
# the optional ones. ``key`` is stable (tests, templates), ``label`` is translated.
ANNEX_I = [
    ("learner", _l("Identification of the learner"), True),
    ("title", _l("Title of the micro-credential"), True),
    ("country", _l("Country or region of the issuer"), True),
    ("awarding_body", _l("Awarding body"), True),
    ("issued", _l("Date of issuing"), True),
    ("learning_outcomes", _l("Learning outcomes"), True),
    ("workload", _l("Notional workload"), True),
    ("level", _l("Level (EQF, QF-EHEA)"), True),
    ("assessment", _l("Type of assessment"), True),
    ("participation", _l("Form of participation"), True),
    ("quality_assurance", _l("Quality assurance"), True),
    ("prerequisites", _l("Prerequisites"), False),
    ("supervision", _l("Supervision and identity verification"), False),
    ("grade", _l("Grade achieved"), False),
    ("stackability", _l("Integration and stackability options"), False),
    ("further_information", _l("Further information"), False),
]
EXTRA = [
    ("valid_until", _l("Valid until")),
    ("field_of_study", _l("Field of study")),
    ("language", _l("Language")),
    ("skills", _l("Skills")),
    ("labels", _l("Labels")),
    ("credential_id", _l("Credential identifier")),
    ("pass_mark", _l("Pass mark")),
]

# Where our extension context (and the ELM-inspired names other issuers use) put the
# Annex I elements that have no native Open Badges home. Each key is tried on the
# achievement, then on the credential subject; the first present wins.
EXTENSION_KEYS: dict[str, tuple[str, ...]] = {
    "assessment": ("assessmentType", "typeOfAssessment", "assessment", "gradingScheme"),
    "participation": ("participationMode", "modeOfLearning", "formOfParticipation", "learningMode", "mode"),
    "quality_assurance": ("qualityAssurance", "typeOfQualityAssurance", "qualityAssuranceType"),
    "supervision": ("supervisionAndVerification", "supervisionAndIdentityVerification", "idVerification",
                    "supervision", "identityVerification"),
    "prerequisites": ("prerequisites", "entryRequirement", "entryRequirements", "prerequisite"),
    "stackability": ("stackability", "integrationStackability", "integration", "stackabilityOptions"),
    "stackable_towards": ("stackableTowards",),
    "further_information": ("furtherInformation", "additionalNote", "furtherInfo"),
    "further_information_url": ("furtherInformationUrl",),
    "pass_mark": ("passMark",),
    "workload_hours": ("workloadHours", "volumeOfLearning", "notionalWorkloadHours", "workload", "studyHours"),
    "learning_outcomes": ("learningOutcomes", "learningOutcome", "learningOutcomeSummary"),
    "level": ("eqfLevel", "level"),
    "qf_ehea": ("qfEheaCycle",),
    "ects": ("ectsCredits",),
}
# Terms of our extension context that repeat what another descriptor already shows.
REDUNDANT = {"workload", "language", "thematicArea", "learningSetting"}
ACHIEVEMENT_KNOWN = {
    "id", "type", "name", "description", "criteria", "image", "creditsAvailable", "alignment",
    "fieldOfStudy", "inLanguage", "resultDescription", "achievementType", "creator", "humanCode",
    "specialization", "tag", "version", "related", "otherIdentifier", "endorsement", "endorsementJwt",
    "@context", "@language",
} | {k for keys in EXTENSION_KEYS.values() for k in keys} | REDUNDANT


@dataclass
class Descriptor:
    key: str
    label: str
    values: list[str]
    links: list[str | None] = field(default_factory=list)
    mandatory: bool = False

    @property
    def text(self) -> str:
        return "; ".join(self.values)

    @property
    def present(self) -> bool:
        return bool(self.values)


@dataclass
class CredentialSummary:
    credential_id: str
    title: str
    description: str
    issuer_id: str
    issuer_name: str
    issuer_url: str | None
    issuer_country: str
    issuer_identifiers: list[tuple[str, str]]
    learner: str
    learner_is_hashed: bool
    subject_id: str | None
    issued: datetime | None
    valid_until: datetime | None
    image: str | None
    descriptors: list[Descriptor]

    def get(self, key: str) -> Descriptor | None:
        return next((d for d in self.descriptors if d.key == key), None)

    @property
    def annex(self) -> list[Descriptor]:
        keys = {k for k, _, _ in ANNEX_I}
        return [d for d in self.descriptors if d.key in keys]


# ---------------------------------------------------------------------------------- helpers
def _list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _lang(value: dict, locale: str) -> str | None:
    """A JSON-LD language map ({"en": ..., "fr": ...}) or a @value object."""
    if "@value" in value:
        return str(value["@value"])
    if value and all(isinstance(k, str) and re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2,})?", k) for k in value):
        for k in (locale, locale[:2], "en"):
            if k in value:
                return _text(value[k], locale)
        return _text(next(iter(value.values())), locale)
    return None


def _text(value: Any, locale: str = "en") -> str:
    """A readable string for any JSON value: a concept's label, a language map, a list..."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str):
        return _concept_label(value, locale) or URI_LABELS.get(value, value)
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v, locale) for v in value) if t)
    if isinstance(value, dict):
        lm = _lang(value, locale)
        if lm is not None:
            return lm
        for k in ("prefLabel", "name", "title", "label", "targetName", "narrative", "value", "description",
                  "identifier", "id"):
            if k in value and value[k] not in (None, "", [], {}):
                return _text(value[k], locale)
        return "; ".join(f"{k}: {_text(v, locale)}" for k, v in value.items() if not k.startswith("@"))
    return str(value)


def _uri_labels() -> dict[str, str]:
    """Labels of the EU / project vocabulary URIs our credentials use (plugin.domain.vocab)."""
    try:
        from plugin.domain import vocab
    except ImportError:
        return {}
    labels: dict[str, str] = {}
    for uri, label in getattr(vocab, "PARTICIPATION", {}).values():
        labels[uri] = label
    for uri, label in getattr(vocab, "SUPERVISION", {}).values():
        labels[uri] = label
    for key, label in getattr(vocab, "QF_EHEA_CYCLES", {}).items():
        labels[vocab.qf_ehea_uri(key)] = label
    for level in range(1, 9):
        labels[vocab.eqf_uri(level)] = f"EQF level {level}"
    for code, (three, label) in getattr(vocab, "LANGUAGES", {}).items():
        labels[vocab.LANGUAGE_AUTHORITY + three] = label
    if hasattr(vocab, "LEARNING_SETTING_NON_FORMAL"):
        labels[vocab.LEARNING_SETTING_NON_FORMAL] = "Non-formal learning"
    return labels


URI_LABELS = _uri_labels()


def _concept_label(value: str, locale: str) -> str | None:
    """A vocabulary concept (URI, or the English label older credentials carry) in ``locale``."""
    if len(value) > 300:
        return None
    from plugin.domain.vocab_labels import label
    return label(value, locale)


def _link(value: Any) -> str | None:
    if isinstance(value, dict):
        for k in ("id", "targetUrl", "url"):
            v = value.get(k)
            if isinstance(v, str) and v.startswith(("http://", "https://")):
                return v
    if isinstance(value, str) and value.startswith(("http://", "https://")) and " " not in value:
        return value
    return None


def _language_uri(code: str) -> str:
    from plugin.domain.vocab import language_uri
    try:
        return language_uri(code)
    except ValueError:
        return code


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _first(objs: Iterable[dict], keys: tuple[str, ...]) -> Any:
    for obj in objs:
        for k in keys:
            if isinstance(obj, dict) and obj.get(k) not in (None, "", [], {}):
                return obj[k]
    return None


def humanize(key: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower()


def _learner(subject: dict, locale: str) -> tuple[str, bool]:
    """The learner as the credential discloses them: a name, else a hashed identifier."""
    for k in ("name", "displayName"):
        if isinstance(subject.get(k), (str, dict)) and _text(subject[k], locale):
            return _text(subject[k], locale), False
    identifiers = [i for i in _list(subject.get("identifier")) if isinstance(i, dict)]
    for ident in identifiers:
        if ident.get("identityType") in ("name", "sourcedId", "studentId") and not ident.get("hashed"):
            return str(ident.get("identityHash", "")), False
    for ident in identifiers:
        if ident.get("hashed"):
            kind = ident.get("identityType") or "identifier"
            return f"{kind} {ident.get('identityHash', '')}", True
    if subject.get("id"):
        return str(subject["id"]), True
    return "", True


def _alignments(achievement: dict) -> tuple[list[dict], list[dict]]:
    levels, skills = [], []
    for a in _list(achievement.get("alignment")):
        if not isinstance(a, dict):
            continue
        hay = " ".join(str(a.get(k, "")) for k in ("targetFramework", "targetUrl", "targetCode", "targetName"))
        if "eqf" in hay.lower() or "qf-ehea" in hay.lower() or "/snb/eqf/" in hay \
                or "european qualifications framework" in hay.lower() \
                or a.get("targetType") == "ext:NQFLevel" or "/snb/qdr/" in hay:  # a national framework level
            levels.append(a)
        elif "isced" in hay.lower() or a.get("targetType") in ("ext:ISCEDF", "ext:Label"):
            continue  # a label the credential meets is its own element (labels)
        else:
            skills.append(a)
    return levels, skills


def _level_text(a: dict, locale: str = "en") -> str:
    url = a.get("targetUrl")
    if isinstance(url, str) and (known := _concept_label(url, locale)):
        return known
    if a.get("targetType") == "ext:NQFLevel" and (known := _nqf_label(a, locale)):
        return known
    name = a.get("targetName") or ""
    code = a.get("targetCode") or ""
    fw = a.get("targetFramework") or ""
    if name and code and code not in name:
        return f"{name} ({fw} {code})".replace("( ", "(").strip()
    return str(name or f"{fw} {code}".strip() or a.get("targetUrl", ""))


def _nqf_label(a: dict, locale: str) -> str | None:
    """A national framework level we know (plugin.domain.nqf), in the reader's language."""
    from plugin.domain import nqf
    code = str(a.get("targetCode") or "")
    for f in nqf.frameworks().values():
        if a.get("targetFramework") == f.name("en") and code.isdigit() and int(code) in f.levels:
            return f.levels[int(code)].label(locale)
    return None


# ---------------------------------------------------------------------------------- main
def _iso_date(when: datetime) -> str:
    return when.date().isoformat()


def summarize(doc: dict, *, locale: str = "en", gettext: Translate = _identity,
              date_format: Callable[[datetime], str] = _iso_date) -> CredentialSummary:
    """Every Annex I element (and a few useful extras) of an OB 3.0 credential, in order.

    Tolerates any shape: a missing element is simply absent (``present`` is False), so
    a verifier sees what is missing rather than an error. Vocabulary concepts are labelled
    in ``locale`` (:mod:`plugin.domain.vocab_labels`), dates written with ``date_format``.
    """
    _ = gettext
    if not isinstance(doc, dict):
        doc = {}
    subject = doc.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    subject = subject if isinstance(subject, dict) else {}
    ach = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = doc.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else ({"id": issuer} if isinstance(issuer, str) else {})
    address = issuer.get("address") if isinstance(issuer.get("address"), dict) else {}
    sources = (ach, subject, doc)

    values: dict[str, tuple[list[str], list[str | None]]] = {}

    def put(key: str, raw: Any, *, text: str | None = None) -> None:
        items = _list(raw)
        if text is not None:
            values[key] = ([text], [None]) if text else ([], [])
            return
        vals = [(_text(v, locale), _link(v)) for v in items]
        vals = [(t, l) for t, l in vals if t]
        values[key] = ([t for t, _ in vals], [l for _, l in vals])

    learner, hashed = _learner(subject, locale)
    put("learner", None, text=learner)
    put("title", None, text=_text(ach.get("name") or doc.get("name"), locale))
    country = address.get("addressCountry") or ""
    code = address.get("addressCountryCode") or ""
    from plugin.domain.vocab import country_uri
    named = _concept_label(country_uri(code) or "", locale) if isinstance(code, str) and code else None
    country_text = named or _text(country, locale)
    if code and not named and code not in country_text:
        country_text = f"{country_text} ({code})" if country_text else str(code)
    region = _text(address.get("addressRegion"), locale)
    if region and region not in country_text:  # Annex I element 3: country *or region*
        country_text = f"{region}, {country_text}" if country_text else region
    put("country", None, text=country_text or _text(_first(sources, ("issuerCountry", "country")), locale))
    put("awarding_body", None, text=_text(issuer.get("name"), locale) or str(issuer.get("id") or ""))
    issued = parse_datetime(doc.get("validFrom") or doc.get("issuanceDate") or subject.get("awardedDate"))
    put("issued", None, text=date_format(issued) if issued else "")
    lo = _first((ach, subject), EXTENSION_KEYS["learning_outcomes"])
    if lo is None and isinstance(ach.get("criteria"), dict):
        lo = ach["criteria"].get("narrative")
    put("learning_outcomes", lo)

    workload: list[str] = []
    credits = ach.get("creditsAvailable")
    earned = subject.get("creditsEarned")
    if credits in (None, ""):
        credits = _first((ach,), EXTENSION_KEYS["ects"])
    if credits not in (None, ""):
        workload.append(_("%(n)s ECTS credits") % {"n": _text(credits)})
    elif earned not in (None, ""):
        workload.append(_("%(n)s ECTS credits") % {"n": _text(earned)})
    hours = _first((ach, subject), EXTENSION_KEYS["workload_hours"])
    if hours not in (None, ""):
        workload.append(_("%(n)s hours") % {"n": _text(hours)} if isinstance(hours, (int, float))
                        or (isinstance(hours, str) and hours.replace(".", "", 1).isdigit()) else _text(hours))
    values["workload"] = (workload, [None] * len(workload))

    levels, skills = _alignments(ach)
    if levels:
        values["level"] = ([_level_text(a, locale) for a in levels], [a.get("targetUrl") for a in levels])
    else:
        put("level", _first((ach, subject), EXTENSION_KEYS["level"]))
    cycle = _first((ach,), EXTENSION_KEYS["qf_ehea"])
    if cycle:
        values["level"][0].append(_text(cycle, locale))
        values["level"][1].append(None)
    for key in ("assessment", "participation", "quality_assurance", "supervision", "prerequisites",
                "stackability", "further_information"):
        put(key, _first((ach, subject), EXTENSION_KEYS[key]))
    if not values["quality_assurance"][0] and issuer.get("qualityAssuranceStatement"):
        put("quality_assurance", issuer.get("qualityAssuranceStatement"))
    for key, extra in (("stackability", "stackable_towards"), ("further_information", "further_information_url")):
        more = _first((ach,), EXTENSION_KEYS[extra])
        if more:
            values[key][0].append(_text(more, locale))
            values[key][1].append(_link(more))

    grade: list[str] = []
    descs = {d.get("id"): d for d in _list(ach.get("resultDescription")) if isinstance(d, dict)}
    for r in _list(subject.get("result")):
        if not isinstance(r, dict):
            continue
        val = r.get("value") or r.get("achievedLevel") or ""
        d = descs.get(r.get("resultDescription"))
        label = _text(d.get("name"), locale) if d else ""
        text = f"{label}: {_text(val, locale)}" if label else _text(val, locale)
        if text:
            grade.append(text)
    if not grade and _first((subject,), ("grade",)):
        grade = [_text(subject["grade"], locale)]
    values["grade"] = (grade, [None] * len(grade))

    until = parse_datetime(doc.get("validUntil") or doc.get("expirationDate"))
    put("valid_until", None, text=date_format(until) if until else "")
    area = ach.get("thematicArea")
    put("field_of_study", area if isinstance(area, str) and _concept_label(area, locale) else ach.get("fieldOfStudy"))
    # every language of the course (our extension lists them all), else OB's single inLanguage
    langs = [x for x in _list(ach.get("language")) if isinstance(x, str)] or _list(ach.get("inLanguage"))
    langs = [_language_uri(x) if isinstance(x, str) and len(x) <= 5 else x for x in langs]
    put("language", langs)
    values["skills"] = ([_text(a, locale) for a in skills], [a.get("targetUrl") for a in skills])
    labels = [a for a in _list(ach.get("alignment")) if isinstance(a, dict) and a.get("targetType") == "ext:Label"]
    values["labels"] = (["\u2714 " + _text(a.get("targetName"), locale) for a in labels],
                        [a.get("targetUrl") for a in labels])
    put("credential_id", None, text=str(doc.get("id") or ""))
    put("pass_mark", _first((ach,), EXTENSION_KEYS["pass_mark"]))

    descriptors = [Descriptor(key, _(label), *values.get(key, ([], [])), mandatory=mandatory)
                   for key, label, mandatory in ANNEX_I]
    descriptors += [Descriptor(key, _(label), *values.get(key, ([], []))) for key, label in EXTRA]
    # Anything else the issuer put on the achievement is shown too, never hidden.
    for k, v in ach.items():
        if k not in ACHIEVEMENT_KNOWN and not k.startswith("@") and _text(v, locale):
            descriptors.append(Descriptor(f"x:{k}", humanize(k), [_text(v, locale)], [_link(v)]))

    identifiers = []
    for o in _list(issuer.get("otherIdentifier")):
        if isinstance(o, dict) and o.get("identifier"):
            kind = str(o.get("identifierType") or "").removeprefix("ext:")
            identifiers.append((kind if kind and kind != "identifier" else _("Identifier"), str(o["identifier"])))
    image = ach.get("image")
    image = image.get("id") if isinstance(image, dict) else image
    return CredentialSummary(
        credential_id=str(doc.get("id") or ""),
        title=_text(ach.get("name") or doc.get("name"), locale),
        description=_text(ach.get("description"), locale),
        issuer_id=str(issuer.get("id") or ""),
        issuer_name=_text(issuer.get("name"), locale),
        # Shown as a link: only http(s), never javascript: from an uploaded credential.
        issuer_url=_link(issuer.get("url")) if isinstance(issuer.get("url"), str) else None,
        issuer_country=country_text,
        issuer_identifiers=identifiers,
        learner=learner,
        learner_is_hashed=hashed,
        subject_id=subject.get("id") if isinstance(subject.get("id"), str) else None,
        issued=issued,
        valid_until=until,
        image=image if isinstance(image, str) else None,
        descriptors=descriptors,
    )
