"""Status lists in the database: slot allocation, status changes, the signed list credential.

**One status entry per credential.** Open Badges 3.0 allows ``credentialStatus`` to hold
a single object (its JSON Schema says ``"type": "object"``), so a credential cannot carry
one ``BitstringStatusListEntry`` for revocation and another for suspension as VC 2.0
examples do. Bitstring Status List v1.0 §2.1 defines the standard way to carry several
states in one entry: ``statusPurpose: "message"`` with ``statusSize: 2`` and a
``statusMessage`` table. Ours:

==========  ==============  =========================================================
value       message         meaning
==========  ==============  =========================================================
``0x0``     ``valid``       active
``0x1``     ``revoked``     revoked (permanent; a re-award is a new credential)
``0x2``     ``suspended``   suspended (reversible: :func:`set_status` back to active)
``0x3``     ``superseded``  replaced by a reissued credential (e.g. a name change)
==========  ==============  =========================================================

Each issuer has status lists (``StatusList``, purpose ``message``), each of
``LIST_ENTRIES`` entries (2 bits each: 32 KB uncompressed, above the spec's 16 KB
minimum). A credential gets one slot (``StatusListSlot``) at a **random** free index
(spec §6.1 privacy: indexes must not reveal issuance order); the unique constraint
``(status_list_id, index)`` settles races: on ``IntegrityError`` the savepoint is rolled
back and another index drawn. A list that is 3/4 full is closed and the next one opened.

The value of a slot is derived from the credential's ``status`` column when the list is
built, so the list can never disagree with the database; ``is_set`` mirrors "not valid"
for quick queries. The signed ``BitstringStatusListCredential`` is cached in the
``key_value`` table (shared by every process) and dropped whenever a status changes.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.status.bitstring import Bitstring
from plugin.storage.models import IssuedCredential, Issuer, KeyValue, StatusList, StatusListSlot

PURPOSE = "message"
STATUS_SIZE = 2
LIST_ENTRIES = 131_072
FILL_LIMIT = 0.75
VALUES = {"active": 0, "revoked": 1, "suspended": 2, "superseded": 3}
MESSAGES = [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"},
            {"status": "0x2", "message": "suspended"}, {"status": "0x3", "message": "superseded"}]
STATUS_OF_VALUE = {0: "valid", 1: "revoked", 2: "suspended", 3: "superseded"}
CACHE_TTL = timedelta(days=3650)
MAX_ALLOCATION_ATTEMPTS = 50


class StatusError(RuntimeError):
    """A status change that is not allowed (e.g. reinstating a revoked credential)."""


def status_list_url(base_url: str, status_list: StatusList) -> str:
    return f"{base_url.rstrip('/')}/status/{status_list.public_id}"


def _cache_key(status_list_id: int) -> str:
    return f"status-list-credential:{status_list_id}"


# --------------------------------------------------------------------------- allocation
def _open_list(session: Session, issuer_id: int) -> StatusList:
    """The issuer's newest list with room left, or a new one (race-safe)."""
    for _attempt in range(MAX_ALLOCATION_ATTEMPTS):
        current = session.scalars(
            select(StatusList).where(StatusList.issuer_id == issuer_id, StatusList.purpose == PURPOSE)
            .order_by(StatusList.sequence.desc()).limit(1)).first()
        if current is not None:
            used = session.scalar(select(func.count()).select_from(StatusListSlot)
                                  .where(StatusListSlot.status_list_id == current.id))
            if used < current.size * FILL_LIMIT:
                return current
        sequence = 1 if current is None else current.sequence + 1
        try:
            with session.begin_nested():
                new = StatusList(issuer_id=issuer_id, purpose=PURPOSE, sequence=sequence, size=LIST_ENTRIES)
                session.add(new)
            return new
        except IntegrityError:
            continue  # another transaction opened that list first: use it
    raise StatusError("could not open a status list (too much contention)")


def allocate(session: Session, credential: IssuedCredential, *, rng=secrets.SystemRandom()) -> StatusListSlot:
    """Give ``credential`` (already flushed) a slot at a random free index of an open list."""
    existing = session.scalars(select(StatusListSlot).where(StatusListSlot.credential_id == credential.id)).first()
    if existing is not None:
        return existing
    status_list = _open_list(session, credential.issuer_id)
    for _attempt in range(MAX_ALLOCATION_ATTEMPTS):
        index = rng.randrange(status_list.size)
        try:
            with session.begin_nested():
                slot = StatusListSlot(status_list_id=status_list.id, index=index, credential_id=credential.id,
                                      is_set=False)
                session.add(slot)
            return slot
        except IntegrityError:
            continue  # index taken (by us earlier, or by a concurrent transaction): draw again
    raise StatusError("could not find a free status list index")


def entry(base_url: str, status_list: StatusList, slot: StatusListSlot) -> dict[str, Any]:
    """The credential's ``credentialStatus`` object (a ``BitstringStatusListEntry``)."""
    url = status_list_url(base_url, status_list)
    return {
        "id": f"{url}#{slot.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(slot.index),
        "statusListCredential": url,
        "statusSize": STATUS_SIZE,
        "statusMessage": [dict(m) for m in MESSAGES],
    }


# --------------------------------------------------------------------------- status changes
ALLOWED = {
    ("active", "revoked"), ("suspended", "revoked"),
    ("active", "suspended"), ("suspended", "active"),
    ("active", "superseded"), ("suspended", "superseded"),
}


def set_status(session: Session, credential: IssuedCredential, new_status: str, reason: str | None = None) -> bool:
    """Change a credential's status and invalidate its status list; ``False`` if already there."""
    if new_status not in VALUES:
        raise StatusError(f"unknown status {new_status!r}")
    if credential.status == new_status:
        return False
    if (credential.status, new_status) not in ALLOWED:
        raise StatusError(f"a {credential.status} credential cannot become {new_status}"
                          + (" (a revoked credential stays revoked; award a new one)" if credential.status == "revoked" else ""))
    credential.status = new_status
    credential.status_reason = reason
    credential.status_changed_at = datetime.now(timezone.utc)
    slots = session.scalars(select(StatusListSlot).where(StatusListSlot.credential_id == credential.id)).all()
    for slot in slots:
        slot.is_set = new_status != "active"
        slot.updated_at = datetime.now(timezone.utc)
        invalidate(session, slot.status_list_id)
    session.flush()
    return True


def invalidate(session: Session, status_list_id: int) -> None:
    row = session.get(KeyValue, _cache_key(status_list_id))
    if row is not None:
        session.delete(row)
    sl = session.get(StatusList, status_list_id)
    if sl is not None:
        sl.updated_at = datetime.now(timezone.utc)


# --------------------------------------------------------------------------- the list credential
def build_bits(session: Session, status_list: StatusList) -> Bitstring:
    bits = Bitstring(status_list.size * STATUS_SIZE)
    rows = session.execute(
        select(StatusListSlot.index, IssuedCredential.status)
        .join(IssuedCredential, IssuedCredential.id == StatusListSlot.credential_id)
        .where(StatusListSlot.status_list_id == status_list.id)).all()
    for index, status in rows:
        set_value(bits, index, VALUES.get(status, 1))
    return bits


def set_value(bits: Bitstring, index: int, value: int, size: int = STATUS_SIZE) -> None:
    for b in range(size):
        bits.set(index * size + b, bool(value & (1 << (size - 1 - b))))


def get_value(bits: Bitstring, index: int, size: int = STATUS_SIZE) -> int:
    value = 0
    for b in range(size):
        value = (value << 1) | int(bits.get(index * size + b))
    return value


def unsigned_list_credential(base_url: str, issuer_id: str, status_list: StatusList, bits: Bitstring,
                             valid_from: datetime | None = None) -> dict[str, Any]:
    url = status_list_url(base_url, status_list)
    valid_from = valid_from or datetime.now(timezone.utc)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": valid_from.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": bits.encode(),
        },
    }


def list_credential(session: Session, services, status_list: StatusList) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` of ``status_list`` (cached until a status changes)."""
    key = _cache_key(status_list.id)
    cached = session.get(KeyValue, key)
    if cached is not None:
        return cached.value
    from plugin.issuance.keys import issuer_identifier, sign_data_integrity
    issuer = session.get(Issuer, status_list.issuer_id)
    doc = unsigned_list_credential(services.settings.base_url, issuer_identifier(services, issuer), status_list,
                                   build_bits(session, status_list))
    signed = sign_data_integrity(session, services, issuer, doc)
    try:
        with session.begin_nested():
            session.add(KeyValue(key=key, value=signed, expires_at=datetime.now(timezone.utc) + CACHE_TTL))
    except IntegrityError:
        pass  # another request cached it at the same time; ours is equally valid
    return signed


def list_by_public_id(session: Session, public_id: str) -> StatusList | None:
    return session.scalars(select(StatusList).where(StatusList.public_id == public_id)).first()


def lists_of(session: Session, issuer_id: int) -> list[StatusList]:
    return list(session.scalars(select(StatusList).where(StatusList.issuer_id == issuer_id)))
