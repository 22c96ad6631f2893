"""``/healthz``: is the database reachable, can the signing keys be opened, is issuing keeping up.

``status``: ``ok``; ``degraded`` (HTTP 200: the tool serves, but an issuance has failed for
good or a background job is stuck: people are waiting for credentials); ``unavailable``
(HTTP 503: no database, or a signing key does not open). The ``issuance`` and ``jobs``
sections are counts only (:func:`plugin.issuance.pending.health_report`): no learner,
course or credential is named. docs/deployment.md says what to alert on.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text

from plugin import __version__
from plugin.storage.models import IssuerKey, ToolKey
from plugin.storage.secrets import KeyEncryptionError, issuer_key_context, tool_key_context
from plugin.web.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    svc = services()
    report = {"status": "ok", "version": __version__}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        report["database"] = {"ok": True, "dialect": svc.engine.dialect.name}
    except Exception as exc:
        report["database"] = {"ok": False, "error": type(exc).__name__}
    keys = {"ok": True, "active": 0}
    if report["database"]["ok"]:
        try:
            with svc.session() as s:
                active = s.scalars(select(IssuerKey).where(IssuerKey.retired_at.is_(None))).all()
                keys["active"] = len(active)
                keys["issuers_with_keys"] = s.scalar(
                    select(func.count(func.distinct(IssuerKey.issuer_id))).where(IssuerKey.retired_at.is_(None)))
                for key in active:
                    svc.secrets.open(key.private_sealed, issuer_key_context(key.issuer_id, key.key_id))
                tool_keys = s.scalars(select(ToolKey).where(ToolKey.active.is_(True))).all()
                keys["tool_keys"] = len(tool_keys)
                for key in tool_keys:
                    svc.secrets.open(key.private_sealed, tool_key_context(key.kid))
        except KeyEncryptionError as exc:
            keys = {"ok": False, "error": str(exc)}
        except Exception as exc:
            keys = {"ok": False, "error": type(exc).__name__}
    else:
        keys = {"ok": False, "error": "database unavailable"}
    report["signing_keys"] = keys
    if report["database"]["ok"]:
        try:
            from plugin.issuance.pending import health_report
            with svc.session() as s:
                report.update(health_report(s))
        except Exception as exc:
            report["issuance"] = {"error": type(exc).__name__}
    healthy = report["database"]["ok"] and keys["ok"]
    degraded = bool(report.get("issuance", {}).get("failed") or report.get("jobs", {}).get("stuck"))
    report["status"] = ("degraded" if degraded else "ok") if healthy else "unavailable"
    return jsonify(report), 200 if healthy else 503
