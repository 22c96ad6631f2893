from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from plugin.storage.models import KeyValue


def test_datetimes_come_back_aware_and_compare_on_every_backend(services):
    paris = timezone(timedelta(hours=1))
    when = datetime(2026, 1, 2, 13, 0, tzinfo=paris)
    with services.session() as s:
        s.add(KeyValue(key="k", value={}, expires_at=when))
    with services.session() as s:
        row = s.get(KeyValue, "k")
        assert row.expires_at.tzinfo is not None
        assert row.expires_at == when  # same instant, stored as UTC
        assert row.expires_at < datetime.now(timezone.utc)
        # the comparison also works inside the database, against an aware bound value
        assert s.scalar(select(KeyValue.key).where(KeyValue.expires_at < datetime(2026, 1, 2, 12, 30, tzinfo=timezone.utc))) == "k"
        assert s.scalar(select(KeyValue.key).where(KeyValue.expires_at < datetime(2026, 1, 2, 11, 30, tzinfo=timezone.utc))) is None
