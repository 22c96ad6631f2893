"""Status lists in the database: index reservation, status changes, the signed list credentials.

**One status entry per credential, read the same way by every verifier.** Open Badges 3.0
allows a single ``credentialStatus`` object (its JSON Schema says ``"type": "object"``).
Every credential issued now carries a one-bit ``revocation`` entry::

    {"id": "<list>#<index>", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
     "statusListIndex": "<index>", "statusListCredential": "<base>/status/<list id>",
     "statusReference": "<base>/status/<list id>/states"}

The bit is set **exactly when the credential is revoked**. Suspension and supersession
(re-issue after a name change) do not touch it: third-party verifiers see such a
credential as *not revoked*, while our verifier reads the 2-bit state list named in
``statusReference`` (same indexes, the values of :mod:`plugin.status.states`) and says
*suspended* or *replaced by a newer version*. ``docs/engine.md`` says why.

Credentials issued before carry a 2-bit ``message`` entry on a legacy list; those lists
keep being served and read (:func:`build_bits`), take no new credential, and
``microcred status migrate`` re-issues their credentials (:mod:`plugin.status.migrate`).

**Reservation without counting.** Each revocation list has a secret ``shuffle_key`` and a
position counter; the n-th credential put on the list gets index
``permuted_index(key, n, size)`` (:mod:`plugin.status.permutation`), a bijection, so
indexes are random-looking (spec §6.1), never collide, and cost the same whether the
list is empty or nearly full. The counter is a sequence per list on PostgreSQL
(``nextval`` holds no lock, so concurrent issuances do not wait for each other) and the
row's ``next_position`` on SQLite (the counter's ``UPDATE`` takes the database's write lock
and the new value is read back under it). Positions taken by a transaction that rolls back are simply
never used: their bits stay 0. When a list's positions run out, the next list is opened;
the unique ``(issuer, purpose, sequence)`` constraint makes that race-safe.
:func:`allocate_many` reserves ``n`` indexes at once for bulk issuance.

The bits are derived from the credentials' ``status`` column when a list is built, so a
list can never disagree with the database; ``is_set`` mirrors the revocation bit (for
legacy lists: "not valid"). Each signed ``BitstringStatusListCredential`` is cached in
the ``key_value`` table (shared by every process) and dropped whenever a status changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.metrics import count_status_write
from plugin.status.bitstring import Bitstring
from plugin.status.permutation import new_key, permuted_index
from plugin.status.states import (LEGACY_MESSAGE, MESSAGES, REVOCATION, STATE_SIZE, VALUES, get_value,
                                  revocation_bit, set_value, state_value)
from plugin.storage.models import IssuedCredential, Issuer, KeyValue, StatusList, StatusListSlot

__all__ = ["LIST_ENTRIES", "MESSAGES", "VALUES", "Reservation", "StatusError", "allocate", "allocate_many",
           "bind", "entry", "get_value", "list_credential", "set_status", "set_value"]

PURPOSE = REVOCATION
LIST_ENTRIES = 131_072
CACHE_TTL = timedelta(days=3650)
MAX_LIST_OPENINGS = 20
VIEWS = ("list", "states")


class StatusError(RuntimeError):
    """A status change that is not allowed (e.g. reinstating a revoked credential)."""


@dataclass(frozen=True)
class Reservation:
    """An index reserved on a status list, before (or after) a credential is bound to it."""
    status_list_id: int
    list_public_id: str
    purpose: str
    index: int


def status_list_url(base_url: str, status_list: StatusList | Reservation) -> str:
    public_id = status_list.list_public_id if isinstance(status_list, Reservation) else status_list.public_id
    return f"{base_url.rstrip('/')}/status/{public_id}"


def states_url(base_url: str, status_list: StatusList | Reservation) -> str:
    """The 2-bit state list beside a revocation list (what ``statusReference`` names)."""
    return status_list_url(base_url, status_list) + "/states"


def _cache_key(status_list_id: int, view: str = "list") -> str:
    return f"status-list-credential:{status_list_id}" + ("" if view == "list" else f":{view}")


def _sequence_name(status_list_id: int) -> str:
    return f"status_list_pos_{int(status_list_id)}"


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --------------------------------------------------------------------------- reservation
def _newest_list(session: Session, issuer_id: int) -> StatusList | None:
    return session.scalars(select(StatusList).where(StatusList.issuer_id == issuer_id,
                                                    StatusList.purpose == PURPOSE)
                           .order_by(StatusList.sequence.desc()).limit(1)).first()


def _open_list(session: Session, issuer_id: int, after: StatusList | None) -> None:
    """Open the list that follows ``after``; if another transaction opened it first, do nothing."""
    try:
        with session.begin_nested():
            new = StatusList(issuer_id=issuer_id, purpose=PURPOSE, sequence=1 if after is None else after.sequence + 1,
                             size=LIST_ENTRIES, shuffle_key=new_key(), next_position=0)
            session.add(new)
            session.flush()
            if _postgres(session):
                session.execute(text(f"CREATE SEQUENCE {_sequence_name(new.id)} MINVALUE 0 START WITH 0"))
    except IntegrityError:
        pass  # another transaction opened it (PostgreSQL waited for it to commit): the caller re-reads


def _take_positions(session: Session, status_list: StatusList, n: int) -> list[int]:
    """Up to ``n`` unused positions of the list (fewer, or none, once it is used up)."""
    if _postgres(session):
        taken = session.execute(text(f"SELECT nextval('{_sequence_name(status_list.id)}') "
                                     "FROM generate_series(1, :n)"), {"n": n}).scalars().all()
        return [p for p in taken if p < status_list.size]
    session.execute(update(StatusList).where(StatusList.id == status_list.id)
                    .values(next_position=StatusList.next_position + n)
                    .execution_options(synchronize_session=False))
    end = session.scalar(select(StatusList.next_position).where(StatusList.id == status_list.id))
    return list(range(end - n, min(end, status_list.size)))


def allocate_many(session: Session, issuer_id: int, n: int) -> list[Reservation]:
    """Reserve ``n`` indexes on the issuer's revocation lists, in the caller's transaction.

    The indexes are random-looking and distinct; a batch may span two lists when one runs
    out. Bind each to its credential with :func:`bind` (or :func:`bind_many`). Reserving in
    a short transaction of its own and binding later is fine: an index reserved and never
    bound stays 0 ("not revoked") for good.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    out: list[Reservation] = []
    for _attempt in range(MAX_LIST_OPENINGS):
        if len(out) >= n:
            return out
        current = _newest_list(session, issuer_id)
        if current is None or not current.shuffle_key:
            _open_list(session, issuer_id, current)  # none yet, or a list without a key (closed)
            continue
        positions = _take_positions(session, current, n - len(out))
        out += [Reservation(current.id, current.public_id, current.purpose,
                            permuted_index(current.shuffle_key, p, current.size)) for p in positions]
        if len(out) < n:
            _open_list(session, issuer_id, current)
    if len(out) < n:
        raise StatusError("could not open a status list (too much contention)")
    return out


def bind(session: Session, credential: IssuedCredential, reservation: Reservation) -> StatusListSlot:
    """Give ``credential`` (already flushed) the reserved index."""
    slot = StatusListSlot(status_list_id=reservation.status_list_id, index=reservation.index,
                          credential_id=credential.id, is_set=False)
    session.add(slot)
    session.flush()
    return slot


def bind_many(session: Session, pairs: Iterable[tuple[int, Reservation]]) -> None:
    """Bind ``(credential row id, reservation)`` pairs in one multi-row insert (bulk issuance)."""
    now = datetime.now(timezone.utc)
    rows = [{"status_list_id": r.status_list_id, "index": r.index, "credential_id": cid, "is_set": False,
             "updated_at": now} for cid, r in pairs]
    if rows:
        session.execute(insert(StatusListSlot), rows)


def allocate(session: Session, credential: IssuedCredential) -> Reservation:
    """Reserve and bind one index for ``credential`` (already flushed); idempotent."""
    existing = session.execute(
        select(StatusListSlot, StatusList).join(StatusList, StatusList.id == StatusListSlot.status_list_id)
        .where(StatusListSlot.credential_id == credential.id, StatusList.purpose == PURPOSE)).first()
    if existing is not None:
        slot, sl = existing
        return Reservation(sl.id, sl.public_id, sl.purpose, slot.index)
    reservation = allocate_many(session, credential.issuer_id, 1)[0]
    bind(session, credential, reservation)
    return reservation


def entry(base_url: str, reservation: Reservation) -> dict[str, Any]:
    """The credential's ``credentialStatus`` object (a ``BitstringStatusListEntry``)."""
    url = status_list_url(base_url, reservation)
    if reservation.purpose == LEGACY_MESSAGE:  # the form credentials issued before 0002 carry
        return {"id": f"{url}#{reservation.index}", "type": "BitstringStatusListEntry",
                "statusPurpose": LEGACY_MESSAGE, "statusListIndex": str(reservation.index),
                "statusListCredential": url, "statusSize": STATE_SIZE,
                "statusMessage": [dict(m) for m in MESSAGES]}
    return {
        "id": f"{url}#{reservation.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": reservation.purpose,
        "statusListIndex": str(reservation.index),
        "statusListCredential": url,
        "statusReference": states_url(base_url, reservation),
    }


# --------------------------------------------------------------------------- status changes
ALLOWED = {
    ("active", "revoked"), ("suspended", "revoked"),
    ("active", "suspended"), ("suspended", "active"),
    ("active", "superseded"), ("suspended", "superseded"),
}


def _slot_bit(purpose: str, status: str) -> bool:
    return revocation_bit(status) if purpose == REVOCATION else status != "active"


def set_status(session: Session, credential: IssuedCredential, new_status: str, reason: str | None = None) -> bool:
    """Change a credential's status and invalidate its status lists; ``False`` if already there."""
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
    rows = session.execute(select(StatusListSlot, StatusList.purpose)
                           .join(StatusList, StatusList.id == StatusListSlot.status_list_id)
                           .where(StatusListSlot.credential_id == credential.id)).all()
    for slot, purpose in rows:
        if slot.is_set != _slot_bit(purpose, new_status):
            count_status_write(purpose)
        slot.is_set = _slot_bit(purpose, new_status)
        slot.updated_at = datetime.now(timezone.utc)
        invalidate(session, slot.status_list_id)
    session.flush()
    return True


def invalidate(session: Session, status_list_id: int) -> None:
    for view in VIEWS:
        row = session.get(KeyValue, _cache_key(status_list_id, view))
        if row is not None:
            session.delete(row)
    sl = session.get(StatusList, status_list_id)
    if sl is not None:
        sl.updated_at = datetime.now(timezone.utc)


# --------------------------------------------------------------------------- the list credentials
def build_bits(session: Session, status_list: StatusList, view: str = "list") -> Bitstring:
    """The bits of a list: 1 per entry for a revocation list, 2 (the state values) for its
    ``states`` view and for a legacy ``message`` list."""
    one_bit = status_list.purpose == REVOCATION and view == "list"
    bits = Bitstring(status_list.size * (1 if one_bit else STATE_SIZE))
    rows = session.execute(
        select(StatusListSlot.index, IssuedCredential.status)
        .join(IssuedCredential, IssuedCredential.id == StatusListSlot.credential_id)
        .where(StatusListSlot.status_list_id == status_list.id)).all()
    for index, status in rows:
        if one_bit:
            if revocation_bit(status):
                bits.set(index)
        else:
            set_value(bits, index, state_value(status))
    return bits


def unsigned_list_credential(url: str, issuer_id: str, purpose: str, bits: Bitstring,
                             valid_from: datetime | None = None) -> dict[str, Any]:
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
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


def list_credential(session: Session, services, status_list: StatusList, view: str = "list") -> dict[str, Any] | None:
    """The signed ``BitstringStatusListCredential`` of ``status_list`` (cached until a status
    changes); ``view="states"`` gives a revocation list's 2-bit state list (``None`` for a
    legacy list, which has none)."""
    if view not in VIEWS or (view == "states" and status_list.purpose != REVOCATION):
        return None
    key = _cache_key(status_list.id, view)
    cached = session.get(KeyValue, key)
    if cached is not None:
        return cached.value
    from plugin.issuance.keys import issuer_identifier, sign_data_integrity
    base = services.settings.base_url
    issuer = session.get(Issuer, status_list.issuer_id)
    url = states_url(base, status_list) if view == "states" else status_list_url(base, status_list)
    purpose = LEGACY_MESSAGE if view == "states" else status_list.purpose
    doc = unsigned_list_credential(url, issuer_identifier(services, issuer), purpose,
                                   build_bits(session, status_list, view))
    signed = sign_data_integrity(session, services, issuer, doc)
    from plugin.storage.db import take_write_lock
    if not take_write_lock(session, wait=False):
        return signed  # SQLite, someone is writing: serve it uncached rather than wait
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
