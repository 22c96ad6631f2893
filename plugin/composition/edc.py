"""Compose the European Digital Credential (EDC, European Learning Model v3) of a credential.

The same award as the Open Badges 3.0 credential (:mod:`plugin.composition.credential`),
in the EU's own format: a W3C VC Data Model 1.1 ``EuropeanDigitalCredential`` whose
subject is an ELM ``Person`` holding one ``LearningAchievement``. Its shape follows the
European Commission's Annex I micro-credential sample (``tests/fixtures/elm/``), and the
result is checked against the Commission's SHACL shapes before it is offered
(:mod:`plugin.verification.shacl`). ``docs/credential-format.md`` maps every element.

Where each Annex I element goes:

=====================================  =====================================================
learner                                ``credentialSubject`` (Person: ``fullName`` only with
                                       consent; the OB 3.0 hashed identifiers as ``identifier``)
title                                  ``hasClaim.title``, ``specifiedBy.title`` (Qualification)
country / region of the awarding body  ``awardingBody.location.address`` (``countryCode`` EU
                                       country authority, region in ``fullAddress``)
awarding body                          ``issuer`` = ``awardedBy.awardingBody`` (Organisation,
                                       ``eIDASIdentifier``, legal identifiers, homepage)
date of issuing                        ``issued``, ``issuanceDate``, ``validFrom``,
                                       ``awardedBy.awardingDate``
learning outcomes                      ``specifiedBy.learningOutcome`` (ESCO skills)
notional workload                      ``specifiedBy.volumeOfLearning``, ``creditPoint`` (ECTS),
                                       ``hasClaim.creditReceived``
level                                  ``specifiedBy.eqfLevel``, ``specifiedBy.nqfLevel`` (the EU
                                       concept of a national framework level, where the EU list
                                       has one; always a note too); QF-EHEA cycle: a note
type of assessment                     ``provenBy.specifiedBy`` (LearningAssessmentSpecification;
                                       ``dcType``: the EU "Assessment type" concept when chosen)
form of participation                  ``specifiedBy.mode``, ``influencedBy.specifiedBy.mode``
type of quality assurance              ``specifiedBy.accreditation`` (Accreditation: Europass
                                       accreditation type, quality-assuring agent)
prerequisites                          ``specifiedBy.entryRequirement``
supervision and ID verification        ``provenBy.idVerification``
grade                                  ``provenBy.grade``, ``gradingScheme``
integration / stackability             ``specifiedBy.isPartialQualification``, ``isPartOf``
further information                    ``specifiedBy.homepage``, an ``additionalNote``
=====================================  =====================================================

Node ids are ``<credential id>#<role>`` (``#awarding-body``, ``#specification``...): the
SHACL report names the element from that role (:data:`ROLES`).

Pure: no database, no Flask. The caller gives the display image (the badge picture).
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugin.composition.credential import (CompositionError, EvidenceData, SUBJECT_NAMESPACE, _fmt, _num,
                                           _score_text, iso)
from plugin.domain import vocab
from plugin.domain.assessment_methods import ASSESSMENT_SCHEME, english, method_of
from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import N_
from plugin.domain.issuer import IssuerProfile

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
EDC_SCHEMA = "http://data.europa.eu/snb/model/ap/edc-generic-full"
SHACL_VALIDATOR = "ShaclValidator2017"

SNB = vocab.SNB
# Concepts of the EU lists used below, each with where it was read (ELM repo = the
# Commission's European-Learning-Model repository; EC sample = its Annex I sample).
CREDENTIAL_GENERIC = (SNB + "credential/e34929035b", SNB + "credential/25831c2", "Generic")  # xsd/loq/cv/europass-credential-types.xsd
ENCODING_BASE64 = (SNB + "encoding/6146cde7dd", SNB + "encoding/25831c2", "base64")  # EC sample (xsd/ams/cv/europass-content-encoding-types.xsd)
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type"  # xsd/ams/cv/file-type.xsd
ESCO_SKILLS = "http://data.europa.eu/esco/concept-scheme/skills"  # EC sample
PROJECT_SCHEME_SUPERVISION = vocab.PROJECT_VOCAB + "supervision-verification"

# role (node id fragment) -> what a person calls it; used to name a failing element.
ROLES = {
    "credential": N_("the credential"),
    "display": N_("the credential's display (title, language, image)"),
    "display-individual": N_("the credential's display"),
    "display-page": N_("the credential's display image"),
    "display-image": N_("the credential's display image"),
    "learner": N_("the learner"),
    "achievement": N_("the achievement"),
    "awarding": N_("the awarding (awarding body and date)"),
    "awarding-body": N_("the awarding body"),
    "awarding-body-location": N_("the awarding body's country and region"),
    "awarding-body-address": N_("the awarding body's country and region"),
    "awarding-body-eidas": N_("the awarding body's eIDAS legal identifier"),
    "awarding-body-homepage": N_("the awarding body's web site"),
    "awarding-body-logo": N_("the awarding body's logo"),
    "specification": N_("the micro-credential's description (title, outcomes, workload, level)"),
    "credits": N_("the ECTS credits"),
    "credits-earned": N_("the ECTS credits earned"),
    "entry-requirement": N_("the prerequisites"),
    "quality-assurance": N_("the type of quality assurance"),
    "quality-assurance-agent": N_("the quality-assuring authority"),
    "quality-assurance-agent-location": N_("the quality-assuring authority's country"),
    "quality-assurance-agent-address": N_("the quality-assuring authority's country"),
    "assessment": N_("the assessment (grade, supervision and identity verification)"),
    "assessment-specification": N_("the type of assessment"),
    "grading-scheme": N_("the grading scheme"),
    "grade": N_("the grade achieved"),
    "activity": N_("the learning activity (form of participation)"),
    "activity-specification": N_("the form of participation"),
    "further-information": N_("the further-information link"),
    "stackable-towards": N_("what the credential stacks towards"),
    "verification": N_("the verification link"),
}
for _i in range(1, 100):
    ROLES.setdefault(f"outcome-{_i}", N_("learning outcome %(n)s", n=_i))


@dataclass
class EdcLearner:
    """The learner as the issued credential names them.

    ``identifiers`` are the OB 3.0 ``IdentityObject`` entries of the issued credential
    (hashed e-mail and LTI user id with their salt, the LTI platform in clear); ``name``
    only when the learner agreed to appear by name.
    """
    subject_id: str
    name: str | None = None
    identifiers: list[dict[str, Any]] = field(default_factory=list)


def edc_id(credential_id: str) -> str:
    """The EDC's own id, derived from the Open Badges credential's (one award, two documents)."""
    return "urn:uuid:" + str(uuid.uuid5(SUBJECT_NAMESPACE, f"{credential_id}|edc"))


def concept(uri: str, scheme: str, label: str | None = None, lang: str = "en") -> dict[str, Any]:
    c: dict[str, Any] = {"id": uri, "type": "Concept", "inScheme": {"id": scheme, "type": "ConceptScheme"}}
    if label:
        c["prefLabel"] = {lang: label}
    return c


def _lang(d: DefinitionData) -> str:
    """The language the definition is written in: its first language, else English."""
    return d.languages[0] if d.languages else "en"


def _language_concept(code: str) -> dict[str, Any]:
    return concept(vocab.language_uri(code), vocab.LANGUAGE_AUTHORITY.rstrip("/"), vocab.language_label(code))


def _country(code: str) -> dict[str, Any]:
    uri = vocab.country_uri(code)
    if uri is None:
        raise CompositionError(N_("the country code %(code)s has no entry in the EU country list the EDC uses",
                                  code=code))
    from plugin.composition.credential import COUNTRY_NAMES
    return concept(uri, vocab.COUNTRY_AUTHORITY, COUNTRY_NAMES.get(code.upper(), code.upper()))


def _note(node_id: str, text: str, lang: str) -> dict[str, Any]:
    return {"id": node_id, "type": "Note", "noteLiteral": {lang: text}}


def _media(node_id: str, data: bytes, file_type: str) -> dict[str, Any]:
    return {"id": node_id, "type": "MediaObject", "content": base64.b64encode(data).decode("ascii"),
            "contentEncoding": concept(*ENCODING_BASE64),
            "contentType": concept(f"{FILE_TYPE}/{file_type}", FILE_TYPE, file_type)}


_LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}


def _logo(node_id: str, data_uri: str | None) -> dict[str, Any] | None:
    if not data_uri or not data_uri.startswith("data:"):
        return None
    head, _, payload = data_uri.partition(",")
    mime = head[5:].split(";")[0]
    if mime not in _LOGO_TYPES or not head.endswith(";base64"):
        return None  # SVG and WebP have no entry in the file-type list the EDC uses
    return _media(node_id, base64.b64decode(payload), _LOGO_TYPES[mime])


# Legal identifiers: which one is the organisation's eIDAS identifier (the first present).
EIDAS_PREFERENCE = ("EIDAS", "VAT", "LEI", "NATIONAL", "SIREN", "SIRET", "UAI", "OTHER")


def _legal_identifier(node_id: str, notation: str, country: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "type": "LegalIdentifier", "notation": notation, "spatial": country}


def organisation(profile: IssuerProfile, base: str, lang: str, *, eidas_identifier: str | None = None) -> dict[str, Any]:
    """The awarding body as an ELM ``Organisation`` (also the credential's issuer)."""
    oid = f"{base}#awarding-body"
    country = _country(profile.country_code)
    org: dict[str, Any] = {"id": oid, "type": "Organisation", "legalName": {lang: profile.legal_name}}
    by_scheme: dict[str, list] = {}
    for li in profile.legal_identifiers:
        by_scheme.setdefault(li.scheme, []).append(li)
    eidas = eidas_identifier
    if eidas is None:
        first = next((by_scheme[s][0] for s in EIDAS_PREFERENCE if by_scheme.get(s)), None)
        eidas = first.value if first else None
    if eidas:
        org["eIDASIdentifier"] = _legal_identifier(f"{oid}-eidas", eidas, country)
    if by_scheme.get("VAT"):
        org["vatIdentifier"] = _legal_identifier(f"{oid}-vat", by_scheme["VAT"][0].value, country)
    national = next((by_scheme[s][0] for s in ("NATIONAL", "SIREN", "UAI", "SIRET") if by_scheme.get(s)), None)
    if national is not None:
        org["registration"] = _legal_identifier(f"{oid}-registration", national.value, country)
    others = [{"id": f"{oid}-identifier-{i}", "type": "Identifier", "notation": li.value,
               "schemeName": li.display_scheme}
              for i, li in enumerate(profile.legal_identifiers, start=1)]
    if others:
        org["identifier"] = others
    where = ", ".join(x for x in (profile.locality, profile.region) if x)
    address: dict[str, Any] = {"id": f"{oid}-address", "type": "Address", "countryCode": country}
    if where:
        address["fullAddress"] = _note(f"{oid}-address-text", where, lang)
    org["location"] = [{"id": f"{oid}-location", "type": "Location", "address": address}]
    if profile.url:
        org["homepage"] = [{"id": f"{oid}-homepage", "type": "WebResource", "contentURL": profile.url}]
    if profile.email:
        org["contactPoint"] = [{"id": f"{oid}-contact", "type": "ContactPoint",
                                "emailAddress": {"id": f"mailto:{profile.email}", "type": "Mailbox"}}]
    logo = _logo(f"{oid}-logo", profile.logo)
    if logo:
        org["logo"] = logo
    notes = [t for t in (profile.description, profile.quality_assurance, profile.accreditation) if t.strip()]
    if notes:
        org["additionalNote"] = [_note(f"{oid}-note-{i}", t, lang) for i, t in enumerate(notes, start=1)]
    return org


def accreditation(profile: IssuerProfile, d: DefinitionData, base: str, lang: str,
                  awarding_body: dict[str, Any]) -> dict[str, Any] | None:
    """Annex I element 11 as data: an ELM ``Accreditation`` whose type comes from the
    Europass accreditation list and whose accrediting agent is the quality-assuring
    authority (the awarding body itself when the admin named none)."""
    if not profile.qa_type:
        return None
    uri, label = vocab.ACCREDITATION_TYPES[profile.qa_type]
    agent = awarding_body
    if profile.qa_agency.strip():
        aid = f"{base}#quality-assurance-agent"
        country = _country(profile.qa_agency_country or profile.country_code)
        agent = {"id": aid, "type": "Organisation", "legalName": {lang: profile.qa_agency.strip()},
                 "location": [{"id": f"{aid}-location", "type": "Location",
                               "address": {"id": f"{aid}-address", "type": "Address", "countryCode": country}}]}
        if profile.qa_agency_url:
            agent["homepage"] = [{"id": f"{aid}-homepage", "type": "WebResource", "contentURL": profile.qa_agency_url}]
    acc: dict[str, Any] = {"id": f"{base}#quality-assurance", "type": "Accreditation",
                           "dcType": concept(uri, vocab.ACCREDITATION_SCHEME, label),
                           "title": {lang: d.quality_assurance.strip() or label},
                           "accreditingAgent": agent, "organisation": awarding_body}
    statement = " ".join(t.strip() for t in (profile.quality_assurance, profile.accreditation) if t.strip())
    if statement:
        acc["description"] = {lang: statement}
    return acc


def _outcomes(d: DefinitionData, base: str, lang: str) -> list[dict[str, Any]]:
    out = []
    for i, lo in enumerate(d.learning_outcomes, start=1):
        item: dict[str, Any] = {"id": f"{base}#outcome-{i}", "type": "LearningOutcome", "title": {lang: lo.text}}
        if lo.esco_uri:
            item["relatedESCOSkill"] = [concept(lo.esco_uri, ESCO_SKILLS)]
        out.append(item)
    return out


def _mode(d: DefinitionData) -> dict[str, Any] | None:
    if not d.participation:
        return None
    uri, label = vocab.PARTICIPATION[d.participation]
    return concept(uri, vocab.PARTICIPATION_SCHEME, label)


def _assessment_mode(d: DefinitionData) -> dict[str, Any] | None:
    """Where the assessment happens: the supervision says so when it is online or onsite."""
    if d.supervision == "supervised-online-id":
        uri, label = vocab.PARTICIPATION["online"]
        return concept(uri, vocab.PARTICIPATION_SCHEME, label)
    if d.supervision == "supervised-onsite-id":
        uri, label = vocab.PARTICIPATION["onsite"]
        return concept(uri, vocab.PARTICIPATION_SCHEME, label)
    return _mode(d)


def _supervision(d: DefinitionData) -> dict[str, Any] | None:
    if not d.supervision:
        return None
    uri, label = vocab.SUPERVISION[d.supervision]
    scheme = vocab.SUPERVISION_SCHEME if vocab.is_eu_concept(uri) else PROJECT_SCHEME_SUPERVISION
    return concept(uri, scheme, label)


def specification(profile: IssuerProfile, d: DefinitionData, base: str, lang: str,
                  awarding_body: dict[str, Any]) -> dict[str, Any]:
    """The micro-credential itself (ELM ``Qualification``): every Annex I descriptor of the definition."""
    sid = f"{base}#specification"
    q: dict[str, Any] = {"id": sid, "type": "Qualification", "title": {lang: d.title}}
    if d.description.strip():
        q["description"] = {lang: d.description.strip()}
    q["learningOutcome"] = _outcomes(d, base, lang)
    q["learningOutcomeSummary"] = _note(f"{sid}-outcomes", "\n".join(f"- {lo.text}" for lo in d.learning_outcomes), lang)
    if d.workload_duration:
        q["volumeOfLearning"] = d.workload_duration
    if d.ects_credits is not None:
        q["creditPoint"] = [{"id": f"{base}#credits", "type": "CreditPoint",
                             "framework": concept(vocab.ECTS_FRAMEWORK, SNB + "education-credit/25831c2",
                                                  "European Credit Transfer System"),
                             "point": _fmt(d.ects_credits)}]
    if d.eqf_level:
        q["eqfLevel"] = concept(vocab.eqf_uri(d.eqf_level), vocab.EQF_SCHEME, f"Level {d.eqf_level}")
    level = d.nqf
    if level is not None and level.concept:  # only the EU's own concepts (scheme qdr/25831c2); else a note
        from plugin.domain.nqf import NQF_SCHEME
        q["nqfLevel"] = [concept(level.concept, NQF_SCHEME, level.concept_label)]
    mode = _mode(d)
    if mode:
        q["mode"] = [mode]
    q["learningSetting"] = concept(vocab.LEARNING_SETTING_NON_FORMAL, SNB + "learning-setting/25831c2",
                                   "non-formal learning")
    if d.prerequisites.strip():
        q["entryRequirement"] = _note(f"{base}#entry-requirement", d.prerequisites.strip(), lang)
    if d.languages:
        q["language"] = [_language_concept(c) for c in d.languages]
    if d.field_of_study:
        q["thematicArea"] = [concept(vocab.isced_f_uri(d.field_of_study), SNB + "isced-f/25831c2",
                                     d.field_of_study_label or None)]
    acc = accreditation(profile, d, base, lang, awarding_body)
    if acc:
        q["accreditation"] = [acc]
    q["isPartialQualification"] = d.stackability in ("integrated", "stackable")
    if d.stackable_towards.strip() and d.stackability in ("integrated", "stackable"):
        q["isPartOf"] = [{"id": f"{base}#stackable-towards", "type": "Qualification",
                          "title": {lang: d.stackable_towards.strip()}}]
    if d.further_information_url:
        q["homepage"] = [{"id": f"{base}#further-information", "type": "WebResource",
                          "contentURL": d.further_information_url}]
    notes = _annex_notes(profile, d)
    if notes:
        q["additionalNote"] = [_note(f"{sid}-note-{i}", t, lang) for i, t in enumerate(notes, start=1)]
    return q


def _annex_notes(profile: IssuerProfile, d: DefinitionData) -> list[str]:
    """The elements with no ELM property of their own, as notes a viewer shows as text."""
    notes = []
    if d.workload_hours is not None:
        notes.append(f"Notional workload: {_fmt(d.workload_hours)} hours"
                     + (f", {_fmt(d.ects_credits)} ECTS credits" if d.ects_credits is not None else ""))
    if d.eqf_level is None and d.eqf_not_applicable:
        notes.append("Level: no EQF level applies")
    if d.qf_ehea_cycle:
        notes.append(f"QF-EHEA cycle: {vocab.QF_EHEA_CYCLES[d.qf_ehea_cycle]}")
    if d.nqf is not None:
        notes.append(f"National framework level: {d.nqf.label('en')}"
                     + (f" (EQF level {d.nqf.eqf})" if d.nqf.eqf else ""))
    notes.append(f"Type of quality assurance: {d.quality_assurance.strip()}")
    if d.stackability:
        notes.append(f"Integration and stackability: {d.stackability_label}"
                     + (f": {d.stackable_towards.strip()}" if d.stackable_towards.strip() else ""))
    if d.further_information.strip():
        notes.append(f"Further information: {d.further_information.strip()}")
    notes.append("Validity: " + (f"{d.validity_months} months" if d.validity_months else "does not expire"))
    return notes


def assessment(d: DefinitionData, evidence: EvidenceData | None, base: str, lang: str,
               awarding_body: dict[str, Any], awarding: dict[str, Any]) -> dict[str, Any]:
    """The assessment that proves the achievement (type, grade, supervision and ID verification)."""
    spec: dict[str, Any] = {"id": f"{base}#assessment-specification", "type": "LearningAssessmentSpecification",
                            "title": {lang: d.assessment_type.strip()}}
    criteria = " ".join(t for t in (d.criteria.strip(), f"Pass mark: {d.pass_mark}" if d.pass_mark else "") if t)
    if criteria:
        spec["description"] = {lang: criteria}
    method = method_of(d.assessment_type)
    if method:  # the EU "Assessment type" concept (plugin.domain.assessment_methods)
        spec["dcType"] = concept(method, ASSESSMENT_SCHEME, english(method))
    mode = _assessment_mode(d)
    if mode:
        spec["mode"] = [mode]
    if d.languages:
        spec["language"] = [_language_concept(c) for c in d.languages]
    if d.grading_scheme or d.pass_mark:
        gs: dict[str, Any] = {"id": f"{base}#grading-scheme", "type": "GradingScheme",
                              "title": {lang: d.grading_scheme or "Final assessment"}}
        if d.pass_mark:
            gs["description"] = {lang: f"Pass mark: {d.pass_mark}"}
        spec["gradingScheme"] = gs
    score = _score_text(evidence)
    a: dict[str, Any] = {"id": f"{base}#assessment", "type": "LearningAssessment",
                         "title": {lang: d.assessment_type.strip()},
                         "grade": _note(f"{base}#grade", score or "Passed", lang),
                         "awardedBy": awarding, "assessedBy": [awarding_body], "specifiedBy": spec}
    supervision = _supervision(d)
    if supervision:
        a["idVerification"] = supervision
    if evidence is not None:
        a["dateIssued"] = iso(evidence.observed_at)
        a["additionalNote"] = [_note(f"{base}#assessment-source", f"Result reported by: {evidence.source}", lang)]
    return a


def activity(d: DefinitionData, base: str, lang: str, awarding_body: dict[str, Any],
             awarding: dict[str, Any]) -> dict[str, Any]:
    """The course the learner followed: how they took part (online, onsite, blended) and for how long."""
    spec: dict[str, Any] = {"id": f"{base}#activity-specification", "type": "LearningActivitySpecification",
                            "title": {lang: d.title}}
    mode = _mode(d)
    if mode:
        spec["mode"] = [mode]
    if d.workload_duration:
        spec["volumeOfLearning"] = d.workload_duration
    if d.languages:
        spec["language"] = [_language_concept(c) for c in d.languages]
    act: dict[str, Any] = {"id": f"{base}#activity", "type": "LearningActivity", "title": {lang: d.title},
                           "awardedBy": awarding, "directedBy": [awarding_body], "specifiedBy": spec}
    if d.workload_duration:
        act["workload"] = d.workload_duration
    return act


_IDENTITY_NAMES = {
    "emailAddress": "e-mail address",
    "ltiUserId": "user id on the learning platform (LTI)",
    "ltiPlatformId": "learning platform (LTI issuer)",
}


def person(learner: EdcLearner, lang: str) -> dict[str, Any]:
    p: dict[str, Any] = {"id": learner.subject_id, "type": "Person"}
    if learner.name:
        p["fullName"] = {lang: learner.name}
    ids = []
    for i, obj in enumerate(learner.identifiers, start=1):
        kind = obj.get("identityType")
        value = obj.get("identityHash")
        if not isinstance(value, str) or not value or kind == "name":
            continue
        label = _IDENTITY_NAMES.get(kind, str(kind))
        if obj.get("hashed"):
            label = f"{label}, salted SHA-256 (Open Badges 3.0 identityHash; salt {obj.get('salt', '')})"
        ids.append({"id": f"{learner.subject_id}#identifier-{i}" if "#" not in learner.subject_id
                    else f"{learner.subject_id}-identifier-{i}", "type": "Identifier",
                    "notation": value, "schemeName": label})
    if ids:
        p["identifier"] = ids
    return p


def display(d: DefinitionData, base: str, lang: str, image_png: bytes) -> dict[str, Any]:
    language = _language_concept(lang)
    return {"id": f"{base}#display", "type": "DisplayParameter", "title": {lang: d.title},
            "description": {lang: "Micro-credential (EU Council Recommendation of 16 June 2022, Annex I)"},
            "primaryLanguage": language, "language": [language],
            "individualDisplay": [{"id": f"{base}#display-individual", "type": "IndividualDisplay",
                                   "language": language,
                                   "displayDetail": [{"id": f"{base}#display-page", "type": "DisplayDetail",
                                                      "image": _media(f"{base}#display-image", image_png, "PNG"),
                                                      "page": 1}]}]}


def _part_achievement(part: dict[str, Any], lang: str) -> dict[str, Any]:
    """A pathway part as the learning achievement of its own EDC (same node ids), awarded by
    its awarding body (``part["profile"]``, an :class:`IssuerProfile`) on ``part["issued"]``."""
    pbase = edc_id(part["id"])
    node: dict[str, Any] = {"id": f"{pbase}#achievement", "type": "LearningAchievement",
                            "title": {lang: part.get("name") or part["id"]}}
    if part.get("profile") is not None:
        node["awardedBy"] = {"id": f"{pbase}#awarding", "type": "AwardingProcess",
                             "awardingBody": [organisation(part["profile"], pbase, lang)],
                             "awardingDate": str(part.get("issued") or "")}
    return node


def compose_edc(profile: IssuerProfile, definition: DefinitionData, learner: EdcLearner,
                evidence: EvidenceData | None, *, credential_id: str, issued: datetime,
                valid_until: datetime | None = None, image_png: bytes, verification_url: str | None = None,
                eidas_identifier: str | None = None, parts: list[dict[str, Any]] | None = None,
                part_of: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The unsigned EDC (a plain dict) of an award.

    ``credential_id`` is the Open Badges credential's id (its URL): the EDC cites it and
    derives its own id from it. ``eidas_identifier`` overrides the legal identifier taken
    from the profile (a seal certificate's organisation identifier). ``parts`` (a pathway
    credential's parts: their Open Badges ``id`` and ``name``) become ``hasPart`` of the learning
    achievement and of its specification, pointing at the parts' own EDC nodes; ``part_of``
    (``id``, ``name``: the pathways this credential counts towards) ``isPartOf`` of the
    specification. Raises :class:`CompositionError` when the definition or the awarding body
    misses an element.
    """
    missing = definition.missing_elements() + profile.missing_elements()
    if missing:
        raise CompositionError(N_("cannot issue: %(missing)s", missing=missing))
    base = edc_id(credential_id)
    lang = _lang(definition)
    body = organisation(profile, base, lang, eidas_identifier=eidas_identifier)
    when = iso(issued)
    awarding = {"id": f"{base}#awarding", "type": "AwardingProcess", "awardingBody": [body],
                "awardingDate": when}
    achievement: dict[str, Any] = {
        "id": f"{base}#achievement", "type": "LearningAchievement", "title": {lang: definition.title},
        "awardedBy": awarding,
        "specifiedBy": specification(profile, definition, base, lang, body),
        "provenBy": [assessment(definition, evidence, base, lang, body, awarding)],
        "influencedBy": [activity(definition, base, lang, body, awarding)],
    }
    if definition.description.strip():
        achievement["description"] = {lang: definition.description.strip()}
    if parts:
        achievement["hasPart"] = [_part_achievement(p, lang) for p in parts]
        achievement["specifiedBy"]["hasPart"] = [
            {"id": f"{edc_id(p['id'])}#specification", "type": "Qualification",
             "title": {lang: p.get("name") or p["id"]}} for p in parts]
    if part_of:
        achievement["specifiedBy"]["isPartOf"] = achievement["specifiedBy"].get("isPartOf", []) + [
            {"id": p["id"], "type": "Qualification", "title": {lang: p["name"]}} for p in part_of]
    if definition.ects_credits is not None:
        achievement["creditReceived"] = [{"id": f"{base}#credits-earned", "type": "CreditPoint",
                                          "framework": concept(vocab.ECTS_FRAMEWORK, SNB + "education-credit/25831c2",
                                                               "European Credit Transfer System"),
                                          "point": _fmt(definition.ects_credits)}]
    if verification_url:
        achievement["supplementaryDocument"] = [{"id": f"{base}#verification", "type": "WebResource",
                                                 "title": {lang: "Verification page"},
                                                 "contentURL": verification_url}]
    subject = person(learner, lang)
    subject["hasClaim"] = [achievement]
    doc: dict[str, Any] = {
        "@context": [CREDENTIALS_V1, EDC_CONTEXT],
        "id": base,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": [concept(*CREDENTIAL_GENERIC)],
        "credentialSchema": [{"id": EDC_SCHEMA, "type": SHACL_VALIDATOR}],
        "identifier": [{"id": f"{base}#ob3", "type": "Identifier", "notation": credential_id,
                        "schemeName": "Open Badges 3.0 credential (same award)"}],
        "issuer": body,
        "issuanceDate": when,
        "issued": when,
        "validFrom": when,
        "credentialSubject": subject,
        "displayParameter": display(definition, base, lang, image_png),
    }
    if valid_until is not None:
        doc["expirationDate"] = iso(valid_until)
        doc["validUntil"] = iso(valid_until)
    return doc


def role_of(node_id: str) -> str | None:
    """The role fragment of one of our node ids (``...#awarding-body-eidas`` -> ``awarding-body-eidas``)."""
    if "#" not in node_id:
        return None
    return node_id.rsplit("#", 1)[1]


__all__ = ["EdcLearner", "compose_edc", "edc_id", "ROLES", "role_of", "EDC_CONTEXT", "EDC_SCHEMA",
           "CREDENTIALS_V1", "_num"]
