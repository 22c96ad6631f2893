"""Bulk issue: an instructor's CSV of learners who passed, issued row by row with a report.

``parse_learner_csv`` checks the file up front (so a wrong file is refused before any
work); ``run_bulk_issue_job`` (job kind ``bulk_issue``) issues row by row, each row in
its own transaction, reports progress into the job row, and ends with a per-row report:
``{"line", "who", "outcome": issued|skipped|failed|pending, "code", "detail"}``. Codes are
stable so pages can say them in the reader's language. ``pending``: the pass is recorded but
signing or storing the credential failed; it is retried like every issuance
(:mod:`plugin.issuance.pending`) and listed with its reason on the instructor's issued list.

A row names a learner by ``sub`` (the platform's LTI user id) and/or ``email``. A learner
who never launched the tool is created when the row gives a ``sub`` (the pair platform
issuer + sub is the learner's identity); an e-mail alone must match one known learner.
The instructor's upload is recorded as the pass evidence (source ``bulk_upload``).

**Resumable**: each row's outcome is stored (a ``key_value`` row per line) in the same
transaction as the row's work, fenced by the job's lease. A job taken over after its worker
died, or retried after an error, skips the rows already done and reports them as they were
(a credential issued before the crash still says "issued"); the stored outcomes are deleted
with the job's final result.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import delete, func, select

from plugin.domain.i18n import N_
from plugin.storage.models import BulkUpload, CredentialDefinition, KeyValue, Learner, PassEvidence

BATCH_SIZE = 500  # rows per transaction pair (prepare, write); stored in the job's payload
REPORT_ALL_ROWS = 20000  # above this, the report lists only the rows that were not issued
SUB_HEADERS = ("sub", "user_id", "lti_user_id", "external_user_id", "anonymous_user_id")
EMAIL_HEADERS = ("email", "e-mail", "mail", "courriel")
NAME_HEADERS = ("name", "full_name", "nom")
ROW_OUTCOME_TTL = timedelta(days=14)  # a stored row outcome outlives any job that could resume


class BulkError(ValueError):
    """The file cannot be used; the message says why."""


def _reader(raw: bytes):
    """A CSV reader over the file (after its header) and the columns of sub, e-mail and name."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise BulkError(N_("The file is not text (save it as CSV, UTF-8).")) from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    records = _records(reader)
    header = next(records, None)
    if not header:
        raise BulkError(N_("The file is empty."))
    names = [h.strip().lower() for h in header]

    def col(options):
        return next((names.index(o) for o in options if o in names), None)
    sub_i, email_i, name_i = col(SUB_HEADERS), col(EMAIL_HEADERS), col(NAME_HEADERS)
    if sub_i is None and email_i is None:
        raise BulkError(N_("The first line must name the columns, with at least “email” or “sub” (found: %(found)s).",
                           found=", ".join(h for h in header if h) or N_("nothing")))
    return records, sub_i, email_i, name_i


def iter_learner_csv(raw: bytes) -> Iterator[dict[str, Any]]:
    """The file's rows one at a time (``line``, ``sub``, ``email``, ``name``), blank lines left out.
    Raises :class:`BulkError` at once when the header is unusable, and while reading when a
    line cannot be read (a :class:`Msg` naming the line)."""
    records, sub_i, email_i, name_i = _reader(raw)

    def rows():
        for line, values in enumerate(records, start=2):
            if not any(v.strip() for v in values):
                continue

            def get(i):
                return values[i].strip() if i is not None and i < len(values) else ""
            yield {"line": line, "sub": get(sub_i)[:255], "email": get(email_i)[:320], "name": get(name_i)[:255]}
    return rows()


def parse_learner_csv(raw: bytes) -> list[dict[str, Any]]:
    """Every row of the file (no limit on their number; the job streams them instead)."""
    rows = list(iter_learner_csv(raw))
    if not rows:
        raise BulkError(N_("The file names no learner."))
    return rows


def _records(reader) -> Iterator[list[str]]:
    """The reader's records; a line it cannot read, or one holding a NUL character (no name,
    e-mail or id has one, and the database refuses it), is a :class:`BulkError` naming it."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise BulkError(N_("Line %(line)s has a field longer than %(limit)s characters: no name, e-mail "
                                   "or id is that long. Is it the right file, saved as CSV?",
                                   line=reader.line_num, limit=f"{csv.field_size_limit():,}")) from None
            raise BulkError(N_("Line %(line)s cannot be read as CSV (%(why)s).", line=reader.line_num,
                               why=str(exc))) from None
        if any("\x00" in v for v in values):
            raise BulkError(N_("Line %(line)s contains a NUL character: save the file again as CSV text.",
                               line=reader.line_num))
        yield values


def _who(row: dict) -> str:
    return row.get("name") or row.get("email") or row.get("sub") or f"line {row.get('line')}"


def _find_learner(session, platform_issuer: str, row: dict) -> tuple[Learner | None, str | None]:
    if row["sub"]:
        learner = session.scalar(select(Learner).where(Learner.platform_issuer == platform_issuer,
                                                       Learner.sub == row["sub"]))
        if learner is None:
            learner = Learner(platform_issuer=platform_issuer, sub=row["sub"], email=row["email"] or None,
                              name=row["name"] or None)
            session.add(learner)
            session.flush()
        return learner, None
    if not row["email"] or "@" not in row["email"]:
        return None, "no_identity"
    found = session.scalars(select(Learner).where(Learner.platform_issuer == platform_issuer,
                                                  func.lower(Learner.email) == row["email"].lower()).limit(2)).all()
    if not found:
        return None, "unknown_email"
    if len(found) > 1:
        return None, "ambiguous_email"
    return found[0], None


def _evidence_details(actor: str, filename: str) -> dict[str, Any]:
    return {"source_label": "Instructor's list of learners who passed",
            "narrative": f"Listed as having passed by {actor} ({filename})", "actor": actor, "filename": filename}


def _issue_row(services, ctx, definition_id: int, platform_issuer: str, row: dict, actor: str,
               filename: str) -> dict[str, Any]:
    """One row through the single-credential path (``award``), in its own transaction: used when
    a batch's signing fails, so that each failure is recorded and retried as a pending issuance."""
    from plugin.issuance.pending import award_or_defer
    from plugin.issuance.service import IssuanceError, current_credential
    entry: dict[str, Any] = {"line": row.get("line"), "who": _who(row)}
    try:
        with services.session() as s:
            ctx.hold(s)  # only while this worker holds the job (else LeaseLost, nothing written)
            definition = s.get(CredentialDefinition, definition_id)
            learner, problem = _find_learner(s, platform_issuer, row)
            if learner is None:
                entry.update(outcome="skipped", code=problem)
                return entry
            existing = current_credential(s, definition_id, learner.id)
            if existing is not None:
                entry.update(outcome="skipped", code="already_" + existing.status,
                             detail=existing.issued_at.date().isoformat())
                return entry
            ev = _evidence(s, definition, learner, actor, filename)
            attempt = award_or_defer(s, services, definition_id=definition_id, learner_id=learner.id,
                                     evidence_id=ev.id, actor=actor, origin="bulk_upload")
            if attempt.pending is not None:  # kept, and retried like every other source
                entry.update(outcome="pending", code="pending", detail=str(attempt.failure.reason),
                             reason=attempt.failure.reason_json())
            else:
                cred, created = attempt.credential, attempt.result == "issued"
                entry.update(outcome="issued" if created else "skipped",
                             code="issued" if created else "already_" + cred.status, detail=cred.public_id)
    except IssuanceError as exc:
        entry.update(outcome="failed", code="refused", detail=str(exc))
    return entry


def _evidence(session, definition: CredentialDefinition, learner: Learner, actor: str, filename: str) -> PassEvidence:
    key = f"bulk:{definition.id}:{learner.id}"
    ev = session.scalar(select(PassEvidence).where(PassEvidence.source == "bulk_upload", PassEvidence.dedup_key == key))
    if ev is None:
        ev = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="bulk_upload", dedup_key=key,
                          passed=True, details=_evidence_details(actor, filename))
        session.add(ev)
        session.flush()
    return ev


def _batch_prefix(job_id: int) -> str:
    return f"bulk:{job_id}:batch:"


def _batches_done(services, job_id: int) -> dict[int, dict[str, Any]]:
    """Outcomes already stored by an earlier run of this job (batch number -> its entries)."""
    prefix = _batch_prefix(job_id)
    with services.session() as s:
        rows = s.execute(select(KeyValue.key, KeyValue.value).where(KeyValue.key.startswith(prefix))).all()
    return {int(key[len(prefix):]): value for key, value in rows}


def _job_rows(services, payload: dict) -> Iterator[dict[str, Any]]:
    if "rows" in payload:  # a job queued before uploads were stored (a list in its payload)
        return iter(payload["rows"])
    with services.session() as s:
        upload = s.get(BulkUpload, payload["upload_id"])
        if upload is None:
            raise BulkError("The uploaded file is no longer stored: upload it again.")
        raw = upload.content
    return iter_learner_csv(raw)


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=1):
        batch.append(dict(row, tag=n))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Run:
    """One run of a bulk job: the batches, their outcomes and the report."""

    def __init__(self, services, payload: dict, ctx):
        self.services, self.payload, self.ctx = services, payload, ctx
        self.actor = payload.get("actor") or "system"
        self.filename = payload.get("filename") or "upload.csv"
        self.total = payload.get("rows_total") or len(payload.get("rows") or [])
        self.counts = {"issued": 0, "skipped": 0, "failed": 0, "pending": 0}
        self.report: list[dict[str, Any]] = []
        self.done_rows = 0

    def record(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.counts[entry["outcome"]] += 1
            if entry["outcome"] != "issued" or self.total <= REPORT_ALL_ROWS:
                self.report.append(entry)
        self.done_rows += len(entries)
        self.ctx.progress(self.done_rows, self.total, counts=dict(self.counts))

    def store(self, session, k: int, entries: list[dict[str, Any]]) -> None:
        """The batch's outcome, committed with its work: a resumed job knows exactly what was done."""
        session.merge(KeyValue(key=f"{_batch_prefix(self.ctx.job_id)}{k}", value={"rows": entries},
                               expires_at=datetime.now(timezone.utc) + ROW_OUTCOME_TTL))


def run_bulk_issue_job(services, payload: dict, ctx) -> dict:
    """Job ``bulk_issue``: the file's rows in batches through :class:`plugin.issuance.batch.BatchIssuer`."""
    from plugin.issuance.batch import BatchIssuer
    from plugin.issuance.batch_signing import BatchSigner
    from plugin.issuance.service import IssuanceError
    run = _Run(services, payload, ctx)
    done = _batches_done(services, ctx.job_id)
    batches = _batches(_job_rows(services, payload), int(payload.get("batch_size") or BATCH_SIZE))
    try:
        issuer = BatchIssuer(services, payload["definition_id"], actor=run.actor,
                             evidence_details=_evidence_details(run.actor, run.filename))
        refused = None
    except IssuanceError as exc:
        issuer, refused = None, str(exc)
    if issuer is None or not issuer.enabled:
        for k, batch in enumerate(batches):
            entries = done.get(k, {}).get("rows") or [
                {"line": r.get("line"), "who": _who(r), "outcome": "failed" if refused else "skipped",
                 "code": "refused" if refused else "not_enabled", **({"detail": refused} if refused else {})}
                for r in batch]
            run.record(entries)
    else:
        from plugin.signing.contexts import get_store
        with BatchSigner(issuer.signer_spec(), store=get_store(services)) as signer:
            _issue_batches(services, ctx, issuer, signer, run, batches, done)
    prefix = _batch_prefix(ctx.job_id)
    ctx.on_success.append(lambda s: s.execute(delete(KeyValue).where(KeyValue.key.startswith(prefix))))
    if payload.get("upload_id"):  # the learners' list is not kept once the job is done
        ctx.on_success.append(lambda s: s.execute(delete(BulkUpload).where(BulkUpload.id == payload["upload_id"])))
    result = {"counts": run.counts, "rows": run.report}
    if run.total > REPORT_ALL_ROWS:
        result["rows_listed"] = "not_issued"
    return result


def _issue_batches(services, ctx, issuer, signer, run: _Run, batches, done: dict) -> None:
    """Prepare batch k+1 and sign it in the pool while batch k is written: the processes and
    the database work at the same time."""
    in_flight = None
    for k, batch in enumerate(batches):
        if k in done:  # done before the worker running this job stopped
            run.record(done[k]["rows"])
            continue
        with services.session() as s:
            ctx.hold(s)
            prepared = issuer.prepare(s, batch)
        waiter = signer.submit([_record(issuer, prepared, item) for item in prepared.items])
        if in_flight is not None:
            _finish(services, ctx, issuer, run, *in_flight)
        in_flight = (k, batch, prepared, waiter)
    if in_flight is not None:
        _finish(services, ctx, issuer, run, *in_flight)


def _record(issuer, prepared, item) -> dict[str, Any]:
    from plugin.status.service import entry
    base = issuer.services.settings.base_url
    return {"learner": item.learner_public_id, "email": item.email, "lti_issuer": issuer.platform_issuer,
            "sub": item.sub, "credential_id": f"{base.rstrip('/')}/credentials/{item.public_id}",
            "issued_at": prepared.issued_at.isoformat(), "status_entry": entry(base, item.reservation),
            "evidence": item.evidence}


def _finish(services, ctx, issuer, run: _Run, k: int, batch: list[dict], prepared, waiter) -> None:
    by_tag = {r["tag"]: r for r in batch}
    try:
        signed = waiter()
    except Exception:  # noqa: BLE001 - each row then goes the single path, which records why it failed
        import logging
        logging.getLogger("microcred.issuance").warning("signing bulk batch %s failed; issuing its rows one by one",
                                                        k, exc_info=True)
        signed = None
    entries: dict[Any, dict[str, Any]] = {}
    for tag, (code, detail) in prepared.skipped.items():
        entries[tag] = {"line": by_tag[tag].get("line"), "who": _who(by_tag[tag]), "outcome": "skipped",
                        "code": code, **({"detail": detail} if detail else {})}
    if signed is None:
        for item in prepared.items:
            entries[item.tag] = _issue_row(services, ctx, issuer.definition_id, issuer.platform_issuer,
                                           by_tag[item.tag], run.actor, run.filename)
        with services.session() as s:
            ctx.hold(s)
            ordered = [entries[r["tag"]] for r in batch]
            run.store(s, k, ordered)
        run.record(ordered)
        return
    for item, (document, jwt, valid_until) in zip(prepared.items, signed):
        item.document, item.jwt, item.valid_until = document, jwt, valid_until
    with services.session() as s:
        ctx.hold(s)
        issued, lost = issuer.write(s, prepared)
        for item in issued:
            entries[item.tag] = {"line": by_tag[item.tag].get("line"), "who": _who(by_tag[item.tag]),
                                 "outcome": "issued", "code": "issued", "detail": item.public_id}
        for item in lost:  # another path issued it since this batch was prepared
            entries[item.tag] = {"line": by_tag[item.tag].get("line"), "who": _who(by_tag[item.tag]),
                                 "outcome": "skipped", "code": "already_active",
                                 "detail": prepared.issued_at.date().isoformat()}
        ordered = [entries[r["tag"]] for r in batch]
        run.store(s, k, ordered)
    run.record(ordered)


def start_bulk_issue(session, services, definition: CredentialDefinition, raw: bytes, *, actor: str,
                     filename: str) -> int:
    """Check the file, store it and queue its ``bulk_issue`` job in ``session``'s transaction;
    returns the job id. Raises :class:`BulkError` when the file cannot be used."""
    from plugin.jobs.queue import enqueue
    total = sum(1 for _row in iter_learner_csv(raw))
    if not total:
        raise BulkError("The file names no learner.")
    upload = BulkUpload(definition_id=definition.id, filename=filename[:200], rows=total, content=raw)
    session.add(upload)
    session.flush()
    return enqueue(services, "bulk_issue", {"definition_id": definition.id, "upload_id": upload.id,
                                            "rows_total": total, "batch_size": BATCH_SIZE, "actor": actor,
                                            "filename": filename[:200]}, session=session, max_attempts=3)
