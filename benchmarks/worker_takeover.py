#!/usr/bin/env python3
"""How long a job whose worker was killed with -9 waits before another worker finishes it
(a script, not a test: ``tests/jobs/test_worker_death.py`` checks the behaviour with a short lease).

    .venv/bin/python benchmarks/worker_takeover.py [--rows 300] [--lease 30] [--db sqlite|postgresql]
                                                 [--backend embedded|rq] [--json out.json]

Starts a real ``microcred worker`` on a bulk issue of ``--rows`` learners, kills its whole
process tree with SIGKILL once 30 rows are done, starts a second worker at once, and reports:

* ``takeover_s``: from the kill until the second worker holds the job (attempt 2 running);
* ``finished_s``: from the kill until the job is done;
* that every learner holds exactly one credential and the report says "issued" for every row.

PostgreSQL: a throw-away database on ``MICROCRED_TEST_POSTGRES_URL`` (default the local
server); RQ: Redis at ``MICROCRED_TEST_REDIS_URL`` (default 127.0.0.1:6379/0), own queue.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def run(rows: int, lease: int, db: str, backend: str) -> dict:
    from sqlalchemy import func, select

    from plugin.storage.secrets import generate_kek
    tmp = Path(tempfile.mkdtemp(prefix="mc-takeover-"))
    pg_name = None
    if db == "postgresql":
        from tests.conftest import _fresh_pg_database
        url, pg_name = _fresh_pg_database()
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": str(tmp / "instance"), "DATABASE_URL": url,
           "MICROCRED_BASE_URL": "http://tool.test", "MICROCRED_SECRET_KEY": "x" * 40, "MICROCRED_KEK": generate_kek(),
           "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_JOB_LEASE_SECONDS": str(lease)}
    queue_name = None
    if backend == "rq":
        queue_name = f"microcred-bench-{uuid.uuid4().hex[:8]}"
        env.update(MICROCRED_REDIS_URL=os.environ.get("MICROCRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                   MICROCRED_RQ_QUEUE=queue_name)
    os.environ.update(env)
    from plugin.jobs import queue as jobs
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.models import IssuedCredential, Job
    from tests.bridges_support import make_definition
    from tests.jobs.workers import WorkerProcess, drop_rq_queue
    services = build_services(Settings.from_env())

    def job():
        with services.session() as s:
            return s.get(Job, job_id)
    try:
        with services.session() as s:
            definition_id = make_definition(s, services=services, policy={"source": "openedx_webhook",
                                                                          "issuance": "automatic"}).id
        payload = {"definition_id": definition_id, "actor": "bench", "filename": "bench.csv", "batch_size": 25,
                   "rows": [{"line": i + 2, "sub": f"l{i}", "email": "", "name": f"L {i}"} for i in range(rows)]}
        job_id = jobs.enqueue(services, "bulk_issue", payload, max_attempts=3)
        first = WorkerProcess(tmp / "w1.log")
        while ((job().result or {}).get("progress") or {}).get("done", 0) < 30:
            if first.proc.poll() is not None:
                raise SystemExit(first.output())
            time.sleep(0.05)
        first.kill9()
        killed = time.monotonic()
        second = WorkerProcess(tmp / "w2.log")
        takeover = None
        while True:
            current = job()
            if takeover is None and current.attempts >= 2 and current.status == "running":
                takeover = time.monotonic() - killed
            if current.status in ("done", "failed"):
                finished = time.monotonic() - killed
                break
            time.sleep(0.1)
        second.stop()
        first.stop()
        with services.session() as s:
            learners = s.scalars(select(IssuedCredential.learner_id)
                                 .where(IssuedCredential.definition_id == definition_id)).all()
            total = s.scalar(select(func.count()).select_from(IssuedCredential))
        current = job()
        return {"db": db, "backend": backend, "lease_s": lease, "rows": rows, "status": current.status,
                "takeover_s": round(takeover or finished, 1), "finished_s": round(finished, 1),
                "credentials": total, "distinct_learners": len(set(learners)),
                "all_reported_issued": {r["outcome"] for r in (current.result or {}).get("rows", [])} == {"issued"}}
    finally:
        services.engine.dispose()
        if queue_name:
            drop_rq_queue(queue_name)
        if pg_name:
            from tests.conftest import _drop_pg_database
            _drop_pg_database(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--lease", type=int, default=30)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--backend", choices=["embedded", "rq"], default="embedded")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.rows, args.lease, args.db, args.backend)
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
