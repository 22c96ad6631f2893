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
from plugin.storage.models import Course, CredentialDefinition, KeyValue, Learner, PassEvidence

MAX_ROWS = 20000
SUB_HEADERS = ("sub", "user_id", "lti_user_id", "external_user_id", "anonymous_user_id")
EMAIL_HEADERS = ("email", "e-mail", "mail", "courriel")
NAME_HEADERS = ("name", "full_name", "nom")
ROW_OUTCOME_TTL = timedelta(days=14)  # a stored row outcome outlives any job that could resume


class BulkError(ValueError):
    """The file cannot be used; the message says why."""


def parse_learner_csv(raw: bytes) -> list[dict[str, Any]]:
    """The learners a CSV names, checked up front; raises :class:`BulkError` (a :class:`Msg`
    naming the line) for a file that cannot be used."""
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
    rows = []
    for line, values in enumerate(records, start=2):
        if not any(v.strip() for v in values):
            continue

        def get(i):
            return values[i].strip() if i is not None and i < len(values) else ""
        rows.append({"line": line, "sub": get(sub_i)[:255], "email": get(email_i)[:320], "name": get(name_i)[:255]})
        if len(rows) > MAX_ROWS:
            raise BulkError(N_("The file has more than %(max)s learners: split it.", max=MAX_ROWS))
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


def _evidence(session, definition: CredentialDefinition, learner: Learner, actor: str, filename: str) -> PassEvidence:
    key = f"bulk:{definition.id}:{learner.id}"
    ev = session.scalar(select(PassEvidence).where(PassEvidence.source == "bulk_upload", PassEvidence.dedup_key == key))
    if ev is None:
        ev = PassEvidence(definition_id=definition.id, learner_id=learner.id, source="bulk_upload", dedup_key=key,
                          passed=True, details={"source_label": "Instructor's list of learners who passed",
                                                "narrative": f"Listed as having passed by {actor} ({filename})",
                                                "actor": actor, "filename": filename})
        session.add(ev)
        session.flush()
    return ev


def _row_prefix(job_id: int) -> str:
    return f"bulk:{job_id}:row:"


def _rows_done(services, job_id: int) -> dict[int, dict[str, Any]]:
    """Outcomes already stored by an earlier run of this job (position in the file -> report entry)."""
    prefix = _row_prefix(job_id)
    with services.session() as s:
        rows = s.execute(select(KeyValue.key, KeyValue.value).where(KeyValue.key.startswith(prefix))).all()
    return {int(key[len(prefix):]): value for key, value in rows}


def run_bulk_issue_job(services, payload: dict, ctx) -> dict:
    from plugin.issuance.pending import award_or_defer
    from plugin.issuance.service import IssuanceError, current_credential
    definition_id = payload["definition_id"]
    rows = payload.get("rows") or []
    actor = payload.get("actor") or "system"
    filename = payload.get("filename") or "upload.csv"
    report: list[dict[str, Any]] = []
    counts = {"issued": 0, "skipped": 0, "failed": 0, "pending": 0}
    prefix = _row_prefix(ctx.job_id)
    done = _rows_done(services, ctx.job_id)
    with services.session() as s:
        definition = s.get(CredentialDefinition, definition_id)
        enabled = bool(definition and definition.enabled)
        platform_issuer = s.get(Course, definition.course_id).platform_issuer if definition else ""
    for n, row in enumerate(rows, start=1):
        entry = done.get(n)
        if entry is not None:  # done before the worker running this job stopped
            counts[entry["outcome"]] += 1
            report.append(entry)
            continue
        entry = {"line": row.get("line"), "who": _who(row)}
        if not enabled:
            entry.update(outcome="skipped", code="not_enabled")
        else:
            try:
                with services.session() as s:
                    ctx.hold(s)  # only while this worker holds the job (else LeaseLost, nothing written)
                    definition = s.get(CredentialDefinition, definition_id)
                    learner, problem = _find_learner(s, platform_issuer, row)
                    if learner is None:
                        entry.update(outcome="skipped", code=problem)
                    else:
                        existing = current_credential(s, definition_id, learner.id)
                        if existing is not None:
                            entry.update(outcome="skipped", code="already_" + existing.status,
                                         detail=existing.issued_at.date().isoformat())
                        else:
                            ev = _evidence(s, definition, learner, actor, filename)
                            attempt = award_or_defer(s, services, definition_id=definition_id, learner_id=learner.id,
                                                     evidence_id=ev.id, actor=actor, origin="bulk_upload")
                            if attempt.pending is not None:  # kept, and retried like every other source
                                entry.update(outcome="pending", code="pending", detail=str(attempt.failure.reason),
                                             reason=attempt.failure.reason_json())
                            else:
                                cred, created = attempt.credential, attempt.result == "issued"
                                entry.update(outcome="issued" if created else "skipped",
                                             code="issued" if created else "already_" + cred.status,
                                             detail=cred.public_id)
                    # The outcome commits with the row's work: a resumed job knows exactly what was done.
                    s.merge(KeyValue(key=f"{prefix}{n}", value=entry,
                                     expires_at=datetime.now(timezone.utc) + ROW_OUTCOME_TTL))
            except IssuanceError as exc:
                entry.update(outcome="failed", code="refused", detail=str(exc))
        counts[entry["outcome"]] += 1
        report.append(entry)
        if n % 10 == 0 or n == len(rows):
            ctx.progress(n, len(rows), counts=dict(counts))
    ctx.on_success.append(lambda s: s.execute(delete(KeyValue).where(KeyValue.key.startswith(prefix))))
    return {"counts": counts, "rows": report}
