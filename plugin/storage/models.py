"""The database model.

Rules the schema enforces by itself (so no race in the application can break them):

* a platform registration is unique per (issuer, client_id); a deployment per registration;
* a learner is unique per (platform, sub);
* a credential definition version is immutable and unique per (definition, version);
* **at most one current credential per (definition, learner)**: a partial unique index
  over the credentials whose status is ``active`` or ``suspended``. Revoking frees
  the slot so the learner can be re-awarded a *new* credential;
* a status-list index is used once per list;
* pass evidence is recorded once per (source, dedup key);
* an LTI nonce, a webhook ``jti`` or any other one-time token is accepted once.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Text, TypeDecorator, UniqueConstraint, text, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


class TZDateTime(TypeDecorator):
    """Timezone-aware datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite keeps no offset, so values are stored as
    naive UTC and read back as aware UTC. (A subclass of ``DateTime`` does not work: the
    SQLite dialect swaps it for its own ``DATETIME`` and the custom processors are lost.)
    Naive values are taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            if dialect.name == "sqlite":
                value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: TZDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------- LTI platforms
class Platform(Base):
    """An LTI 1.3 platform registration: one (issuer, client_id) pair.

    Open edX gives one client id per LTI component, so one platform issuer
    has many registrations.
    """
    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    product: Mapped[str] = mapped_column(String(64), default="generic")  # openedx, moodle, sandbox, generic
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    key_set_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    key_set: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    registration_kind: Mapped[str] = mapped_column(String(16), default="manual")  # manual, dynamic
    registration_data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    # Bridge settings (which source says "passed"); secrets inside are sealed with the KEK.
    bridge_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    deployments: Mapped[list["Deployment"]] = relationship(back_populates="platform", cascade="all, delete-orphan")


class Deployment(Base):
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """The tool's own RSA keys for LTI (JWKS, deep-linking responses, client assertions)."""
    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(128), unique=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    private_sealed: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- issuers
class Issuer(Base):
    """An awarding body. ``profile`` holds the validated domain model (plugin.domain)."""
    __tablename__ = "issuer"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo_mime: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    keys: Mapped[list["IssuerKey"]] = relationship(back_populates="issuer", order_by="IssuerKey.id")


class IssuerKey(Base):
    """A signing key of an issuer. Retired keys stay listed so old credentials verify."""
    __tablename__ = "issuer_key"
    __table_args__ = (UniqueConstraint("issuer_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="RESTRICT"))
    key_id: Mapped[str] = mapped_column(String(128))  # fragment of the verification method
    algorithm: Mapped[str] = mapped_column(String(16))  # Ed25519, RS256
    public_multibase: Mapped[str | None] = mapped_column(String(255), nullable=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    private_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)

    issuer: Mapped[Issuer] = relationship(back_populates="keys")


class IssuerPlatform(Base):
    """Which platforms may use an issuer (an admin's allow-list)."""
    __tablename__ = "issuer_platform"
    __table_args__ = (UniqueConstraint("issuer_id", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))


class IssuerCourse(Base):
    """Which courses may use an issuer, on top of :class:`IssuerPlatform` (an admin's allow-list).

    Per platform: an issuer with no row for any course of a platform is offered to every
    course of that (allowed) platform; once it has rows there, only to those courses.
    """
    __tablename__ = "issuer_course"
    __table_args__ = (UniqueConstraint("issuer_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)


# --------------------------------------------------------------------------- courses and definitions
class Course(Base):
    """A course (LTI context) on a platform issuer."""
    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("platform_issuer", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_issuer: Mapped[str] = mapped_column(String(512))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CredentialDefinition(Base):
    """A course's credential. Its content lives in immutable versions."""
    __tablename__ = "credential_definition"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"), index=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuer.id", ondelete="RESTRICT"), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    # The pass policy: source, rule, threshold, automatic or on claim (plugin.domain.policy).
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Label profiles the credential claims (plugin.domain.labels ids, e.g. ["gradeo"]).
    labels: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    issuer: Mapped[Issuer | None] = relationship()
    versions: Mapped[list["DefinitionVersion"]] = relationship(back_populates="definition",
                                                              order_by="DefinitionVersion.version")


class DefinitionVersion(Base):
    """One immutable version of a definition: every Annex I element, as validated data."""
    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    definition: Mapped[CredentialDefinition] = relationship(back_populates="versions")


# --------------------------------------------------------------------------- learners and evidence
class Learner(Base):
    """A learner is the pair (platform issuer, sub); the rest is refreshed on each launch."""
    __tablename__ = "learner"
    __table_args__ = (UniqueConstraint("platform_issuer", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    platform_issuer: Mapped[str] = mapped_column(String(512))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    given_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    family_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(32), nullable=True)
    external_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PassEvidence(Base):
    """What a source said about a learner: recorded once per (source, dedup_key)."""
    __tablename__ = "pass_evidence"
    __table_args__ = (UniqueConstraint("source", "dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="RESTRICT"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="RESTRICT"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(255))
    passed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    pass_mark: Mapped[float | None] = mapped_column(Float, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- issued credentials and status
CURRENT_STATUSES = ("active", "suspended")


class IssuedCredential(Base):
    __tablename__ = "issued_credential"
    __table_args__ = (
        # At most one current credential per learner and definition: the database,
        # not the application, makes double issuance impossible.
        Index("uq_issued_credential_current", "definition_id", "learner_id", unique=True,
              sqlite_where=text("status IN ('active', 'suspended')"),
              postgresql_where=text("status IN ('active', 'suspended')")),
        Index("ix_issued_credential_definition_issued", "definition_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    credential_id: Mapped[str] = mapped_column(String(512), unique=True)  # the VC's "id"
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="RESTRICT"))
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id", ondelete="RESTRICT"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="RESTRICT"), index=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="RESTRICT"))
    issuer_key_id: Mapped[int] = mapped_column(ForeignKey("issuer_key.id", ondelete="RESTRICT"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("pass_evidence.id", ondelete="RESTRICT"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, suspended, revoked, superseded
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credential.id", ondelete="SET NULL"), nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column()  # Data Integrity signed credential
    jwt: Mapped[str] = mapped_column(Text, default="")  # VC-JWT form
    # The learner's choice: does the public verification page show their name? (The signed
    # credential always holds what it was issued with; this only changes what the page shows.)
    public_name: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How often its public verification page was opened (a person following the shared link),
    # and how often it was verified by a program (the JSON report, the VC URL): the course dashboard.
    page_views: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    verifications: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    definition: Mapped[CredentialDefinition] = relationship()
    version: Mapped[DefinitionVersion] = relationship()
    learner: Mapped[Learner] = relationship()
    issuer: Mapped[Issuer] = relationship()


class StatusList(Base):
    """A Bitstring Status List of one issuer: purpose ``revocation`` (1 bit per credential,
    issued since migration 0002) or ``message`` (legacy, 2 bits); see :mod:`plugin.status`.

    ``shuffle_key`` keys the permutation that turns a position (the n-th credential put on
    the list) into its index; ``next_position`` counts positions on SQLite (PostgreSQL uses
    the sequence ``status_list_pos_<id>``). A list without a key takes no new credential."""
    __tablename__ = "status_list"
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="RESTRICT"))
    purpose: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    size: Mapped[int] = mapped_column(Integer, default=131072)
    shuffle_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    next_position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StatusListSlot(Base):
    """One index of a status list, held by one credential; ``is_set`` is the bit."""
    __tablename__ = "status_list_slot"
    __table_args__ = (UniqueConstraint("status_list_id", "index"),
                      UniqueConstraint("credential_id", "status_list_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_list.id", ondelete="RESTRICT"))
    index: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credential.id", ondelete="RESTRICT"))
    is_set: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- operations
class AuditLog(Base):
    """Who did what, when: configuration changes, issuance, status changes, key events."""
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(512))  # e.g. "lti:<iss>|<sub>", "admin:alice", "system", "cli"
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64), default="")
    target_id: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OneTimeToken(Base):
    """Values that may be accepted once: LTI nonces, webhook jti, OIDC states."""
    __tablename__ = "one_time_token"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class KeyValue(Base):
    """Short-lived server-side state (launch data, OIDC state, access-token cache)."""
    __tablename__ = "key_value"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Job(Base):
    """Background work for the embedded worker (the Redis worker uses RQ instead)."""
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # While running, the job belongs to one worker (``lease_owner``, new at every claim) until
    # ``lease_expires_at``; the worker's heartbeat pushes that forward. A job whose lease
    # expired (its worker died) is taken over by another worker (plugin.jobs.lease).
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class BulkUpload(Base):
    """An instructor's CSV of learners who passed, kept until its ``bulk_issue`` job is done
    (the job reads it in batches: no list of rows in the job's payload)."""
    __tablename__ = "bulk_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseSync(Base):
    """The scheduled catch-up of one course from its platform: when it runs next, whether a run
    holds the course now, and how the last run went (shown to admins and instructors)."""
    __tablename__ = "course_sync"

    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(index=True)
    # The sync_course job that holds the course while its lease lives: one run per course at a time.
    running_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed runs (back-off)
    last_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_trigger: Mapped[str | None] = mapped_column(String(16), nullable=True)  # scheduled, instructor, command
    last_started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ok, partial, failed
    last_result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


OPEN_ISSUANCE_STATES = ("pending", "failed")


class PendingIssuance(Base):
    """A credential the tool owes a learner but could not issue (signing, keys, database...).

    The pass evidence is kept regardless; this row says that issuing it failed, why (in
    plain words, ``reason``: a translatable message as ``{"msgid", "params"}``), and which
    ``issue_from_evidence`` job retries it. ``state``: ``pending`` (automatic retries
    scheduled), ``failed`` (retries exhausted: staff must fix the cause and retry), or
    ``resolved`` (issued, or no longer due). At most one open (pending or failed) row per
    learner and definition: the database enforces it, like one current credential.
    """
    __tablename__ = "pending_issuance"
    __table_args__ = (
        Index("uq_pending_issuance_open", "definition_id", "learner_id", unique=True,
              sqlite_where=text("state IN ('pending', 'failed')"),
              postgresql_where=text("state IN ('pending', 'failed')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"), index=True)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("pass_evidence.id", ondelete="SET NULL"), nullable=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending, failed, resolved
    origin: Mapped[str] = mapped_column(String(64), default="")  # the evidence source, "claim", "backlog", ...
    reason_code: Mapped[str] = mapped_column(String(64), default="unexpected")
    reason: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"msgid": ..., "params": {...}}
    detail: Mapped[str] = mapped_column(Text, default="")  # the technical message, for the tool's operators
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # The learner claimed (on-claim credentials): their consent and the name to show.
    claim: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    first_failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)  # issued, not_due
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credential.id", ondelete="SET NULL"),
                                                      nullable=True)

    definition: Mapped[CredentialDefinition] = relationship()
    learner: Mapped[Learner] = relationship()
    job: Mapped["Job | None"] = relationship()


class AdminUser(Base):
    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)


class KekCheck(Base):
    """A canary sealed with the key-encryption key, checked at start-up."""
    __tablename__ = "kek_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- European Digital Credentials
class IssuerBranding(Base):
    """How an awarding body's credentials look (:class:`plugin.domain.branding.Branding`): the
    badge design and the certificate's signatory in ``settings``, the signature picture (PNG,
    re-encoded on upload) beside it. An issuer with no row uses the default design."""
    __tablename__ = "issuer_branding"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="CASCADE"), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IssuerSeal(Base):
    """How an awarding body seals the European Digital Credentials (EDC) of its credentials.

    ``mode``: ``unsealed`` (export only, labelled so), ``own`` (the tool makes a JAdES seal
    with the certificate and key uploaded here; the key sealed with the KEK), or
    ``edc_issuer`` (the institution's EDC Issuer seals; its address and password here, sealed).
    An issuer with no row is unsealed.
    """
    __tablename__ = "issuer_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default="unsealed")
    certificate_chain: Mapped[str | None] = mapped_column(Text, nullable=True)  # PEM, the seal certificate first
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    private_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # PKCS#8 DER, sealed
    edc_issuer_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    edc_issuer_password_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    edc_issuer_token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[Issuer] = relationship()


class EdcSeal(Base):
    """The sealed EDC of one issued credential, and where its sealing and Europass delivery stand.

    ``status``: ``pending`` (queued for the EDC Issuer or the own seal), ``sealed`` (``sealed``
    holds the JAdES document exactly as served), ``failed`` (retries exhausted or refused:
    ``last_error`` says why; an admin may retry). ``europass_status``: ``none``, ``queued``,
    ``sent`` or ``failed``, after the learner's consent (``europass_consent_at``).
    """
    __tablename__ = "edc_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credential.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    sealed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    europass_status: Mapped[str] = mapped_column(String(16), default="none")
    europass_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    europass_consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    europass_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    europass_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    credential: Mapped[IssuedCredential] = relationship()


class EdcTrustAnchor(Base):
    """A certificate authority an admin trusts for EDC seals (the end of a seal's chain)."""
    __tablename__ = "edc_trust_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    certificate_pem: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- OpenID4VCI (EU wallets)
class WalletOffer(Base):
    """An OpenID4VCI Credential Offer of one learner credential in one format (pre-authorized
    code flow, :mod:`plugin.delivery.oid4vci`). Only SHA-256 hashes of the pre-authorized
    code, the transaction code and the access token are kept. The code is single use
    (``redeemed_at`` set by a conditional UPDATE) and expires (``expires_at``, at most 10
    minutes); ``received_at`` says a wallet got the credential."""
    __tablename__ = "wallet_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credential.id", ondelete="CASCADE"), index=True)
    configuration_id: Mapped[str] = mapped_column(String(128))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tx_code_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(nullable=True)

    credential: Mapped[IssuedCredential] = relationship()


class WalletCredential(Base):
    """A holder-bound copy of a learner credential handed to a wallet: the same claims and
    the **same status entry** as ``credential`` (revoking one revokes every form), with
    the wallet's key as subject (``did:jwk``/``did:key``) or ``cnf``. The copy itself is not
    kept, only its identifier and SHA-256 digest (it repeats the learner's credential)."""
    __tablename__ = "wallet_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credential.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("wallet_offer.id", ondelete="CASCADE"), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(Text)
    issued_id: Mapped[str] = mapped_column(String(512))
    digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- pathways and the learner record
class Pathway(Base):
    """A larger credential earned by stacking smaller ones (:mod:`plugin.domain.pathways`).

    ``target_definition_id``: the pathway's own credential (a full Annex I definition, issued
    by the engine like any other; its course row is the pathway's, with no platform). The
    requirements live in immutable :class:`PathwayVersion` rows; :class:`PathwayPart` indexes
    the current version's parts so an issuance finds the pathways it may complete."""
    __tablename__ = "pathway"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuer.id", ondelete="RESTRICT"), index=True)
    target_definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="RESTRICT"),
                                                      unique=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[Issuer] = relationship()
    target: Mapped[CredentialDefinition] = relationship()


class PathwayVersion(Base):
    """One immutable version of a pathway's rules (:class:`plugin.domain.pathways.PathwayRules`)."""
    __tablename__ = "pathway_version"
    __table_args__ = (UniqueConstraint("pathway_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PathwayPart(Base):
    """A credential definition named by a pathway's current version."""
    __tablename__ = "pathway_part"
    __table_args__ = (UniqueConstraint("pathway_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id", ondelete="CASCADE"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("credential_definition.id", ondelete="CASCADE"), index=True)


class PathwayAward(Base):
    """A pathway credential and the parts it was awarded for (their ids and SHA-256 digests).

    ``review``: ``none``; ``needed`` once a part was revoked (an admin decides); ``kept`` or
    ``revoked`` after the decision. The credential is unique here, and the engine's partial
    unique index keeps one current pathway credential per learner."""
    __tablename__ = "pathway_award"

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="RESTRICT"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credential.id", ondelete="RESTRICT"), unique=True)
    parts: Mapped[list[Any]] = mapped_column(default=list)
    review: Mapped[str] = mapped_column(String(16), default="none", index=True)  # none, needed, kept, revoked
    review_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the part was revoked
    review_part: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the revoked part's public id
    reviewed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pathway: Mapped[Pathway] = relationship()
    credential: Mapped[IssuedCredential] = relationship()


class LearnerLink(Base):
    """Identities one person linked (their own action): ``learner_id`` is the same person as
    ``primary_id``. A learner with no row is its own primary; pathways see the credentials of
    every identity of the person and award to the primary."""
    __tablename__ = "learner_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"), unique=True)
    primary_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # launch, email
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
