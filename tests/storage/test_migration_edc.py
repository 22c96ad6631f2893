"""Migration ``edc`` (0004): on a database that already holds credentials, on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import inspect, text

from plugin.storage import migrate
from plugin.storage.db import make_engine


def test_upgrade_keeps_existing_rows_and_adds_the_edc_tables(settings):
    url = settings.database_url
    migrate.upgrade(url, "0001_initial")
    engine = make_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO issuer (slug, name, profile, created_at, updated_at) "
                           "VALUES ('uni', 'University', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        migrate.upgrade(url, "edc")
        tables = set(inspect(engine).get_table_names())
        assert {"issuer_seal", "edc_seal", "edc_trust_anchor"} <= tables
        with engine.begin() as c:
            issuer_id = c.execute(text("SELECT id FROM issuer WHERE slug = 'uni'")).scalar_one()
            c.execute(text("INSERT INTO issuer_seal (issuer_id, mode, updated_by, created_at, updated_at) "
                           "VALUES (:i, 'unsealed', 'test', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"i": issuer_id})
        migrate.downgrade(url, "0001_initial")
        assert "issuer_seal" not in set(inspect(engine).get_table_names())
        with engine.begin() as c:
            assert c.execute(text("SELECT name FROM issuer WHERE slug = 'uni'")).scalar_one() == "University"
        migrate.upgrade(url, "head")
    finally:
        engine.dispose()
