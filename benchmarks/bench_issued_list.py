#!/usr/bin/env python3
"""How fast an instructor pages, filters and exports a course's issued list (a script, not a test).

    .venv/bin/python benchmarks/bench_issued_list.py [--rows 3000] [--database-url URL] [--repeat 5]

Fills a fresh database (SQLite in a temporary folder unless ``--database-url`` names an
empty PostgreSQL database) with one course, one enabled definition and ``--rows`` issued
credentials (rows inserted directly: signing them is not what this measures; each row
carries a ~3 KB document like a real one, which the list must not load), then times the
instructor pages through the Flask test client: first, middle and last page (50 rows),
a search by name, a status filter, and the full CSV export. Prints the median of
``--repeat`` runs in milliseconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mc-bench-list-")
    from plugin.storage.secrets import generate_kek
    os.environ.update({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": tmp,
                       "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
                       "MICROCRED_BASE_URL": "http://tool.test", "MICROCRED_SECRET_KEY": "x" * 40,
                       "MICROCRED_KEK": generate_kek(), "MICROCRED_CONTEXTS_FETCH": "false"})
    from plugin.app import create_app
    from plugin.issuance.service import create_issuer, save_definition, set_enabled
    from plugin.issuance.demo_data import demo_definition, demo_profile
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.models import Course, IssuedCredential, IssuerPlatform, Learner, Platform
    from plugin.web.auth import Actor, store_launch

    services = build_services(Settings.from_env())
    iss = "https://lms.example.edu"
    with services.session() as s:
        p = Platform(issuer=iss, client_id="c", name="LMS", auth_login_url=iss + "/a", auth_token_url=iss + "/t",
                     key_set_url=iss + "/k", bridge_settings={})
        s.add(p)
        s.flush()
        issuer = create_issuer(s, services, "bench", demo_profile())
        s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=p.id))
        course = Course(platform_issuer=iss, context_id="c1", title="Course", platform_id=p.id)
        s.add(course)
        s.flush()
        version = save_definition(s, course, demo_definition(), "bench", issuer)
        set_enabled(s, version.definition, True, actor="bench")
        launch = store_launch(s, Actor(kind="lti", roles=["instructor"], platform_id=p.id, platform_issuer=iss,
                                       sub="prof", course_id=course.id, locale="en"))
        d_id, v_id, i_id, k_id = version.definition_id, version.id, issuer.id, issuer.keys[0].id
    doc = {"padding": "x" * 3000}
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    for start in range(0, args.rows, 5000):
        with services.session() as s:
            learners = [Learner(platform_issuer=iss, sub=f"l-{i}", name=f"Learner {i}", email=f"l{i}@example.edu")
                        for i in range(start, min(start + 5000, args.rows))]
            s.add_all(learners)
            s.flush()
            s.add_all([IssuedCredential(credential_id=f"https://tool.test/credentials/c{l.id}", definition_id=d_id,
                                        definition_version_id=v_id, learner_id=l.id, issuer_id=i_id, issuer_key_id=k_id,
                                        status="revoked" if l.id % 30 == 0 else "active",
                                        issued_at=t0 + timedelta(minutes=l.id), document=doc, jwt="")
                       for l in learners])
    print(f"{args.rows} rows inserted in {time.perf_counter() - started:.1f}s ({services.engine.url.get_backend_name()})")
    app = create_app(services=services)
    client = app.test_client()
    last_page = max((args.rows + 49) // 50, 1)
    cases = [("first page", f"/instructor/issued?launch={launch}"),
             ("middle page", f"/instructor/issued?launch={launch}&page={last_page // 2}"),
             ("last page", f"/instructor/issued?launch={launch}&page={last_page}"),
             ("search by name", f"/instructor/issued?launch={launch}&q=learner+{args.rows - 1}"),
             ("status filter", f"/instructor/issued?launch={launch}&status=revoked"),
             ("CSV export (all rows)", f"/instructor/issued.csv?launch={launch}")]
    for name, url in cases:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            resp = client.get(url)
            body = resp.get_data()
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, (url, resp.status_code)
        print(f"{name:24s} {statistics.median(times):8.1f} ms  ({len(body) // 1024} KB)")
    services.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
