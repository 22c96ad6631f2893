"""The worker's housekeeping: expired login, launch and replay records go, live ones stay.

Requests no longer delete expired rows (they read as missing); the maintenance round does.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from plugin.jobs.maintenance import Maintenance
from plugin.storage.models import KeyValue, OneTimeToken


def test_the_maintenance_round_purges_expired_short_lived_rows(services):
    now = datetime.now(timezone.utc)
    with services.session() as s:
        s.add_all([KeyValue(key="launch:old", value={"v": 1}, expires_at=now - timedelta(minutes=1)),
                   KeyValue(key="launch:live", value={"v": 2}, expires_at=now + timedelta(hours=1)),
                   OneTimeToken(kind="lti-nonce", value="old", expires_at=now - timedelta(minutes=1)),
                   OneTimeToken(kind="lti-nonce", value="live", expires_at=now + timedelta(hours=1))])
    done = Maintenance(services, queue=_NoQueue()).run_once()
    assert done["purged"] == 2
    with services.session() as s:
        assert set(s.scalars(select(KeyValue.key).where(KeyValue.key.like("launch:%")))) == {"launch:live"}
        assert set(s.scalars(select(OneTimeToken.value))) == {"live"}
    assert Maintenance(services, queue=_NoQueue()).run_once()["purged"] == 0


class _NoQueue:
    def retry_later(self, job_id, delay):  # no job is taken over in this test
        raise AssertionError(job_id)
