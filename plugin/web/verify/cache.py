"""Per-process cache of verification reports of our own credentials.

A report only changes when the credential's status bits change (revoke, suspend,
reinstate), when it expires, or when the issuer's keys change. The key of an entry is a
fingerprint of exactly those facts, read with one small query, so a repeated view
costs a lookup instead of a JSON-LD canonicalization; a short TTL bounds the rest
(clock-based expiry, status lists published by another process).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.storage.models import IssuedCredential, IssuerKey, StatusListSlot

MAX_ENTRIES = 2048
TTL_SECONDS = 300.0

_lock = threading.Lock()
_entries: OrderedDict[str, tuple[tuple, float, dict]] = OrderedDict()


def fingerprint(db: Session, row: IssuedCredential) -> tuple:
    # One statement (one round trip per view): the status slots' and the issuer keys' figures.
    slot, key = StatusListSlot.credential_id == row.id, IssuerKey.issuer_id == row.issuer_id
    slot_at, slots, keys, retired = db.execute(select(
        select(func.max(StatusListSlot.updated_at)).where(slot).scalar_subquery(),
        select(func.count(StatusListSlot.id)).where(slot).scalar_subquery(),
        select(func.count(IssuerKey.id)).where(key).scalar_subquery(),
        select(func.max(IssuerKey.retired_at)).where(key).scalar_subquery())).one()
    return (row.status, str(row.status_changed_at), str(slot_at), slots, keys, str(retired))


def get(public_id: str, key: tuple) -> dict | None:
    with _lock:
        entry = _entries.get(public_id)
        if entry is None:
            return None
        fp, at, report = entry
        if fp != key or time.monotonic() - at > TTL_SECONDS:
            _entries.pop(public_id, None)
            return None
        _entries.move_to_end(public_id)
        return report


def put(public_id: str, key: tuple, report: dict) -> None:
    with _lock:
        _entries[public_id] = (key, time.monotonic(), report)
        _entries.move_to_end(public_id)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


# Rendered public pages (HTML) of cached reports: key = (public id, fingerprint, what else the
# page depends on: locale, path and query, whether the name is shown); same bounds.
_pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()


def get_page(key: tuple) -> str | None:
    with _lock:
        entry = _pages.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > TTL_SECONDS:
            _pages.pop(key, None)
            return None
        _pages.move_to_end(key)
        return entry[1]


def put_page(key: tuple, html: str) -> None:
    with _lock:
        _pages[key] = (time.monotonic(), html)
        _pages.move_to_end(key)
        while len(_pages) > MAX_ENTRIES:
            _pages.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()
        _pages.clear()
