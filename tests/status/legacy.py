"""Credentials as the tool issued them before revocation lists (migration 0002).

Those carry ``statusPurpose: "message"``, ``statusSize: 2`` on a ``message`` list whose
indexes were drawn at random. :func:`award_legacy` issues one through the real
:func:`plugin.issuance.service.award`, with the old allocation put back for that call:
the database then holds what a tool upgraded from 0001 holds.
"""
from __future__ import annotations

import secrets
from unittest import mock

from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.status import service as status
from plugin.storage.models import StatusList, StatusListSlot


def legacy_allocate(session, credential) -> status.Reservation:
    sl = session.scalars(select(StatusList).where(StatusList.issuer_id == credential.issuer_id,
                                                  StatusList.purpose == "message")
                         .order_by(StatusList.sequence.desc()).limit(1)).first()
    if sl is None:
        sl = StatusList(issuer_id=credential.issuer_id, purpose="message", sequence=1, size=131_072)
        session.add(sl)
        session.flush()
    taken = set(session.scalars(select(StatusListSlot.index).where(StatusListSlot.status_list_id == sl.id)))
    index = secrets.choice([i for i in range(0, sl.size, 97) if i not in taken])
    session.add(StatusListSlot(status_list_id=sl.id, index=index, credential_id=credential.id, is_set=False))
    session.flush()
    return status.Reservation(sl.id, sl.public_id, "message", index)


def award_legacy(session, services, **kwargs):
    """``issuance.award(...)`` as before 0002: a 2-bit ``message`` entry."""
    with mock.patch.object(status, "allocate", legacy_allocate):
        return issuance.award(session, services, **kwargs)
