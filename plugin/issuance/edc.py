"""European Digital Credentials of issued credentials: compose, validate, and check definitions.

Glue between the database and the pure mapping (:mod:`plugin.composition.edc`): the EDC of
an issued credential is built from what that credential was issued from (the immutable
definition version, its pass evidence, the learner identifiers written in the signed
Open Badges credential, its dates) and the awarding body's profile, then validated
against the SHACL shapes (:mod:`plugin.verification.shacl`) before anyone gets it.

:func:`readiness_problems` runs the same mapping and shapes on a definition with a
stand-in learner: enabling a credential is refused while its EDC would not validate
(:func:`plugin.issuance.service.set_enabled`), with each failing element named.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from plugin.composition.credential import CompositionError, EvidenceData
from plugin.composition.edc import EdcLearner, compose_edc
from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import Msg, N_
from plugin.domain.issuer import IssuerProfile

SAMPLE_LEARNER = EdcLearner(subject_id="urn:uuid:00000000-0000-4000-8000-000000000000", name="Sample Learner",
                            identifiers=[{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                                          "identityHash": "sha256$" + "0" * 64, "salt": "0000"}])
SAMPLE_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)


class EdcError(ValueError):
    """No valid EDC can be offered for this credential; ``problems`` name each failing element."""

    def __init__(self, message: str, problems: list[Msg] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class EdcExport:
    document: dict[str, Any]
    conforms: bool
    problems: list[Msg]


def display_image(title: str, issuer_name: str, eqf_level: int | None) -> bytes:
    """The EDC's page image: the credential's badge picture (the same as the baked PNG)."""
    from plugin.delivery.badge_image import render_png
    return render_png(title, issuer_name, eqf_level)


def learner_of(document: dict[str, Any]) -> EdcLearner:
    """The learner exactly as the signed Open Badges credential names them."""
    subject = document.get("credentialSubject") or {}
    return EdcLearner(subject_id=str(subject.get("id") or SAMPLE_LEARNER.subject_id),
                      name=subject.get("name") if isinstance(subject.get("name"), str) else None,
                      identifiers=[i for i in subject.get("identifier") or [] if isinstance(i, dict)])


def compose_for_credential(session, services, row, *, eidas_identifier: str | None = None) -> dict[str, Any]:
    """The unsigned EDC of an issued credential row (raises :class:`CompositionError`)."""
    from plugin.delivery.access import verification_url
    from plugin.storage.models import PassEvidence
    profile = IssuerProfile.from_json(row.issuer.profile)
    definition = DefinitionData.from_json(row.version.data)
    evidence = session.get(PassEvidence, row.evidence_id) if row.evidence_id else None
    ev = None
    if evidence is not None:
        details = evidence.details or {}
        ev = EvidenceData(source=str(details.get("source_label") or evidence.source),
                          observed_at=evidence.observed_at, score=evidence.score,
                          score_max=details.get("score_max"), passed=evidence.passed)
    image = display_image(definition.title, profile.legal_name, definition.eqf_level)
    from plugin.issuance import pathways
    return compose_edc(profile, definition, learner_of(row.document), ev, credential_id=row.credential_id,
                       issued=row.issued_at, valid_until=row.valid_until, image_png=image,
                       verification_url=verification_url(services.settings.base_url, row.public_id),
                       eidas_identifier=eidas_identifier, parts=_edc_parts(session, row),
                       part_of=pathways.pathway_refs(session, services, row.definition_id))


def _edc_parts(session, row) -> list[dict[str, Any]]:
    """A pathway credential's parts, each with its awarding body's profile (empty otherwise)."""
    from plugin.issuance import pathways
    from plugin.storage.models import Issuer, IssuedCredential
    out = []
    for part in pathways.parts_of(session, row):
        found = session.query(IssuedCredential).filter_by(public_id=part.get("credential")).first()
        issuer = session.get(Issuer, found.issuer_id) if found else None
        out.append({**part, "profile": IssuerProfile.from_json(issuer.profile) if issuer else None})
    return out


def export(session, services, row, *, eidas_identifier: str | None = None) -> dict[str, Any]:
    """The validated unsigned EDC of ``row``; :class:`EdcError` names what fails."""
    from plugin.signing.contexts import get_store
    from plugin.verification.shacl import validate_edc
    try:
        document = compose_for_credential(session, services, row, eidas_identifier=eidas_identifier)
    except CompositionError as exc:
        raise EdcError(str(exc), [exc.args[0]] if isinstance(exc.args[0], Msg) else []) from None
    report = validate_edc(document, get_store(services))
    if not report.conforms:
        raise EdcError("the European Digital Credential does not pass the EDC shapes: "
                       + "; ".join(str(m) for m in report.messages), report.messages)
    return document


def readiness_problems(profile: IssuerProfile, definition: DefinitionData, store=None) -> list[Msg]:
    """Why this definition's EDC would not be valid (empty when it would be).

    Our own rule first (Annex I element 11 must be machine-readable: the awarding body's
    type of quality assurance), then every failing SHACL shape, named in plain words.
    """
    from plugin.verification.shacl import validate_edc
    problems: list[Msg] = []
    if not profile.qa_type:
        problems.append(N_("Type of quality assurance (European Digital Credential): the awarding body has no "
                           "machine-readable quality-assurance type; an administrator chooses it on the "
                           "awarding body's page"))
    try:
        document = compose_edc(profile, definition, SAMPLE_LEARNER, None, credential_id="urn:uuid:sample",
                               issued=SAMPLE_DATE, image_png=display_image(definition.title, profile.legal_name,
                                                                           definition.eqf_level))
    except CompositionError as exc:
        return problems + [N_("European Digital Credential: %(why)s", why=exc.args[0])]
    report = validate_edc(document, store)
    problems += [N_("European Digital Credential: %(problem)s", problem=m) for m in report.messages]
    return problems


def write_edc_files(session, services, out_dir, rows) -> list:
    """``<id>.edc.json`` for each credential, ``<id>.edc.jades.json`` when its awarding body
    seals, and ``edc-trust-anchors.pem`` (the configured trust anchors, to verify offline)."""
    import json
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization

    from plugin.delivery.export import _write
    from plugin.issuance import edc_sealing
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        path = out / f"{row.public_id}.edc.json"
        _write(path, json.dumps(export(session, services, row), ensure_ascii=False, indent=2).encode("utf-8"))
        written.append(path)
        sealed = edc_sealing.sealed_document(session, services, row)
        if sealed:
            path = out / f"{row.public_id}.edc.jades.json"
            _write(path, sealed.encode("utf-8"))
            written.append(path)
    anchors = edc_sealing.trust_anchors(session)
    if anchors:
        path = out / "edc-trust-anchors.pem"
        _write(path, b"".join(a.public_bytes(serialization.Encoding.PEM) for a in anchors))
        written.append(path)
    return written
