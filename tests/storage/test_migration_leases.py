"""Migration ``leases`` (0005): jobs get a lease, ``course_sync`` appears; existing rows are kept,
on SQLite and PostgreSQL, and a job left running before the upgrade is taken over once stale."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, text

from plugin.storage import migrate
from plugin.storage.db import make_engine


def test_upgrade_keeps_existing_jobs_and_courses_and_downgrade_keeps_them_too(settings):
    url = settings.database_url
    migrate.upgrade(url, "0001_initial")
    engine = make_engine(url)
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO course (id, platform_issuer, context_id, title, label, created_at) "
                              "VALUES (7, 'https://lms.example.org', 'c1', 'Course', '', :t)"), {"t": old})
            conn.execute(text("INSERT INTO job (id, kind, payload, status, attempts, max_attempts, run_after, "
                              "created_at, updated_at) VALUES (3, 'sync_course', '{\"course_id\": 7}', 'running', 1, 3, "
                              ":t, :t, :t)"), {"t": old})
        migrate.upgrade(url, "head")
        assert {"lease_owner", "lease_expires_at"} <= {c["name"] for c in inspect(engine).get_columns("job")}
        assert "course_sync" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            row = conn.execute(text("SELECT kind, status, attempts, lease_owner FROM job WHERE id = 3")).one()
            assert tuple(row) == ("sync_course", "running", 1, None)
            assert conn.execute(text("SELECT title FROM course WHERE id = 7")).scalar() == "Course"
        # the job its worker left running before the upgrade is taken over (no lease, stale)
        from plugin.jobs.lease import take_over_expired
        from plugin.services import build_services
        services = build_services(settings)
        try:
            assert take_over_expired(services) == [3]
        finally:
            services.engine.dispose()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO course_sync (course_id, next_run_at, failures) VALUES (7, :t, 0)"),
                         {"t": old})
        migrate.downgrade(url, "0001_initial")
        assert "course_sync" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM job WHERE id = 3")).scalar() == "queued"
            assert conn.execute(text("SELECT count(*) FROM course")).scalar() == 1
    finally:
        engine.dispose()
