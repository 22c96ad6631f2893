"""Audit log rows written by the web layer: who (the actor), what, on which object.

The issuance service records issuance and status events itself; views record the
configuration changes (definitions, issuers, keys, platforms) with :func:`record`,
in the same transaction as the change, so a change is never saved without its row.
"""
from __future__ import annotations

from typing import Any

from plugin.storage.models import AuditLog
from plugin.web.auth import current_actor
from plugin.web.context import db
from plugin.web.request_log import current_request_id


def record(action: str, target_type: str = "", target_id: Any = "", **details: Any) -> AuditLog:
    actor = current_actor()
    row = AuditLog(actor=actor.label if actor else "anonymous", action=action,
                   target_type=target_type, target_id=str(target_id or ""),
                   details=details, request_id=current_request_id())
    db().add(row)
    return row
