"""Batched issuance: many learners, one credential definition, a few statements per batch (no Flask).

:func:`plugin.issuance.service.award` issues one credential in ~25 statements and is kept
for the paths where latency matters (a webhook, a launch). Bulk work (an instructor's CSV of
100,000 learners) goes through :class:`BatchIssuer` instead:

1. **Loaded once per job**: the definition, its current version, the issuer, its active
   keys (unsealed once), its profile and DID.
2. **Per batch, one short transaction** (:meth:`BatchIssuer.prepare`): learners found or
   created with one ``SELECT`` and one multi-row ``INSERT … ON CONFLICT DO NOTHING``; who
   already holds the credential; the pass evidence (multi-row too); status indexes
   reserved with :func:`plugin.status.service.allocate_many` (a counter and a keyed
   permutation: no counting, no collision).
3. **Signing outside any transaction**, in a pool of processes when the batch is big
   enough (:mod:`plugin.issuance.batch_signing`): composition, Data Integrity proof, VC-JWT.
4. **Per batch, one writing transaction** (:meth:`BatchIssuer.write`): the credentials in
   one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING``, their status slots, audit
   rows, notification jobs, and whatever the caller adds (the bulk job stores the batch's
   outcome there, which makes it resumable).

**Exactly once** per (learner, definition): the partial unique index on current
credentials decides, as for ``award``. A learner who received the credential from another
path between ``prepare`` and ``write`` (a webhook, another worker) makes the insert skip
that row: the signed document is dropped and its reserved status index stays 0 for good.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from plugin.issuance import keys as issuer_keys
from plugin.signing import keys as keylib
from plugin.signing.jwt import parse_datetime
from plugin.status import service as status
from plugin.storage.arrays import in_values as _in
from plugin.storage.arrays import insert_unnest
from plugin.storage.models import (CURRENT_STATUSES, OPEN_ISSUANCE_STATES, AuditLog, Course, CredentialDefinition,
                                   IssuedCredential, Issuer, IssuerSeal, Learner, PassEvidence, PendingIssuance)

log = logging.getLogger("microcred.issuance")

BULK_SOURCE = "bulk_upload"


def insert_ignoring_conflicts(session: Session, model):
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model).on_conflict_do_nothing()


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _copy(session: Session, table: str, columns: list[str], rows: list[tuple]) -> None:
    """``COPY table (columns) FROM STDIN`` on PostgreSQL, in the session's transaction: no SQL text
    to build and parse for hundreds of rows (JSON values given as text)."""
    cursor = session.connection().connection.driver_connection.cursor()
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


CREDENTIAL_COLUMNS = ["public_id", "credential_id", "definition_id", "definition_version_id", "learner_id",
                      "issuer_id", "issuer_key_id", "evidence_id", "status", "issued_at", "valid_until",
                      "public_name", "display_name", "document", "jwt"]


def _json_text(document: dict[str, Any] | str) -> str:
    """The document as JSON text (the signing processes send it already serialised)."""
    if isinstance(document, str):
        return document
    import json
    return json.dumps(document)


def _insert_credentials(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the credential rows, skipping those the partial unique index refuses (a learner
    who got the credential meanwhile); ``public_id -> row id`` of those inserted.

    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT DO
    NOTHING RETURNING`` (``COPY`` itself cannot skip conflicts). SQLite: a multi-row insert."""
    if not _postgres(session):
        import json
        rows = [dict(r, document=json.loads(r["document"])) if isinstance(r["document"], str) else r for r in rows]
        stmt = insert_ignoring_conflicts(session, IssuedCredential).returning(IssuedCredential.id,
                                                                              IssuedCredential.public_id)
        return {pid: cid for cid, pid in session.execute(stmt, rows).all()}
    # The documents and VC-JWTs (~17 KB a row) are compressed by TOAST: lz4 costs the server a
    # fraction of the default pglz's CPU (measured: the backend's CPU per batch almost halved).
    # Only in this transaction, and only where the server was built with lz4 (PostgreSQL >= 14).
    session.execute(text("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                         "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"))
    cols = ", ".join(CREDENTIAL_COLUMNS)
    session.execute(text(f"CREATE TEMPORARY TABLE bulk_credential_in ON COMMIT DROP AS "
                         f"SELECT {cols} FROM issued_credential WITH NO DATA"))
    _copy(session, "bulk_credential_in", CREDENTIAL_COLUMNS,
          [tuple(_json_text(r[c]) if c == "document" else r[c] for c in CREDENTIAL_COLUMNS) for r in rows])
    got = session.execute(text(f"INSERT INTO issued_credential ({cols}) SELECT {cols} FROM bulk_credential_in "
                               "ON CONFLICT DO NOTHING RETURNING id, public_id")).all()
    session.execute(text("DROP TABLE bulk_credential_in"))
    return {pid: cid for cid, pid in got}


# What the pipeline reads of learners and evidence (rows, not ORM objects: nothing is changed through them).
_LEARNER_COLUMNS = (Learner.id, Learner.public_id, Learner.email, Learner.sub)
_EVIDENCE_COLUMNS = (PassEvidence.id, PassEvidence.dedup_key, PassEvidence.source, PassEvidence.details,
                     PassEvidence.observed_at, PassEvidence.passed)


@dataclass
class Item:
    """One learner's credential on its way through a batch."""
    tag: Any  # the caller's reference (e.g. the row's position in the file)
    learner_id: int
    learner_public_id: str
    email: str | None
    sub: str
    evidence_id: int | None
    evidence: dict[str, Any] | None
    public_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reservation: status.Reservation | None = None
    document: dict[str, Any] | str | None = None  # the signed credential, or its JSON text
    jwt: str = ""
    valid_until: str | None = None
    display_name: str | None = None  # the name in the credential (the platform's, as award_or_defer puts it)
    parts: list[dict[str, Any]] | None = None  # a pathway credential's parts (plugin.issuance.pathways)
    lti_issuer: str | None = None  # the learner's platform (default: the definition's course's)
    row_id: int | None = None  # once written


@dataclass
class Prepared:
    """What :meth:`BatchIssuer.prepare` found: the items to sign, and the rows that need none."""
    items: list[Item]
    skipped: dict[Any, tuple[str, str]]  # tag -> (code, detail)
    issued_at: datetime


def evidence_record(ev) -> dict[str, Any]:
    """The evidence of a credential as the signing processes take it (``ev``: a
    :class:`PassEvidence` or a row of some of its columns; a bulk upload's has no score)."""
    return {"source": str((ev.details or {}).get("source_label") or ev.source),
            "observed_at": ev.observed_at.isoformat(), "passed": ev.passed, "score": getattr(ev, "score", None),
            "score_max": (ev.details or {}).get("score_max"),
            "narrative": str((ev.details or {}).get("narrative") or "")}


class BatchIssuer:
    """Issue one definition's credential to many learners, a batch at a time."""

    labels: dict[str, Any] | None = None
    has_pathways = False
    notify = True  # queue the learner's e-mail, as award_credential does (a pathway's award does not)

    def __init__(self, services, definition_id: int, *, actor: str, evidence_details: dict[str, Any]):
        from plugin.issuance.service import IssuanceError, current_version
        self.services, self.actor, self.evidence_details = services, actor, evidence_details
        with services.session() as s:
            definition = s.get(CredentialDefinition, definition_id)
            if definition is None:
                raise IssuanceError(f"no credential definition {definition_id}")
            self.enabled = bool(definition.enabled)
            self.definition_id, self.definition_public_id = definition.id, definition.public_id
            self.platform_issuer = s.get(Course, definition.course_id).platform_issuer
            version = current_version(s, definition)
            issuer = s.get(Issuer, definition.issuer_id) if definition.issuer_id else None
            if not self.enabled:
                return
            if version is None or issuer is None:
                raise IssuanceError("this credential has no definition or no issuer")
            self.version_id, self.version_number, self.version_data = version.id, version.version, version.data
            self.issuer_id, self.issuer_slug, self.issuer_profile = issuer.id, issuer.slug, issuer.profile
            self.issuer_did = issuer_keys.issuer_identifier(services, issuer)
            ed_row = issuer_keys.active_key(s, issuer, keylib.ED25519)
            rsa_row = issuer_keys.active_key(s, issuer, keylib.RS256)
            self.ed_key_row_id = ed_row.id
            self.keys = {alg: issuer_keys.load_signing_key(services, issuer, row)
                         for alg, row in ((keylib.ED25519, ed_row), (keylib.RS256, rsa_row))}
            seal = s.scalars(select(IssuerSeal).where(IssuerSeal.issuer_id == issuer.id)).first()
            self.seal_mode = seal.mode if seal is not None and seal.mode in ("own", "edc_issuer") else None
            # The labels the definition meets (alignments, endorsements signed by a label's body):
            # the same for every credential of the job, so made once, as award() makes them per credential.
            from plugin.domain.definition import DefinitionData
            from plugin.issuance.service import met_labels
            self.labels = met_labels(s, services, definition, DefinitionData.from_json(version.data), self.issuer_did,
                                     datetime.now(timezone.utc))
            from plugin.issuance.pathways import pathways_including
            self.has_pathways = bool(pathways_including(s, definition.id))

    # ------------------------------------------------------------------ learners
    def find_learners(self, session: Session, rows: list[dict[str, Any]]) -> tuple[dict[Any, Learner], dict[Any, str]]:
        """Each row's learner (``tag -> Learner``), created when the row gives a ``sub``; the
        rows that name nobody get a code (``no_identity``, ``unknown_email``, ``ambiguous_email``)."""
        found: dict[Any, Learner] = {}
        problems: dict[Any, str] = {}
        subs = {r["sub"] for r in rows if r["sub"]}
        by_sub = self._learners_by_sub(session, subs)
        missing = subs - set(by_sub)
        if missing:
            first = {}
            for r in rows:
                if r["sub"] in missing and r["sub"] not in first:
                    first[r["sub"]] = r
            new = sorted(missing)
            if _postgres(session):
                now = datetime.now(timezone.utc)
                insert_unnest(session, "learner", {
                    "public_id": ("text", [str(uuid.uuid4()) for _ in new]), "sub": ("text", new),
                    "email": ("text", [first[sub]["email"] or None for sub in new]),
                    "name": ("text", [first[sub]["name"] or None for sub in new])},
                    {"platform_issuer": ("text", self.platform_issuer), "external_ids": ("json", "{}"),
                     "created_at": ("timestamptz", now), "updated_at": ("timestamptz", now)},
                    suffix="ON CONFLICT DO NOTHING")
            else:
                session.execute(insert_ignoring_conflicts(session, Learner), [
                    {"platform_issuer": self.platform_issuer, "sub": sub, "email": first[sub]["email"] or None,
                     "name": first[sub]["name"] or None} for sub in new])
            by_sub.update(self._learners_by_sub(session, missing))
        emails = {r["email"].lower() for r in rows if not r["sub"] and r["email"] and "@" in r["email"]}
        by_email: dict[str, list[Learner]] = {}
        if emails:
            for learner in session.execute(select(*_LEARNER_COLUMNS).where(
                    Learner.platform_issuer == self.platform_issuer, func.lower(Learner.email).in_(emails))):
                by_email.setdefault(learner.email.lower(), []).append(learner)
        for r in rows:
            if r["sub"]:
                found[r["tag"]] = by_sub[r["sub"]]
            elif not r["email"] or "@" not in r["email"]:
                problems[r["tag"]] = "no_identity"
            else:
                matches = by_email.get(r["email"].lower(), [])
                if not matches:
                    problems[r["tag"]] = "unknown_email"
                elif len(matches) > 1:
                    problems[r["tag"]] = "ambiguous_email"
                else:
                    found[r["tag"]] = matches[0]
        return found, problems

    def _learners_by_sub(self, session: Session, subs: set[str]) -> dict[str, Learner]:
        if not subs:
            return {}
        return {lr.sub: lr for lr in session.execute(select(*_LEARNER_COLUMNS).where(
            Learner.platform_issuer == self.platform_issuer, _in(session, Learner.sub, subs)))}

    # ------------------------------------------------------------------ evidence
    def _evidence(self, session: Session, learner_ids: list[int]) -> dict[int, PassEvidence]:
        keys = {f"bulk:{self.definition_id}:{lid}": lid for lid in learner_ids}

        def load(wanted):
            return {keys[ev.dedup_key]: ev for ev in session.execute(select(*_EVIDENCE_COLUMNS).where(
                PassEvidence.source == BULK_SOURCE, _in(session, PassEvidence.dedup_key, wanted)))}
        have = load(list(keys))
        missing = [k for k, lid in keys.items() if lid not in have]
        if missing:
            now = datetime.now(timezone.utc)
            if _postgres(session):
                import json
                insert_unnest(session, "pass_evidence", {
                    "learner_id": ("bigint", [keys[k] for k in missing]), "dedup_key": ("text", missing)},
                    {"definition_id": ("bigint", self.definition_id), "source": ("text", BULK_SOURCE),
                     "passed": ("boolean", True), "details": ("json", json.dumps(self.evidence_details)),
                     "observed_at": ("timestamptz", now), "recorded_at": ("timestamptz", now)},
                    suffix="ON CONFLICT DO NOTHING")
                have.update(load(missing))
                return have
            session.execute(insert_ignoring_conflicts(session, PassEvidence), [
                {"definition_id": self.definition_id, "learner_id": keys[k], "source": BULK_SOURCE, "dedup_key": k,
                 "passed": True, "details": self.evidence_details, "observed_at": now, "recorded_at": now}
                for k in missing])
            have.update(load(missing))
        return have

    # ------------------------------------------------------------------ the two transactions
    def prepare(self, session: Session, rows: list[dict[str, Any]]) -> Prepared:
        """Learners, who already holds the credential, evidence and status indexes for ``rows``
        (dicts with ``tag``, ``sub``, ``email``, ``name``), in the caller's transaction."""
        issued_at = datetime.now(timezone.utc).replace(microsecond=0)
        learners, problems = self.find_learners(session, rows)
        skipped: dict[Any, tuple[str, str]] = {tag: (code, "") for tag, code in problems.items()}
        ids = list({lr.id for lr in learners.values()})
        holders = self._holders(session, ids)
        todo: dict[int, Any] = {}
        for r in rows:
            learner = learners.get(r["tag"])
            if learner is None:
                continue
            if learner.id in holders:
                st, at = holders[learner.id]
                skipped[r["tag"]] = ("already_" + st, at.date().isoformat())
            elif learner.id in todo:  # the same learner twice in the file: the first row issues
                skipped[r["tag"]] = ("already_active", issued_at.date().isoformat())
            else:
                todo[learner.id] = r["tag"]
        evidence = self._evidence(session, list(todo))
        reservations = status.allocate_many(session, self.issuer_id, len(todo))
        by_id = {lr.id: lr for lr in learners.values()}
        items = []
        for (lid, tag), reservation in zip(todo.items(), reservations):
            lr, ev = by_id[lid], evidence[lid]
            items.append(Item(tag=tag, learner_id=lid, learner_public_id=lr.public_id, email=lr.email, sub=lr.sub,
                              evidence_id=ev.id, reservation=reservation, evidence=evidence_record(ev)))
        return Prepared(items=items, skipped=skipped, issued_at=issued_at)

    def _holders(self, session: Session, learner_ids: list[int]) -> dict[int, tuple[str, datetime]]:
        if not learner_ids:
            return {}
        return {lid: (st, at) for lid, st, at in session.execute(
            select(IssuedCredential.learner_id, IssuedCredential.status, IssuedCredential.issued_at).where(
                IssuedCredential.definition_id == self.definition_id,
                _in(session, IssuedCredential.learner_id, learner_ids),
                IssuedCredential.status.in_(CURRENT_STATUSES)))}

    def prepare_known(self, session: Session, entries: list[dict[str, Any]]) -> Prepared:
        """Like :meth:`prepare`, for learners (and their evidence) already in the database: the
        catch-up sync, a pathway's backlog. ``entries``: dicts with ``tag`` and ``learner_id``,
        optionally ``evidence_id``, ``display_name``, ``parts``. A learner who holds the
        credential is skipped (``already_<status>``), as one named twice."""
        issued_at = datetime.now(timezone.utc).replace(microsecond=0)
        ids = list({e["learner_id"] for e in entries})
        holders = self._holders(session, ids)
        learners = {lr.id: lr for lr in session.scalars(select(Learner).where(Learner.id.in_(ids)))} if ids else {}
        evidence_ids = [e["evidence_id"] for e in entries if e.get("evidence_id")]
        evidence = ({ev.id: ev for ev in session.scalars(select(PassEvidence).where(PassEvidence.id.in_(evidence_ids)))}
                    if evidence_ids else {})
        skipped: dict[Any, tuple[str, str]] = {}
        todo: list[dict[str, Any]] = []
        seen: set[int] = set()
        for e in entries:
            lid = e["learner_id"]
            if lid in holders:
                st, at = holders[lid]
                skipped[e["tag"]] = ("already_" + st, at.date().isoformat())
            elif lid in seen:
                skipped[e["tag"]] = ("already_active", issued_at.date().isoformat())
            elif lid not in learners:
                skipped[e["tag"]] = ("unknown_learner", "")
            else:
                seen.add(lid)
                todo.append(e)
        reservations = status.allocate_many(session, self.issuer_id, len(todo))
        items = []
        for e, reservation in zip(todo, reservations):
            lr, ev = learners[e["learner_id"]], evidence.get(e.get("evidence_id"))
            items.append(Item(tag=e["tag"], learner_id=lr.id, learner_public_id=lr.public_id, email=lr.email,
                              sub=lr.sub, evidence_id=ev.id if ev else None, reservation=reservation,
                              evidence=evidence_record(ev) if ev else None, display_name=e.get("display_name"),
                              parts=e.get("parts"), lti_issuer=lr.platform_issuer))
        return Prepared(items=items, skipped=skipped, issued_at=issued_at)

    def signing_record(self, prepared: Prepared, item: Item) -> dict[str, Any]:
        """What a signing process needs for one item (:mod:`plugin.issuance.batch_signing`)."""
        base = self.services.settings.base_url
        return {"learner": item.learner_public_id, "email": item.email,
                "lti_issuer": item.lti_issuer or self.platform_issuer, "sub": item.sub,
                "credential_id": f"{base.rstrip('/')}/credentials/{item.public_id}",
                "issued_at": prepared.issued_at.isoformat(), "status_entry": status.entry(base, item.reservation),
                "evidence": item.evidence, "name": item.display_name, "parts": item.parts}

    def signer_spec(self):
        from plugin.issuance.batch_signing import SignerSpec
        ed, rsa = self.keys[keylib.ED25519], self.keys[keylib.RS256]
        return SignerSpec(settings=self.services.settings, base_url=self.services.settings.base_url,
                          issuer_profile=self.issuer_profile, issuer_did=self.issuer_did,
                          definition=self.version_data, ed_key=(ed.private_bytes(), ed.key_id),
                          rsa_key=(rsa.private_bytes(), rsa.key_id), labels=self.labels)

    def write(self, session: Session, prepared: Prepared) -> tuple[list[Item], list[Item]]:
        """Store the signed items in the caller's transaction: ``(issued, lost)``, ``lost``
        being the learners another path gave the credential to since :meth:`prepare`."""
        items = [i for i in prepared.items if i.document is not None]
        if not items:
            return [], []
        base = self.services.settings.base_url.rstrip("/")
        rows = [{"public_id": i.public_id, "credential_id": f"{base}/credentials/{i.public_id}",
                 "definition_id": self.definition_id, "definition_version_id": self.version_id,
                 "learner_id": i.learner_id, "issuer_id": self.issuer_id, "issuer_key_id": self.ed_key_row_id,
                 "evidence_id": i.evidence_id, "status": "active", "issued_at": prepared.issued_at,
                 "valid_until": parse_datetime(i.valid_until) if i.valid_until else None,
                 "public_name": True, "display_name": i.display_name, "document": i.document, "jwt": i.jwt}
                for i in items]
        got = _insert_credentials(session, rows)
        issued = [i for i in items if i.public_id in got]
        for i in issued:
            i.row_id = got[i.public_id]
        lost = [i for i in items if i.public_id not in got]
        now = datetime.now(timezone.utc)
        audits = [{"actor": self.actor, "action": "credential.issue", "target_type": "credential",
                   "target_id": i.public_id, "at": now,
                   "details": {"definition": self.definition_public_id, "learner": i.learner_public_id,
                               "version": self.version_number, "evidence": i.evidence_id, "replaces": None}}
                  for i in issued]
        if _postgres(session) and issued:
            import json
            _copy(session, "status_list_slot", ["status_list_id", "index", "credential_id", "is_set", "updated_at"],
                  [(i.reservation.status_list_id, i.reservation.index, got[i.public_id], False, now) for i in issued])
            _copy(session, "audit_log", ["actor", "action", "target_type", "target_id", "at", "details"],
                  [(a["actor"], a["action"], a["target_type"], a["target_id"], a["at"], json.dumps(a["details"]))
                   for a in audits])
        elif issued:
            status.bind_many(session, [(got[i.public_id], i.reservation) for i in issued])
            session.execute(insert(AuditLog), audits)
        self._after_issue(session, issued, got)
        return issued, lost

    def _after_issue(self, session: Session, issued: list[Item], ids: dict[str, int]) -> None:
        """What ``award`` does after storing a credential: settle a pending issuance, queue the
        learner's e-mail and the European Digital Credential's seal."""
        if not issued:
            return
        from plugin.jobs.queue import enqueue_many
        learner_ids = [i.learner_id for i in issued]
        open_rows = set(session.scalars(select(PendingIssuance.learner_id).where(
            PendingIssuance.definition_id == self.definition_id, _in(session, PendingIssuance.learner_id, learner_ids),
            PendingIssuance.state.in_(OPEN_ISSUANCE_STATES))))
        if open_rows:
            from plugin.issuance.pending import resolve_open
            for i in issued:
                if i.learner_id in open_rows:
                    resolve_open(session, self.definition_id, i.learner_id, resolution="issued",
                                 credential_id=ids[i.public_id])
        if self.notify:
            enqueue_many(self.services, "notify_credential_ready",
                         [{"credential_id": ids[i.public_id]} for i in issued if i.email], session=session)
        if self.has_pathways:  # award the pathways these credentials complete, as award() does
            from plugin.issuance import pathways
            for i in issued:
                pathways.after_issue(session, self.services, session.get(IssuedCredential, ids[i.public_id]))
        if self.seal_mode is not None:
            from plugin.issuance.edc_sealing import queue_seal
            for i in issued:
                queue_seal(session, self.services, session.get(IssuedCredential, ids[i.public_id]), self.seal_mode)


# --------------------------------------------------------------------------- many known learners
BATCH_SIZE = 200


@dataclass
class KnownOutcome:
    """What :func:`issue_known` did for one entry."""
    result: str  # issued | already_issued | not_enabled | unknown_learner | single (the caller's own path)
    credential_id: int | None = None
    detail: str = ""


def issue_known(services, definition_id: int, entries: list[dict[str, Any]], *, actor: str,
                batch_size: int | None = None, on_write=None, progress=None,
                notify: bool = True) -> dict[Any, KnownOutcome]:
    """Issue one definition's credential to learners already in the database (the catch-up
    sync's passes, a pathway's backlog) through the batched pipeline: per batch one short
    transaction to reserve, signing outside any transaction, one short transaction to write.
    ``entries`` as for :meth:`BatchIssuer.prepare_known`.

    Exactly once as everywhere (the partial unique index decides at the write). A batch whose
    signing fails is answered ``single`` for each of its learners: the caller issues those
    one by one through its own path, which records why each failed. Every batch commits on
    its own, so an interrupted run leaves whole batches done and a new run picks up the rest
    (those already issued are then ``already_issued``). ``on_write(session, issued_items)``
    runs in each writing transaction; ``progress(done, total)`` after each batch; ``notify``:
    queue the learners' e-mails.
    """
    from plugin.issuance.batch_signing import BatchSigner
    from plugin.signing.contexts import get_store
    outcomes: dict[Any, KnownOutcome] = {}
    if not entries:
        return outcomes
    issuer = BatchIssuer(services, definition_id, actor=actor, evidence_details={})
    issuer.notify = notify
    if not issuer.enabled:
        return {e["tag"]: KnownOutcome("not_enabled") for e in entries}
    done, batch_size = 0, batch_size or BATCH_SIZE
    with BatchSigner(issuer.signer_spec(), store=get_store(services)) as signer:
        for start in range(0, len(entries), batch_size):
            batch = entries[start:start + batch_size]
            with services.session() as s:
                prepared = issuer.prepare_known(s, batch)
            for tag, (code, detail) in prepared.skipped.items():
                outcomes[tag] = KnownOutcome("already_issued" if code.startswith("already_") else code,
                                             detail=detail)
            try:
                signed = signer.submit([issuer.signing_record(prepared, item) for item in prepared.items])()
            except Exception:  # noqa: BLE001 - the caller's single path records why each one failed
                log.warning("signing a batch of %s credentials failed; issuing them one by one", len(prepared.items),
                            exc_info=True)
                for item in prepared.items:
                    outcomes[item.tag] = KnownOutcome("single")
                signed = None
            if signed is not None:
                for item, (document, jwt, valid_until) in zip(prepared.items, signed):
                    item.document, item.jwt, item.valid_until = document, jwt, valid_until
                with services.session() as s:
                    issued, lost = issuer.write(s, prepared)
                    if on_write is not None and issued:
                        on_write(s, issued)
                for item in issued:
                    outcomes[item.tag] = KnownOutcome("issued", item.row_id, item.public_id)
                for item in lost:  # another path issued it since this batch was prepared
                    outcomes[item.tag] = KnownOutcome("already_issued")
            done += len(batch)
            if progress is not None:
                progress(done, len(entries))
    return outcomes
