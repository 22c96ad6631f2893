#!/usr/bin/env python3
"""Bulk issuance throughput: an instructor's CSV of N learners, issued by the bulk job
(a script that prints figures, not a test).

    .venv/bin/python benchmarks/bench_bulk.py --learners 2000 [--database-url URL] [--json]

Creates an issuer and an enabled course credential (the demo's Annex I content) in the
database (SQLite in a temporary folder unless ``--database-url`` names a PostgreSQL
database; each run uses its own course, so a database can be reused), uploads a CSV of
``--learners`` new learners the way the instructor's page does, and runs the job to the
end in this process. Prints:

- credentials per second (wall clock) and per CPU-second: this process (the job) and its
  children (the signing pool, counted once it has ended), plus the PostgreSQL backends this run connected to (read from
  ``/proc/<pid>/stat``; "n/a" when the server is not on this machine);
- the ratio to raw Ed25519 signing measured in the same run (``cryptography``, a 32-byte
  digest per signature, one core): how close the whole pipeline comes to the cost of
  the one operation it cannot avoid;
- peak RSS of this process and of its largest child.

The machine is shared, so wall-clock figures move with its load; the per-CPU-second
figures and the ratio are the ones to compare between runs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that have ended (the signing pool)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _proc_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def raw_ed25519_per_second(seconds: float = 1.0) -> float:
    """Ed25519 signatures of a 32-byte digest per CPU-second (what a credential's proof signs)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key, digest = Ed25519PrivateKey.generate(), os.urandom(32)
    n, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(200):
            key.sign(digest)
        n += 200
    return n / (time.process_time() - start)


def learner_csv(n: int, tag: str) -> bytes:
    lines = ["sub,email,name"] + [f"{tag}-{i},learner{i}@{tag}.example,Learner {i}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def setup(services, tag: str) -> int:
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import demo_definition, demo_profile
    from plugin.storage.models import Course, CredentialDefinition
    with services.session() as s:
        issuer = issuance.create_issuer(s, services, f"bench-{tag}", demo_profile())
        course = Course(platform_issuer=f"https://lms.{tag}.example", context_id=f"course-{tag}",
                        title="Bulk benchmark")
        s.add(course)
        s.flush()
        definition = CredentialDefinition(course_id=course.id, issuer_id=issuer.id, enabled=False,
                                          current_version=0, policy={"source": "openedx_webhook",
                                                                     "issuance": "automatic"})
        s.add(definition)
        s.flush()
        issuance.save_definition(s, course, demo_definition(), "bench", issuer, definition=definition)
        issuance.set_enabled(s, definition, True, actor="bench")
        return definition.id


def run(args) -> dict:
    tmp = tempfile.mkdtemp(prefix="mc-bench-bulk-")
    from plugin.storage.secrets import generate_kek
    os.environ.update({"MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": tmp,
                       "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
                       "MICROCRED_BASE_URL": "http://tool.test", "MICROCRED_SECRET_KEY": "x" * 40,
                       "MICROCRED_KEK": os.environ.get("MICROCRED_BENCH_KEK") or generate_kek(),
                       "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_MAIL_BACKEND": "file"})
    os.environ.pop("MICROCRED_REDIS_URL", None)  # the embedded queue: the job runs in this process
    if args.workers is not None:
        os.environ["MICROCRED_BULK_WORKERS"] = str(args.workers)
    from sqlalchemy import event, func, select, text

    from plugin.issuance import bulk
    from plugin.jobs.worker import EmbeddedWorker
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.models import IssuedCredential, Job

    services = build_services(Settings.from_env())
    postgres = services.engine.dialect.name == "postgresql"
    backends: set[int] = set()
    if postgres:
        @event.listens_for(services.engine, "connect")
        def _remember_backend(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backends.add(cur.fetchone()[0])
        services.engine.dispose()  # connections made from now on are counted

    raw = raw_ed25519_per_second()
    tag = uuid.uuid4().hex[:8]
    definition_id = setup(services, tag)
    csv_bytes = learner_csv(args.learners, tag)
    backend_start: dict[int, float] = {}
    statements = [0]
    event.listen(services.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))

    def backend_cpu() -> float | None:
        """CPU of the backends since the clock started (a backend opened later: its whole life)."""
        now = {pid: _proc_cpu(pid) for pid in backends}
        if all(v is None for v in now.values()):
            return None
        return sum(v - backend_start.get(pid, 0.0) for pid, v in now.items() if v is not None)

    with services.engine.connect() as conn:  # open the pool's first connection before the clock starts
        conn.execute(text("SELECT 1"))
    for pid in backends:
        backend_start[pid] = _proc_cpu(pid) or 0.0
    cpu0, wall0 = _cpu(), time.perf_counter()
    statements[0] = 0
    with services.session() as s:
        from plugin.storage.models import CredentialDefinition
        if hasattr(bulk, "start_bulk_issue"):
            job_id = bulk.start_bulk_issue(s, services, s.get(CredentialDefinition, definition_id), csv_bytes,
                                           actor="bench", filename="bench.csv")
        else:  # a tree from before the batched pipeline (to measure the baseline)
            from plugin.jobs.queue import enqueue
            job_id = enqueue(services, "bulk_issue", {"definition_id": definition_id, "actor": "bench",
                                                      "rows": bulk.parse_learner_csv(csv_bytes),
                                                      "filename": "bench.csv"}, session=s, max_attempts=3)
    worker = EmbeddedWorker(services, kinds=["bulk_issue"])
    while worker.run_once() is not None:
        pass
    wall, cpu1 = time.perf_counter() - wall0, _cpu()
    job_cpu, signers_cpu = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    cpu = job_cpu + signers_cpu
    pg_cpu = backend_cpu() if postgres else None
    with services.session() as s:
        job = s.get(Job, job_id)
        counts = (job.result or {}).get("counts")
        issued = s.scalar(select(func.count()).select_from(IssuedCredential)
                          .where(IssuedCredential.definition_id == definition_id))
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total_cpu = cpu + (pg_cpu or 0.0)
    out = {
        "database": services.engine.dialect.name, "learners": args.learners, "issued": issued,
        "job_status": job.status, "counts": counts, "wall_s": round(wall, 2),
        "credentials_per_s": round(issued / wall, 1),
        "process_cpu_s": round(cpu, 2), "job_process_cpu_s": round(job_cpu, 2),
        "signing_pool_cpu_s": round(signers_cpu, 2), "postgres_backend_cpu_s": None if pg_cpu is None else round(pg_cpu, 2),
        "credentials_per_cpu_s": round(issued / total_cpu, 1) if total_cpu else None,
        "raw_ed25519_per_cpu_s": round(raw),
        "ratio_to_raw_ed25519": round(issued / total_cpu / raw, 4) if total_cpu else None,
        "sql_statements": statements[0], "sql_per_credential": round(statements[0] / max(issued, 1), 2),
        "peak_rss_mb": round(me.ru_maxrss / 1024), "peak_child_rss_mb": round(kids.ru_maxrss / 1024),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    services.engine.dispose()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=2000)
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temporary folder)")
    ap.add_argument("--workers", type=int, default=None, help="signing processes (MICROCRED_BULK_WORKERS)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if args.learners < 1:
        print("--learners must be at least 1", file=sys.stderr)
        return 2
    from plugin.settings import SettingsError
    try:
        out = run(args)
    except SettingsError as exc:  # e.g. a database used by an earlier run with another KEK
        print(f"bench_bulk: {exc} (use an empty database, or set MICROCRED_BENCH_KEK to the earlier run's KEK)",
              file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:<26} {value}")
    return 0 if out["issued"] == args.learners else 1


if __name__ == "__main__":
    sys.exit(main())
