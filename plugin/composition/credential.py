"""Compose the Open Badges 3.0 ``OpenBadgeCredential`` of an EU micro-credential.

VC Data Model 2.0, ``achievementType: "MicroCredential"``. Every Annex I element goes
in a native OB 3.0 field where one exists (``creditsAvailable``, ``creditsEarned``,
``alignment`` for EQF and ESCO, ``fieldOfStudy``, ``inLanguage``, ``resultDescription``
+ ``result``, ``evidence``, ``issuer.address.addressCountryCode``,
``issuer.otherIdentifier``), the rest in the project's extension context
(``plugin/data/contexts/microcred-v1.jsonld``, ELM property IRIs where they exist), and
*all* of them again as a Markdown block in ``achievement.description`` so any wallet
shows them.

Learner identity: ``identifier`` IdentityObjects. The email and the LTI ``sub`` are
hashed: ``identityHash = "sha256$" + hex(sha256(value + salt))`` (the salt is in the
object, so someone who knows the email can check it); the LTI platform issuer is given
in clear (``ltiPlatformId``) so the hashed ``ltiUserId`` can be interpreted. The name
appears only when the caller passes it (the caller decides consent).
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any

from plugin.domain import vocab
from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import N_
from plugin.domain.issuer import IssuerProfile
from plugin.signing import contexts as ctx

OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
SUBJECT_NAMESPACE = uuid.UUID("6f1c2b1e-3c55-4a0e-9a57-8f0d6d1f5a11")

COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus", "CZ": "Czechia",
    "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France", "DE": "Germany", "GR": "Greece",
    "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg",
    "MT": "Malta", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia",
    "SI": "Slovenia", "ES": "Spain", "SE": "Sweden", "IS": "Iceland", "LI": "Liechtenstein", "NO": "Norway",
    "CH": "Switzerland", "GB": "United Kingdom",
}


class CompositionError(ValueError):
    """The inputs cannot make a valid credential (the message says what is missing)."""


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 hashed identity: ``"sha256$" + hex(sha256(value + salt))``."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


@dataclass
class LearnerIdentity:
    """Who earned the credential. ``key`` is a stable local id (e.g. ``Learner.public_id``).

    ``name`` only with the learner's consent (the caller decides); ``did`` when the learner
    gave one (e.g. from a wallet), otherwise the subject id is a ``urn:uuid:`` derived from
    ``key`` and the credential id.
    """
    key: str
    email: str | None = None
    lti_issuer: str | None = None
    lti_sub: str | None = None
    name: str | None = None
    did: str | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class EvidenceData:
    """The pass evidence: score (and maximum), when and where it was observed."""
    source: str                      # e.g. "Open edX grades", "LTI score"
    observed_at: datetime
    score: float | None = None
    score_max: float | None = None
    passed: bool = True
    narrative: str = ""
    id: str | None = None


@lru_cache(maxsize=4096)
def iso(dt: datetime) -> str:
    """``2026-01-15T09:00:00Z`` (UTC, seconds); cached: issuance repeats the same few instants."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def subject_id(learner: LearnerIdentity, credential_id: str) -> str:
    if learner.did:
        return learner.did
    return "urn:uuid:" + str(uuid.uuid5(SUBJECT_NAMESPACE, f"{learner.key}|{credential_id}"))


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _fmt(x: float) -> str:
    return str(_num(x))


def _identifiers(learner: LearnerIdentity) -> list[dict[str, Any]]:
    ids: list[dict[str, Any]] = []
    if learner.email:
        ids.append({"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                    "identityHash": identity_hash(learner.email.strip().lower(), learner.salt),
                    "salt": learner.salt})
    if learner.lti_issuer and learner.lti_sub:
        ids.append({"type": "IdentityObject", "identityType": "ltiPlatformId", "hashed": False,
                    "identityHash": learner.lti_issuer})
        ids.append({"type": "IdentityObject", "identityType": "ltiUserId", "hashed": True,
                    "identityHash": identity_hash(learner.lti_sub, learner.salt), "salt": learner.salt})
    if learner.name:
        ids.append({"type": "IdentityObject", "identityType": "name", "hashed": False,
                    "identityHash": learner.name})
    if not ids:
        raise CompositionError("the learner has no email, no LTI identity and no name: nothing identifies them")
    return ids


def _score_text(ev: EvidenceData | None) -> str | None:
    if ev is None or ev.score is None:
        return None
    return f"{_fmt(ev.score)}/{_fmt(ev.score_max)}" if ev.score_max else _fmt(ev.score)


def annex_markdown(profile: IssuerProfile, d: DefinitionData, *, learner: LearnerIdentity,
                   issued: datetime, valid_until: datetime | None, evidence: EvidenceData | None) -> str:
    """Every Annex I element, as the Markdown block of ``achievement.description``."""
    country = COUNTRY_NAMES.get(profile.country_code, profile.country_code)
    where = f"{country} ({profile.country_code})" + (f", {profile.region}" if profile.region else "")
    lines = []
    if d.description.strip():
        lines += [d.description.strip(), ""]
    lines += ["## Micro-credential (EU Council Recommendation of 16 June 2022, Annex I)", ""]
    who = learner.name or "identified by the hashed identifiers of this credential"
    lines.append(f"- **Learner:** {who}")
    lines.append(f"- **Title:** {d.title}")
    lines.append(f"- **Awarding body:** {profile.legal_name}" + (f" ({profile.url})" if profile.url else ""))
    lines.append(f"- **Country and region of the awarding body:** {where}")
    lines.append(f"- **Date of issuing:** {iso(issued)[:10]}")
    lines.append("- **Learning outcomes:**")
    for lo in d.learning_outcomes:
        lines.append(f"  - {lo.text}" + (f" (ESCO: {lo.esco_uri})" if lo.esco_uri else ""))
    workload = []
    if d.workload_hours is not None:
        workload.append(f"{_fmt(d.workload_hours)} hours")
    if d.ects_credits is not None:
        workload.append(f"{_fmt(d.ects_credits)} ECTS credits")
    lines.append(f"- **Notional workload:** {', '.join(workload) or 'not stated'}")
    level = f"EQF level {d.eqf_level}" if d.eqf_level else "no EQF level applies"
    if d.qf_ehea_cycle:
        level += f"; QF-EHEA: {vocab.QF_EHEA_CYCLES[d.qf_ehea_cycle]}"
    if d.nqf is not None:
        level += f"; national framework: {d.nqf.label('en')}"
    lines.append(f"- **Level:** {level}")
    lines.append(f"- **Type of assessment:** {d.assessment_type}")
    lines.append(f"- **Form of participation:** {d.participation_label or 'not stated'}")
    lines.append(f"- **Type of quality assurance:** {d.quality_assurance}")
    if profile.quality_assurance:
        lines.append(f"- **Quality assurance of the awarding body:** {profile.quality_assurance}")
    if profile.accreditation:
        lines.append(f"- **Accreditation:** {profile.accreditation}")
    lines.append(f"- **Prerequisites:** {d.prerequisites or 'none'}")
    lines.append(f"- **Supervision and identity verification:** {d.supervision_label or 'not stated'}")
    grading = d.grading_scheme or "not stated"
    if d.pass_mark:
        grading += f"; pass mark: {d.pass_mark}"
    lines.append(f"- **Grading scheme:** {grading}")
    score = _score_text(evidence)
    if score:
        lines.append(f"- **Grade achieved:** {score}")
    stack = d.stackability_label or "not stated"
    if d.stackable_towards:
        stack += f": {d.stackable_towards}"
    lines.append(f"- **Integration and stackability:** {stack}")
    if d.languages:
        lines.append(f"- **Language(s):** {', '.join(vocab.language_label(c) for c in d.languages)}")
    if d.field_of_study:
        label = f" {d.field_of_study_label}" if d.field_of_study_label else ""
        lines.append(f"- **Field of study (ISCED-F):** {d.field_of_study}{label}")
    if d.further_information or d.further_information_url:
        info = " ".join(x for x in (d.further_information, d.further_information_url) if x)
        lines.append(f"- **Further information:** {info}")
    lines.append("- **Validity:** " + (f"valid until {iso(valid_until)[:10]}" if valid_until
                                        else (f"{d.validity_months} months" if d.validity_months else "does not expire")))
    return "\n".join(lines)


def _issuer(profile: IssuerProfile, issuer_id: str) -> dict[str, Any]:
    issuer: dict[str, Any] = {"id": issuer_id, "type": ["Profile"], "name": profile.legal_name,
                              "legalName": profile.legal_name}
    if profile.url:
        issuer["url"] = profile.url
    if profile.email:
        issuer["email"] = profile.email
    if profile.description:
        issuer["description"] = profile.description
    address: dict[str, Any] = {"type": ["Address"], "addressCountryCode": profile.country_code}
    if profile.country_code in COUNTRY_NAMES:
        address["addressCountry"] = COUNTRY_NAMES[profile.country_code]
    if profile.region:
        address["addressRegion"] = profile.region
    if profile.locality:
        address["addressLocality"] = profile.locality
    issuer["address"] = address
    if profile.legal_identifiers:
        issuer["otherIdentifier"] = [{"type": "IdentifierEntry", "identifier": li.value,
                                      "identifierType": f"ext:{li.scheme}"} for li in profile.legal_identifiers]
    if profile.logo:
        issuer["image"] = {"id": profile.logo, "type": "Image", "caption": f"Logo of {profile.legal_name}"}
    if profile.quality_assurance:
        issuer["qualityAssuranceStatement"] = profile.quality_assurance
    if profile.accreditation:
        issuer["accreditationStatement"] = profile.accreditation
    return issuer


def _achievement(d: DefinitionData, achievement_id: str, description: str, image: str | None) -> dict[str, Any]:
    a: dict[str, Any] = {"id": achievement_id, "type": ["Achievement"], "achievementType": "MicroCredential",
                         "name": d.title, "description": description}
    a["criteria"] = {"narrative": d.criteria or f"Pass the assessment: {d.assessment_type}"
                     + (f" (pass mark: {d.pass_mark})" if d.pass_mark else "")}
    if image:
        a["image"] = {"id": image, "type": "Image", "caption": d.title}
    if d.ects_credits is not None:
        a["creditsAvailable"] = _num(d.ects_credits)
    alignment = []
    if d.eqf_level:
        alignment.append({"type": ["Alignment"], "targetName": f"EQF level {d.eqf_level}",
                          "targetUrl": vocab.eqf_uri(d.eqf_level), "targetCode": str(d.eqf_level),
                          "targetFramework": "European Qualifications Framework", "targetType": "ext:EQFLevel"})
    for lo in d.learning_outcomes:
        if lo.esco_uri:
            alignment.append({"type": ["Alignment"], "targetName": lo.text, "targetUrl": lo.esco_uri,
                              "targetFramework": "ESCO", "targetType": "ext:ESCOSkill"})
    if d.field_of_study:
        alignment.append({"type": ["Alignment"], "targetName": d.field_of_study_label or f"ISCED-F {d.field_of_study}",
                          "targetUrl": vocab.isced_f_uri(d.field_of_study), "targetCode": d.field_of_study,
                          "targetFramework": "ISCED-F 2013", "targetType": "ext:ISCEDF"})
    if d.nqf is not None:  # national framework level (plugin.domain.nqf), typed like the EQF one
        from plugin.domain.nqf import alignment as nqf_alignment
        alignment.append(nqf_alignment(d.nqf_framework, d.nqf_level))
    from plugin.domain.frameworks import alignment as framework_alignment
    alignment += [framework_alignment(fa) for fa in d.framework_alignments]
    if alignment:
        a["alignment"] = alignment
    if d.field_of_study:
        a["fieldOfStudy"] = d.field_of_study_label or d.field_of_study
    if d.languages:
        a["inLanguage"] = d.languages[0]
    if d.grading_scheme or d.pass_mark:
        rd: dict[str, Any] = {"id": f"{achievement_id}#result", "type": ["ResultDescription"],
                              "name": d.grading_scheme or "Final assessment", "resultType": "RawScore"}
        if d.pass_mark:
            rd["requiredValue"] = d.pass_mark
        a["resultDescription"] = [rd]
    # Extension terms (plugin/data/contexts/microcred-v1.jsonld)
    a["learningOutcome"] = [{"type": "LearningOutcome", "title": lo.text,
                             **({"relatedESCOSkill": [lo.esco_uri]} if lo.esco_uri else {})}
                            for lo in d.learning_outcomes]
    if d.workload_hours is not None:
        a["workload"] = d.workload_duration
        a["workloadHours"] = _num(d.workload_hours)
    if d.ects_credits is not None:
        a["ectsCredits"] = _num(d.ects_credits)
    if d.eqf_level:
        a["eqfLevel"] = vocab.eqf_uri(d.eqf_level)
    if d.qf_ehea_cycle:
        a["qfEheaCycle"] = vocab.QF_EHEA_CYCLES[d.qf_ehea_cycle]
    a["assessmentType"] = d.assessment_type
    if d.participation:
        a["participationMode"] = vocab.PARTICIPATION[d.participation][0]
    a["learningSetting"] = vocab.LEARNING_SETTING_NON_FORMAL
    a["qualityAssurance"] = d.quality_assurance
    if d.prerequisites:
        a["prerequisites"] = d.prerequisites
    if d.supervision:
        a["idVerification"] = vocab.SUPERVISION[d.supervision][0]
        a["supervisionAndVerification"] = vocab.SUPERVISION[d.supervision][1]
    if d.grading_scheme:
        a["gradingScheme"] = d.grading_scheme
    if d.pass_mark:
        a["passMark"] = d.pass_mark
    if d.stackability:
        a["stackability"] = d.stackability_label
    if d.stackable_towards:
        a["stackableTowards"] = d.stackable_towards
    if d.languages:
        a["language"] = [vocab.language_uri(c) for c in d.languages]
    if d.field_of_study:
        a["thematicArea"] = vocab.isced_f_uri(d.field_of_study)
    if d.further_information:
        a["furtherInformation"] = d.further_information
    if d.further_information_url:
        a["furtherInformationUrl"] = d.further_information_url
    if d.validity_period:
        a["validityPeriod"] = d.validity_period
    return a


def compose(issuer_profile: IssuerProfile, issuer_id: str, definition: DefinitionData,
            learner: LearnerIdentity, evidence: EvidenceData | None, credential_id: str,
            valid_from: datetime, valid_until: datetime | None = None,
            status_entries: list[dict[str, Any]] | None = None, base_url: str = "", *,
            achievement_id: str | None = None, image: str | None = None,
            credential_schema: bool = True, label_alignments: list[dict[str, Any]] | None = None,
            label_endorsements: list[dict[str, Any]] | None = None,
            parts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` (a plain dict, ready for :mod:`plugin.signing`).

    ``issuer_id`` is the issuer's DID (or HTTPS profile URL); ``credential_id`` the VC ``id``;
    ``status_entries`` the ``BitstringStatusListEntry`` objects; ``base_url`` locates our
    extension context; ``achievement_id`` defaults to a URL under ``base_url`` derived from
    the issuer and title. ``parts``: for a pathway credential, the credentials it was awarded
    for (``id``, ``name``, ``digest``, ``achievement``, ``issued``), cited as ``evidence`` (with
    their SHA-256 digest, ``digestSRI``) and named in the achievement's ``hasPart`` (ELM).
    Raises :class:`CompositionError` if the definition or the issuer misses a mandatory element.
    """
    missing = definition.missing_elements() + issuer_profile.missing_elements()
    if missing:
        raise CompositionError(N_("cannot issue: %(missing)s", missing=missing))
    if not base_url:
        raise CompositionError("base_url is needed to reference the extension context")
    if valid_until is None and definition.validity_months:
        valid_until = _add_months(valid_from, definition.validity_months)
    if achievement_id is None:
        achievement_id = _default_achievement_id(base_url, issuer_id, definition.title)
    contexts = [ctx.CREDENTIALS_V2, ctx.OB_V3P0]
    if credential_schema:
        contexts.append(ctx.OB_EXTENSIONS)
    contexts.append(ctx.extension_context_url(base_url))
    description = annex_markdown(issuer_profile, definition, learner=learner, issued=valid_from,
                                 valid_until=valid_until, evidence=evidence)
    if parts:
        description += "\n\n## Earned through this pathway\n\n" + "\n".join(
            f"- {p.get('name') or p['id']} ({str(p.get('issued') or '')[:10]})" for p in parts)
    achievement = _achievement(definition, achievement_id, description, image)
    if label_alignments:  # labels the definition meets (plugin.domain.frameworks.label_alignment)
        achievement["alignment"] = [*achievement.get("alignment", []), *label_alignments]
    if label_endorsements:  # signed by each label's body (plugin.issuance.service.endorsement)
        achievement["endorsement"] = list(label_endorsements)
    if parts:
        achievement["hasPart"] = [p["achievement"] for p in parts if p.get("achievement")]
    subject: dict[str, Any] = {"id": subject_id(learner, credential_id), "type": ["AchievementSubject"]}
    if learner.name:
        subject["name"] = learner.name
    subject["identifier"] = _identifiers(learner)
    subject["achievement"] = achievement
    if definition.ects_credits is not None:
        subject["creditsEarned"] = _num(definition.ects_credits)
    if evidence is not None:
        subject["activityEndDate"] = iso(evidence.observed_at)
        if evidence.score is not None and "resultDescription" in achievement:
            subject["result"] = [{"type": ["Result"], "resultDescription": f"{achievement_id}#result",
                                  "value": _score_text(evidence)}]
    cred: dict[str, Any] = {
        "@context": contexts,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": definition.title,
        "issuer": _issuer(issuer_profile, issuer_id),
        "validFrom": iso(valid_from),
    }
    if valid_until is not None:
        cred["validUntil"] = iso(valid_until)
    cred["awardedDate"] = iso(valid_from)
    cred["credentialSubject"] = subject
    if evidence is not None:
        ev: dict[str, Any] = {"type": ["Evidence"], "name": "Assessment result",
                              "genre": "Assessment result",
                              "narrative": evidence.narrative or _evidence_narrative(definition, evidence),
                              "assessmentSource": evidence.source,
                              "assessmentDate": iso(evidence.observed_at)}
        if evidence.id:
            ev["id"] = evidence.id
        if evidence.score is not None:
            ev["assessmentScore"] = _score_text(evidence)
        cred["evidence"] = [ev]
    if parts:
        cred["evidence"] = cred.get("evidence", []) + [_part_evidence(p) for p in parts]
    if status_entries:
        cred["credentialStatus"] = status_entries if len(status_entries) > 1 else status_entries[0]
    if credential_schema:
        cred["credentialSchema"] = [{"id": OB_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}]
    return cred


def _part_evidence(part: dict[str, Any]) -> dict[str, Any]:
    """One part of a pathway credential, as ``evidence``: the part credential's id and digest."""
    ev: dict[str, Any] = {"id": part["id"], "type": ["Evidence"], "name": part.get("name") or "Part credential",
                          "genre": "Part credential",
                          "narrative": f"Earned {part.get('name') or 'a part credential'}"
                                       f" (credential {part['id']}, issued {str(part.get('issued') or '')[:10]})."}
    if part.get("digest"):
        ev["digestSRI"] = part["digest"]
    return ev


@lru_cache(maxsize=1024)
def _default_achievement_id(base_url: str, issuer_id: str, title: str) -> str:
    return f"{base_url.rstrip('/')}/achievements/" + str(uuid.uuid5(SUBJECT_NAMESPACE, f"{issuer_id}|{title}"))


def _evidence_narrative(d: DefinitionData, ev: EvidenceData) -> str:
    text = f"Passed {d.assessment_type or 'the assessment'} on {iso(ev.observed_at)[:10]}"
    score = _score_text(ev)
    if score:
        text += f" with {score}"
    if d.pass_mark:
        text += f" (pass mark {d.pass_mark})"
    return text + f"; source: {ev.source}."


def _add_months(dt: datetime, months: int) -> datetime:
    import calendar
    m = dt.month - 1 + months
    year, month = dt.year + m // 12, m % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def validate_ob3(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Errors of ``document`` against the OB 3.0 JSON Schema (draft 2019-09); empty when valid.

    The caller loads the schema (the app resolves it from its configured location)."""
    from jsonschema import Draft201909Validator
    validator = Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)
    errors = []
    for err in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in err.absolute_path) or "(document)"
        errors.append(f"{path}: {err.message[:300]}")
    return errors
