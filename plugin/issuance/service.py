"""Issuers, definitions, awards and status changes: the engine's database operations (no Flask).

Every function takes the caller's SQLAlchemy session and leaves committing to the caller
(one request or one command = one transaction). Every issuance, status change and key
change writes an :class:`AuditLog` row.

**Awarding is idempotent and race-safe.** The database holds at most one *current*
(active or suspended) credential per learner and definition (a partial unique index,
see :mod:`plugin.storage.models`). :func:`award` inserts the new row inside a savepoint;
if another transaction got there first, the insert fails, the savepoint is rolled back
and the existing credential is returned with ``created=False``. Revoking frees the
slot, so a learner can be awarded a *new* credential afterwards.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.domain.definition import DefinitionData
from plugin.domain.i18n import N_
from plugin.domain.issuer import IssuerProfile
from plugin.issuance import keys as issuer_keys
from plugin.status import service as status
from plugin.storage.db import reading_only, write_apart
from plugin.storage.models import (CURRENT_STATUSES, AuditLog, Course, CredentialDefinition, DefinitionVersion,
                                   IssuedCredential, Issuer, IssuerKey, Learner, PassEvidence)

SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class IssuanceError(RuntimeError):
    """The operation cannot be done; the message says why in words a person understands."""


def audit(session: Session, actor: str, action: str, target_type: str = "", target_id: Any = "",
          **details) -> AuditLog:
    row = AuditLog(actor=actor or "system", action=action, target_type=target_type,
                   target_id=str(target_id), details=details)
    session.add(row)
    return row


# --------------------------------------------------------------------------- issuers and keys
def create_issuer(session: Session, services, slug: str, profile: IssuerProfile | dict, *,
                  actor: str = "system") -> Issuer:
    """A new issuer with an Ed25519 key (Data Integrity) and an RSA key (VC-JWT), sealed at rest."""
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 64 or not set(slug) <= SLUG_CHARS or slug.startswith("-"):
        raise IssuanceError("the issuer slug must be 1-64 lower-case letters, digits or dashes (e.g. univ-lille)")
    if not isinstance(profile, IssuerProfile):
        profile = IssuerProfile.model_validate(profile)
    missing = profile.missing_elements()
    if missing:
        raise IssuanceError("the issuer profile is incomplete: " + "; ".join(missing))
    if session.scalars(select(Issuer).where(Issuer.slug == slug)).first() is not None:
        raise IssuanceError(f"an issuer with the slug {slug!r} already exists")
    issuer = Issuer(slug=slug, name=profile.legal_name, profile=profile.to_json())
    session.add(issuer)
    session.flush()
    created = issuer_keys.new_key_pair(session, services, issuer)
    audit(session, actor, "issuer.create", "issuer", issuer.slug, name=issuer.name,
          keys=[k.key_id for k in created])
    return issuer


def update_issuer_profile(session: Session, issuer: Issuer, profile: IssuerProfile, *, actor: str) -> Issuer:
    missing = profile.missing_elements()
    if missing:
        raise IssuanceError("the issuer profile is incomplete: " + "; ".join(missing))
    issuer.profile = profile.to_json()
    issuer.name = profile.legal_name
    audit(session, actor, "issuer.update", "issuer", issuer.slug)
    return issuer


def rotate_keys(session: Session, services, issuer: Issuer, *, actor: str = "system") -> list[IssuerKey]:
    """Retire the issuer's active keys and create new ones.

    Retired keys keep their rows and stay in the DID document (``did_document_for``), so
    every credential signed before the rotation still verifies.
    """
    now = datetime.now(timezone.utc)
    retired = session.scalars(select(IssuerKey).where(IssuerKey.issuer_id == issuer.id,
                                                      IssuerKey.retired_at.is_(None))).all()
    for row in retired:
        row.retired_at = now
    session.flush()
    created = issuer_keys.new_key_pair(session, services, issuer)
    # Status lists are signed with the active key: re-sign them with the new one.
    for sl in status.lists_of(session, issuer.id):
        status.invalidate(session, sl.id)
    audit(session, actor, "issuer.keys.rotate", "issuer", issuer.slug,
          retired=[k.key_id for k in retired], created=[k.key_id for k in created])
    return created


def issuer_by_slug(session: Session, slug: str) -> Issuer | None:
    return session.scalars(select(Issuer).where(Issuer.slug == slug)).first()


def did_document_for(session: Session, services, issuer: Issuer) -> dict[str, Any]:
    """The issuer's did:web document: every key, retired ones included."""
    from plugin.signing.did import did_document
    return did_document(issuer_keys.issuer_identifier(services, issuer), issuer_keys.all_keys(session, issuer),
                        also_known_as=[issuer_profile_url(services, issuer)])


def issuer_profile_url(services, issuer: Issuer) -> str:
    return f"{services.settings.base_url.rstrip('/')}/issuers/{issuer.slug}"


def issuer_profile_document(session: Session, services, issuer: Issuer) -> dict[str, Any]:
    """The HTTPS issuer profile (OB 3.0 ``Profile``) served at ``/issuers/<slug>``.

    It names the issuer's DID (the id used in credentials, whose document lists the keys)
    as an ``otherIdentifier``.
    """
    from plugin.composition.credential import _issuer  # the exact issuer object credentials embed
    from plugin.signing import contexts as ctx
    url = issuer_profile_url(services, issuer)
    did = issuer_keys.issuer_identifier(services, issuer)
    doc = {"@context": [ctx.CREDENTIALS_V2, ctx.OB_V3P0, ctx.extension_context_url(services.settings.base_url)]}
    body = _issuer(IssuerProfile.from_json(issuer.profile), url)
    doc.update(body)
    # Point to the DID used as the issuer id in credentials (its document lists the keys).
    doc.setdefault("otherIdentifier", []).append(
        {"type": "IdentifierEntry", "identifier": did, "identifierType": "ext:DID"})
    return doc


# --------------------------------------------------------------------------- definitions
def definition_for_course(session: Session, course: Course) -> CredentialDefinition | None:
    return session.scalars(select(CredentialDefinition).where(CredentialDefinition.course_id == course.id)
                           .order_by(CredentialDefinition.id).limit(1)).first()


def save_definition(session: Session, course: Course, data: DefinitionData, actor: str,
                    issuer: Issuer | None = None, *, definition: CredentialDefinition | None = None,
                    policy: dict | None = None) -> DefinitionVersion:
    """Save the course's definition; a new immutable version only when the content changed.

    Returns the current version (the new one, or the unchanged latest one). An enabled
    definition must stay complete: saving an incomplete one is refused.
    """
    if definition is None:
        definition = definition_for_course(session, course)
    if definition is None:
        definition = CredentialDefinition(course_id=course.id, issuer_id=issuer.id if issuer else None,
                                          enabled=False, current_version=0, policy=policy or {})
        session.add(definition)
        session.flush()
        audit(session, actor, "definition.create", "definition", definition.public_id, course_id=course.id)
    if issuer is not None and definition.issuer_id != issuer.id:
        definition.issuer_id = issuer.id
        audit(session, actor, "definition.issuer", "definition", definition.public_id, issuer=issuer.slug)
    if policy is not None and policy != definition.policy:
        definition.policy = policy
        audit(session, actor, "definition.policy", "definition", definition.public_id, policy=policy)
    if definition.enabled and data.missing_elements():
        raise IssuanceError(N_("this credential is enabled, so it must stay complete: %(missing)s",
                               missing=data.missing_elements()))
    content = data.to_json()
    latest = current_version(session, definition)
    if latest is not None and latest.data == content:
        return latest
    version = DefinitionVersion(definition_id=definition.id, version=definition.current_version + 1,
                                data=content, created_by=actor)
    session.add(version)
    definition.current_version = version.version
    session.flush()
    audit(session, actor, "definition.version", "definition", definition.public_id, version=version.version)
    return version


def current_version(session: Session, definition: CredentialDefinition) -> DefinitionVersion | None:
    if not definition.current_version:
        return None
    return session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition.id,
        DefinitionVersion.version == definition.current_version)).first()


def set_enabled(session: Session, definition: CredentialDefinition, enabled: bool, *, actor: str,
                services=None) -> int:
    """Enable (refused while a mandatory Annex I element or the issuer is missing) or disable.

    With ``services``, enabling also queues the automatic issuance owed to learners whose
    pass was recorded while the credential was disabled (:func:`plugin.issuance.auto.queue_backlog`,
    in this transaction). Returns how many learners were queued (0 when disabling)."""
    if enabled:
        version = current_version(session, definition)
        problems = DefinitionData.from_json(version.data).missing_elements() if version else \
            [N_("Describe the credential first (no definition saved yet)")]
        if definition.issuer_id is None:
            problems.append(N_("Awarding body: choose the issuer that awards this credential"))
        else:
            issuer = session.get(Issuer, definition.issuer_id)
            problems += IssuerProfile.from_json(issuer.profile).missing_elements()
        if not problems:  # complete: its European Digital Credential must pass the EDC shapes too
            from plugin.issuance.edc import readiness_problems
            problems = readiness_problems(IssuerProfile.from_json(issuer.profile),
                                          DefinitionData.from_json(version.data))
        if problems:
            raise IssuanceError(N_("cannot enable this credential: %(problems)s", problems=problems))
    if definition.enabled == enabled:
        return 0
    definition.enabled = enabled
    audit(session, actor, "definition.enable" if enabled else "definition.disable", "definition",
          definition.public_id)
    if enabled and services is not None:
        from plugin.issuance.auto import queue_backlog
        return queue_backlog(session, services, definition)
    return 0


# --------------------------------------------------------------------------- awarding
def current_credential(session: Session, definition_id: int, learner_id: int) -> IssuedCredential | None:
    return session.scalars(select(IssuedCredential).where(
        IssuedCredential.definition_id == definition_id, IssuedCredential.learner_id == learner_id,
        IssuedCredential.status.in_(CURRENT_STATUSES))).first()


def credential_url(services, public_id: str) -> str:
    return f"{services.settings.base_url.rstrip('/')}/credentials/{public_id}"


def badge_image_url(credential_id: str) -> str:
    """``achievement.image`` of a credential: its picture, served by :mod:`plugin.web.verify.public`."""
    return f"{credential_id}/image.png"


def award(session: Session, services, *, definition_id: int, learner_id: int, evidence_id: int | None = None,
          display_name: str | None = None, actor: str = "system", replaces: IssuedCredential | None = None,
          now: datetime | None = None, parts: list[dict[str, Any]] | None = None) -> tuple[IssuedCredential, bool]:
    """Issue the learner's credential for a definition, or return the current one.

    Composes the OB 3.0 credential, allocates its status entry, signs it (Data Integrity
    and VC-JWT) and stores it. ``display_name`` puts the learner's name in the credential
    (only with their consent). ``parts``: the credentials a pathway credential is awarded for
    (:mod:`plugin.issuance.pathways`), cited as its evidence. Returns ``(credential, created)``.
    Creating it resolves the learner's pending issuance, if an earlier try failed
    (:mod:`plugin.issuance.pending`), and awards every pathway it completes.
    """
    existing = current_credential(session, definition_id, learner_id)
    if existing is not None:
        return existing, False
    definition = session.get(CredentialDefinition, definition_id)
    if definition is None:
        raise IssuanceError(f"no credential definition {definition_id}")
    if not definition.enabled:
        raise IssuanceError("this credential is not enabled for the course")
    version = current_version(session, definition)
    issuer = session.get(Issuer, definition.issuer_id) if definition.issuer_id else None
    if version is None or issuer is None:
        raise IssuanceError("this credential has no definition or no issuer")
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise IssuanceError(f"no learner {learner_id}")
    evidence = session.get(PassEvidence, evidence_id) if evidence_id else None
    if evidence_id and (evidence is None or evidence.learner_id != learner_id
                        or evidence.definition_id != definition_id):
        raise IssuanceError("the pass evidence is not this learner's for this credential")
    if evidence is not None and not evidence.passed:
        raise IssuanceError("the evidence does not say the learner passed")

    ed_row = issuer_keys.active_key(session, issuer, "Ed25519")
    rsa_row = issuer_keys.active_key(session, issuer, "RS256")
    public_id = str(uuid.uuid4())
    credential_id = credential_url(services, public_id)
    issued_at = (now or datetime.now(timezone.utc)).replace(microsecond=0)

    def compose_and_sign(reservation: status.Reservation) -> tuple[dict[str, Any], dict[str, Any], str]:
        unsigned = compose_for(session, services, definition=definition, version=version, issuer=issuer,
                               learner=learner, evidence=evidence, display_name=display_name,
                               credential_id=credential_id, issued_at=issued_at,
                               status_entry=status.entry(services.settings.base_url, reservation), parts=parts)
        return (unsigned, issuer_keys.sign_data_integrity(session, services, issuer, unsigned, row=ed_row),
                issuer_keys.sign_jwt(session, services, issuer, unsigned, row=rsa_row))

    # On SQLite, when this transaction has not written yet, the credential is composed and
    # signed before it takes the database's write lock, which it then holds only to store
    # the row: other writers do not wait for the signing. Its status index is reserved and
    # committed apart just before (an index that ends up unused stays 0, "not revoked").
    # Exactly once still holds: the insert below meets the partial unique index under the
    # write lock, and of two racers that both signed, the second's credential is discarded.
    # PostgreSQL (no database-wide write lock) and a transaction that already writes keep
    # the single-transaction path.
    signed = None
    if reading_only(session):
        try:
            with write_apart(session):
                reservation = status.allocate_many(session, issuer.id, 1)[0]
            signed = (reservation, *compose_and_sign(reservation))
        except Exception as exc:
            _raise_issuance_error(exc)
    savepoint = session.begin_nested()
    try:
        row = IssuedCredential(public_id=public_id, credential_id=credential_id,
                               definition_id=definition.id, definition_version_id=version.id,
                               learner_id=learner.id, issuer_id=issuer.id, issuer_key_id=ed_row.id,
                               evidence_id=evidence.id if evidence else None, status="active",
                               display_name=display_name or None, issued_at=issued_at,
                               replaces_id=replaces.id if replaces else None,
                               public_name=replaces.public_name if replaces else True,
                               consent_at=issued_at if display_name else None,
                               document=signed[2] if signed else {}, jwt=signed[3] if signed else "",
                               valid_until=_valid_until(signed[1]) if signed else None)
        session.add(row)
        session.flush()  # the partial unique index decides here
    except IntegrityError:
        savepoint.rollback()
        existing = current_credential(session, definition_id, learner_id)
        if existing is None:
            raise
        return existing, False
    try:
        if signed:
            status.bind(session, row, signed[0])
        else:
            unsigned, row.document, row.jwt = compose_and_sign(status.allocate(session, row))
            row.valid_until = _valid_until(unsigned)
            session.flush()
        savepoint.commit()
    except Exception as exc:
        savepoint.rollback()
        _raise_issuance_error(exc)
    audit(session, actor, "credential.issue", "credential", row.public_id, definition=definition.public_id,
          learner=learner.public_id, version=version.version, evidence=evidence.id if evidence else None,
          replaces=replaces.public_id if replaces else None)
    from plugin.issuance.pending import resolve_open  # an earlier failed try is now settled
    resolve_open(session, definition.id, learner.id, resolution="issued", credential_id=row.id)
    from plugin.issuance.edc_sealing import after_issue
    after_issue(session, services, row)  # its European Digital Credential is sealed by a job
    from plugin.issuance import pathways
    pathways.after_issue(session, services, row)  # the pathways it completes are awarded now
    return row, True


def _valid_until(unsigned: dict[str, Any]) -> datetime | None:
    """The credential's ``validUntil`` as the row's ``valid_until`` (None: no end)."""
    from plugin.signing.jwt import parse_datetime
    return parse_datetime(unsigned["validUntil"]) if unsigned.get("validUntil") else None


def _raise_issuance_error(exc: Exception):
    """Composition and signing failures as :class:`IssuanceError`; anything else as it is."""
    from plugin.composition.credential import CompositionError
    from plugin.signing.data_integrity import SigningError
    from plugin.signing.jwt import JwtError
    if isinstance(exc, (CompositionError, SigningError, JwtError)):
        raise IssuanceError(f"cannot issue this credential: {exc}") from exc
    raise exc


def compose_for(session: Session, services, *, definition, version, issuer, learner, evidence, display_name,
                credential_id, issued_at, status_entry, parts=None) -> dict[str, Any]:
    from plugin.composition.credential import EvidenceData, LearnerIdentity, compose
    identity = LearnerIdentity(key=learner.public_id, email=learner.email, lti_issuer=learner.platform_issuer,
                               lti_sub=learner.sub, name=display_name or None)
    ev = None
    if evidence is not None:
        details = evidence.details or {}
        ev = EvidenceData(source=str(details.get("source_label") or evidence.source),
                          observed_at=evidence.observed_at, score=evidence.score,
                          score_max=details.get("score_max"), passed=evidence.passed,
                          narrative=str(details.get("narrative") or ""))
    return compose(IssuerProfile.from_json(issuer.profile), issuer_keys.issuer_identifier(services, issuer),
                   DefinitionData.from_json(version.data), identity, ev, credential_id, issued_at,
                   status_entries=[status_entry], base_url=services.settings.base_url,
                   image=badge_image_url(credential_id), parts=parts,
                   **met_labels(session, services, definition, DefinitionData.from_json(version.data),
                                issuer_keys.issuer_identifier(services, issuer), issued_at))


def met_labels(session: Session, services, definition, data: DefinitionData, issuer_did: str,
               issued_at: datetime) -> dict[str, list[dict[str, Any]]]:
    """What the credential says about the labels the definition claims and still meets.

    Each one is a typed alignment (name and version). When the label's body is an awarding
    body here (the profile's ``endorser``: an issuer slug) it also signs an OB 3.0
    ``EndorsementCredential`` of the achievement with its own key. A label no longer met is
    not carried."""
    out: dict[str, list[dict[str, Any]]] = {"label_alignments": [], "label_endorsements": []}
    if not definition.labels:
        return out
    from plugin.composition.credential import _default_achievement_id
    from plugin.domain.frameworks import label_alignment
    from plugin.domain.labels import load_profiles
    profiles = load_profiles([services.settings.instance_dir / "labels"])
    for label_id in definition.labels:
        profile = profiles.get(label_id)
        if profile is None or profile.check(data).failed:
            continue
        out["label_alignments"].append(label_alignment(profile, services.settings.base_url))
        endorser = issuer_by_slug(session, profile.endorser) if profile.endorser else None
        if endorser is not None:
            achievement_id = _default_achievement_id(services.settings.base_url, issuer_did, data.title)
            out["label_endorsements"].append(endorsement(session, services, endorser, profile, achievement_id,
                                                         issued_at))
    return out


def endorsement(session: Session, services, endorser: Issuer, profile, achievement_id: str,
                issued_at: datetime) -> dict[str, Any]:
    """The label body's signed ``EndorsementCredential`` saying the achievement meets the label."""
    from plugin.composition.credential import _issuer
    from plugin.signing import contexts as ctx
    did = issuer_keys.issuer_identifier(services, endorser)
    doc = {"@context": [ctx.CREDENTIALS_V2, ctx.OB_V3P0, ctx.extension_context_url(services.settings.base_url)],
           "id": f"urn:uuid:{uuid.uuid4()}",
           "type": ["VerifiableCredential", "EndorsementCredential"],
           "name": f"{profile.display_name('en')} (version {profile.version})",
           "issuer": {**_issuer(IssuerProfile.from_json(endorser.profile), did), "id": did},
           "validFrom": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "credentialSubject": {"id": achievement_id, "type": ["EndorsementSubject"],
                                 "endorsementComment": f"Meets every rule of the {profile.display_name('en')} label, "
                                                       f"version {profile.version}."}}
    return issuer_keys.sign_data_integrity(session, services, endorser, doc)


# --------------------------------------------------------------------------- status changes
def _change(session: Session, credential: IssuedCredential, new_status: str, reason: str | None, actor: str,
            action: str) -> bool:
    old = credential.status
    try:
        changed = status.set_status(session, credential, new_status, reason)
    except status.StatusError as exc:
        raise IssuanceError(str(exc)) from None
    if changed:
        audit(session, actor, action, "credential", credential.public_id, previous=old, reason=reason)
    return changed


def revoke(session: Session, credential: IssuedCredential, reason: str, actor: str) -> bool:
    """Revoke for good (the learner may then be awarded a new credential)."""
    if not (reason or "").strip():
        raise IssuanceError("say why the credential is revoked (the reason is kept in the audit log)")
    changed = _change(session, credential, "revoked", reason.strip(), actor, "credential.revoke")
    if changed:  # a pathway credential citing it waits for an admin's decision (never silently)
        from plugin.issuance.pathways import after_revoke
        after_revoke(session, credential, actor=actor, reason=reason.strip())
    return changed


def suspend(session: Session, credential: IssuedCredential, reason: str, actor: str) -> bool:
    return _change(session, credential, "suspended", (reason or "").strip() or None, actor, "credential.suspend")


def reinstate(session: Session, credential: IssuedCredential, actor: str, reason: str | None = None) -> bool:
    """Lift a suspension."""
    if credential.status != "suspended":
        raise IssuanceError(f"only a suspended credential can be reinstated (this one is {credential.status})")
    return _change(session, credential, "active", reason, actor, "credential.reinstate")


def reissue(session: Session, services, credential: IssuedCredential, *, display_name: str | None,
            actor: str) -> IssuedCredential:
    """Replace a current credential (e.g. the learner's name changed): the old one is marked
    ``superseded`` in its status list and a new one is issued from the same evidence."""
    if credential.status not in CURRENT_STATUSES:
        raise IssuanceError(f"a {credential.status} credential cannot be reissued")
    was_suspended = credential.status == "suspended"
    _change(session, credential, "superseded", "reissued", actor, "credential.supersede")
    new, _created = award(session, services, definition_id=credential.definition_id,
                          learner_id=credential.learner_id, evidence_id=credential.evidence_id,
                          display_name=display_name, actor=actor, replaces=credential)
    if was_suspended:
        suspend(session, new, "carried over from the replaced credential", actor)
    return new


def replacement_of(session: Session, credential: IssuedCredential) -> IssuedCredential | None:
    """The newest credential issued in place of ``credential``, following re-issues
    (``replaces_id``); ``None`` when it was never replaced. Read from the database only,
    whatever the status lists encode. A re-issue keeps the learner, so the learner index
    finds successors without an index on ``replaces_id``."""
    newest, seen = None, {credential.id}
    current = credential
    while True:
        successor = session.scalars(select(IssuedCredential).where(
            IssuedCredential.learner_id == current.learner_id, IssuedCredential.replaces_id == current.id)
            .order_by(IssuedCredential.id.desc()).limit(1)).first()
        if successor is None or successor.id in seen:
            return newest
        newest = current = successor
        seen.add(successor.id)


def credential_by_any_id(session: Session, ident: str) -> IssuedCredential | None:
    """Find a credential by its public id, its VC id (URL) or its row id."""
    ident = (ident or "").strip()
    row = session.scalars(select(IssuedCredential).where(
        (IssuedCredential.public_id == ident) | (IssuedCredential.credential_id == ident))).first()
    if row is None and ident.isdigit():
        row = session.get(IssuedCredential, int(ident))
    return row
