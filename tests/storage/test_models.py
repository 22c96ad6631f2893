"""Model behaviour the rest of the code relies on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from plugin.storage.models import OneTimeToken


def test_datetimes_keep_their_instant_whatever_the_offset(services):
    paris_noon = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with services.session() as s:
        s.add(OneTimeToken(kind="nonce", value="tz", expires_at=paris_noon))
    with services.session() as s:
        stored = s.scalars(select(OneTimeToken.expires_at)).one()
        assert stored == paris_noon and stored.tzinfo is not None
        # and queries compare instants, not wall-clock text
        before = datetime(2026, 6, 1, 10, 30, tzinfo=timezone.utc)  # 12:30 in Paris
        assert s.scalars(select(OneTimeToken).where(OneTimeToken.expires_at < before)).all()
        after = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
        assert not s.scalars(select(OneTimeToken).where(OneTimeToken.expires_at < after)).all()
