"""The audit log for administrators: readable, filterable, exportable (``/admin/audit``).

Each row says who (the administrator's name, or the platform user with the name their
platform gave), what (a sentence, with the raw action kept for filtering), on which object
(the credential's learner, the issuer's or platform's name, the course), and what changed
(before → after for status changes; the other details as "key: value", never as escaped
JSON). The overview's count and this list come from one query (:func:`audit_query`), with
the same platform scope for an administrator who launched from a platform, so they agree.
``/admin/audit.csv`` exports what the filters select, streamed.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, or_, select

from plugin.storage.models import (AuditLog, Course, CredentialDefinition, IssuedCredential, Issuer, Learner,
                                   Platform)
from plugin.web.auth import require_roles
from plugin.web.context import db
from plugin.web.formatting import install as install_helpers

bp = Blueprint("admin_audit", __name__, url_prefix="/admin")
install_helpers(bp)
PAGE_SIZE = 50

# Filter categories: the action prefix and how people call it.
CATEGORIES = {
    "credential": _l("Credentials"), "definition": _l("Course credentials"), "issuer": _l("Issuers and keys"),
    "platform": _l("Platforms and bridges"), "admin": _l("Sign-ins"), "edc": _l("European Digital Credentials"),
    "tool_key": _l("Tool keys"), "label_profile": _l("Label profiles"), "course": _l("Courses"),
}
ACTIONS = {
    "admin.login": _l("Signed in"), "admin.created": _l("Created an administrator account"),
    "credential.issue": _l("Issued a credential"), "credential.revoke": _l("Revoked a credential"),
    "credential.suspend": _l("Suspended a credential"), "credential.reinstate": _l("Reinstated a credential"),
    "credential.supersede": _l("Replaced a credential by a new one"),
    "credential.issue_retry": _l("Retried an issuance"), "credential.bulk_upload": _l("Uploaded learners to issue to"),
    "credential.public_name": _l("Changed whether the name is shown publicly"),
    "credential.reminder": _l("Reminded learners to claim"),
    "definition.create": _l("Created a course credential"), "definition.version": _l("Saved a new version"),
    "definition.enable": _l("Enabled a course credential"), "definition.disable": _l("Disabled a course credential"),
    "definition.issuer": _l("Chose the awarding body"), "definition.policy": _l("Changed the pass rule"),
    "definition.labels": _l("Changed the labels"),
    "issuer.create": _l("Created an issuer"), "issuer.update": _l("Updated an issuer"),
    "issuer.keys.rotate": _l("Rotated an issuer's keys"), "issuer.platforms": _l("Changed an issuer's platforms"),
    "issuer.courses": _l("Changed an issuer's courses"), "issuer.design": _l("Changed an issuer's badge design"),
    "platform.add": _l("Added a platform"), "platform.registered": _l("Registered a platform"),
    "lti.platform.registered": _l("Registered a platform"), "platform.bridge_updated": _l("Changed a platform's bridges"),
    "platform.connection_tested": _l("Tested a platform's connections"),
    "platform.catch_up_period": _l("Changed the catch-up period"), "bridge.set": _l("Changed a platform's bridges"),
    "tool_key.rotate": _l("Rotated the tool's LTI key"), "tool_key.retire": _l("Retired a tool LTI key"),
    "label_profile.saved": _l("Saved a label profile"), "course.sync_started": _l("Started a catch-up sync"),
}
STATUS_AFTER = {"credential.revoke": "revoked", "credential.suspend": "suspended",
                "credential.reinstate": "active", "credential.supersede": "superseded"}


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.combine(datetime.strptime((value or "").strip(), "%Y-%m-%d").date(), time.min,
                                tzinfo=timezone.utc)
    except ValueError:
        return None


def filters_from(args) -> dict[str, Any]:
    category = (args.get("category") or "").strip()
    return {"category": category if category in CATEGORIES else "",
            "action": (args.get("action") or "").strip()[:100], "who": (args.get("who") or "").strip()[:200],
            "object": (args.get("object") or "").strip()[:200],
            "since": (args.get("since") or "").strip()[:10], "until": (args.get("until") or "").strip()[:10]}


def audit_query(scope: int | None, f: dict[str, Any] | None = None):
    """The audit rows an administrator may see (``scope``: their platform), filtered."""
    f = f or {}
    q = select(AuditLog)
    if scope is not None:
        # An LTI administrator sees the events of their platform's issuers and of the platform itself.
        from plugin.web.admin.issuers import _issuers_query
        issuer_ids = [i.slug for i in _issuers_query(scope)]
        q = q.where(((AuditLog.target_type == "platform") & (AuditLog.target_id == str(scope)))
                    | ((AuditLog.target_type == "issuer") & AuditLog.target_id.in_(issuer_ids)))
    if f.get("category"):
        q = q.where(AuditLog.action.like(f["category"] + ".%"))
    if f.get("action"):
        q = q.where(AuditLog.action.like(f["action"].replace("%", "") + "%"))
    if f.get("who"):
        q = q.where(func.lower(AuditLog.actor).like(f"%{f['who'].lower()}%"))
    if f.get("object"):
        like = f"%{f['object'].lower()}%"
        q = q.where(or_(func.lower(AuditLog.target_id).like(like), func.lower(AuditLog.target_type).like(like)))
    since, until = _day(f.get("since")), _day(f.get("until"))
    if since:
        q = q.where(AuditLog.at >= since)
    if until:
        q = q.where(AuditLog.at < until + timedelta(days=1))
    return q


def count_for(scope: int | None) -> int:
    return db().scalar(select(func.count()).select_from(audit_query(scope).subquery()))


# --------------------------------------------------------------------------- readable rows
def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "—"
    return str(value)


class Names:
    """Names of the people and objects a page of audit rows mentions, read in one query per kind."""

    def __init__(self, rows: list[AuditLog]):
        by_type: dict[str, set[str]] = {}
        for r in rows:
            by_type.setdefault(r.target_type or "", set()).add(r.target_id or "")
        session = db()
        self.objects: dict[tuple[str, str], str] = {}
        ids = by_type.get("credential")
        if ids:
            for public_id, shown, name, email in session.execute(
                    select(IssuedCredential.public_id, IssuedCredential.display_name, Learner.name, Learner.email)
                    .join(Learner, Learner.id == IssuedCredential.learner_id)
                    .where(IssuedCredential.public_id.in_(ids))):
                self.objects[("credential", public_id)] = shown or name or email or ""
        ids = by_type.get("issuer")
        if ids:
            for slug, name in session.execute(select(Issuer.slug, Issuer.name).where(Issuer.slug.in_(ids))):
                self.objects[("issuer", slug)] = name
        ids = {i for i in by_type.get("platform", ()) if i.isdigit()}
        if ids:
            for pid, name, issuer in session.execute(select(Platform.id, Platform.name, Platform.issuer)
                                                     .where(Platform.id.in_([int(i) for i in ids]))):
                self.objects[("platform", str(pid))] = name or issuer
        ids = by_type.get("definition")
        if ids:
            for public_id, title, context_id in session.execute(
                    select(CredentialDefinition.public_id, Course.title, Course.context_id)
                    .join(Course, Course.id == CredentialDefinition.course_id)
                    .where(CredentialDefinition.public_id.in_(ids))):
                self.objects[("definition", public_id)] = title or context_id
        pairs = {r.actor[4:].split("|", 1) for r in rows if r.actor.startswith("lti:") and "|" in r.actor}
        self.people: dict[str, str] = {}
        for iss, sub in (tuple(p) for p in pairs):
            name = session.scalar(select(Learner.name).where(Learner.platform_issuer == iss, Learner.sub == sub))
            self.people[f"lti:{iss}|{sub}"] = _("%(name)s (%(sub)s on %(host)s)", name=name or sub, sub=sub,
                                                host=urlsplit(iss).hostname or iss) if name else \
                _("user %(sub)s on %(host)s", sub=sub, host=urlsplit(iss).hostname or iss)

    def who(self, actor: str) -> str:
        if actor.startswith("admin:"):
            return _("%(name)s (administrator)", name=actor[len("admin:"):])
        if actor in self.people:
            return self.people[actor]
        if actor in ("system", ""):
            return _("the tool (automatic)")
        if actor == "cli":
            return _("the command line (microcred)")
        return actor

    def target(self, row: AuditLog) -> str:
        kind = {"credential": _("credential"), "definition": _("course credential"), "issuer": _("issuer"),
                "platform": _("platform"), "tool_key": _("tool key"), "course": _("course"),
                "label_profile": _("label profile"), "admin_user": _("administrator account")}.get(row.target_type or "", row.target_type or "")
        name = self.objects.get((row.target_type or "", row.target_id or ""))
        if name:
            return f"{kind} “{name}” ({row.target_id})"
        return f"{kind} {row.target_id}".strip()


def change_of(row: AuditLog) -> tuple[str | None, list[tuple[str, str]]]:
    """``(before → after, other details)`` of a row, as text."""
    from plugin.web.instructor.issued_rows import status_label
    details = dict(row.details or {})
    change = None
    if row.action in STATUS_AFTER:
        before = details.pop("previous", None)
        change = f"{status_label(before) if before else '?'} → {status_label(STATUS_AFTER[row.action])}"
    elif "previous" in details and ("new" in details or "value" in details):
        change = f"{_value(details.pop('previous'))} → {_value(details.pop('new', details.pop('value', None)))}"
    rest = [(k.replace("_", " "), _value(v)) for k, v in details.items() if v not in (None, "", [], {})]
    return change, rest


def readable(rows: list[AuditLog]) -> list[dict[str, Any]]:
    names = Names(rows)
    out = []
    for r in rows:
        change, rest = change_of(r)
        out.append({"row": r, "who": names.who(r.actor), "what": str(ACTIONS.get(r.action, r.action)),
                    "target": names.target(r), "change": change, "details": rest})
    return out


# --------------------------------------------------------------------------- routes
@bp.before_request
def _guard():
    from plugin.web.admin import _guard as admin_guard  # the check every admin page makes
    return admin_guard()


@bp.get("/audit")
@require_roles("admin")
def audit():
    from plugin.web.admin import platform_scope
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    f = filters_from(request.args)
    query = audit_query(platform_scope(), f)
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    rows = db().scalars(query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                        .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/audit.html", rows=readable(rows[:PAGE_SIZE]), page=page, total=total,
                           has_next=len(rows) > PAGE_SIZE, f=f, categories=CATEGORIES,
                           args={k: v for k, v in f.items() if v})


@bp.get("/audit.csv")
@require_roles("admin")
def audit_csv():
    from plugin.web.admin import platform_scope
    f = filters_from(request.args)
    query = audit_query(platform_scope(), f).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    rows = db().scalars(query.limit(100_000)).all()
    described = readable(rows)
    db().close()

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["at", "who", "actor", "what", "action", "object", "target_type", "target_id", "change",
                         "details", "request_id"])
        for d in described:
            r = d["row"]
            writer.writerow([r.at.isoformat(), d["who"], r.actor, d["what"], r.action, d["target"], r.target_type,
                             r.target_id, d["change"] or "", json.dumps(r.details or {}, ensure_ascii=False,
                                                                         sort_keys=True, default=str),
                             r.request_id or ""])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
