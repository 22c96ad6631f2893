"""Migration ``pendingissue`` (0003_pending_issuances): a new table on a database that has data."""
from __future__ import annotations

from sqlalchemy import inspect, text

from plugin.storage import migrate
from plugin.storage.db import make_engine


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def test_upgrade_from_the_initial_schema_keeps_every_row_and_downgrade_drops_only_the_new_table(settings):
    url = settings.database_url
    migrate.upgrade(url, "0001_initial")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO learner (public_id, platform_issuer, sub, external_ids, created_at, "
                              "updated_at) VALUES ('l-1', 'https://lms', 'ada', '{}', '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO job (kind, payload, status, attempts, max_attempts, run_after, "
                              "created_at, updated_at) VALUES ('issue_from_evidence', "
                              "'{\"definition_id\": 1, \"learner_id\": 1}', 'queued', 0, 5, '2026-01-01', "
                              "'2026-01-01', '2026-01-01')"))
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert "pending_issuance" in inspect(engine).get_table_names()
        assert _count(engine, "learner") == 1 and _count(engine, "job") == 1
        with engine.begin() as conn:  # the job queued before the upgrade still runs as a retry job
            assert conn.execute(text("SELECT kind, status FROM job")).one() == ("issue_from_evidence", "queued")
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("pending_issuance")}
        assert indexes["uq_pending_issuance_open"]["unique"]

        migrate.downgrade(url, "0001_initial")
        assert "pending_issuance" not in inspect(engine).get_table_names()
        assert _count(engine, "learner") == 1 and _count(engine, "job") == 1
    finally:
        engine.dispose()
