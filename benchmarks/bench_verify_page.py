#!/usr/bin/env python3
"""Load on the public verification page (a script, not a test).

    .venv/bin/python benchmarks/bench_verify_page.py [--clients 16] [--seconds 10] [--workers 2] [--threads 4]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--json out.json]

1. creates a throw-away PostgreSQL database and issues one credential in it (the demo issuer
   and definition, ``plugin.issuance.demo_data.run_headless``);
2. starts ``microcred serve`` (gunicorn) on a free loopback port against that database;
3. drives N concurrent clients (Python threads, one keep-alive ``http.client`` connection
   each) for a bounded time against ``/verify/<id>`` as HTML (a person) and as JSON (a
   machine), then the same page after a revocation;
4. prints requests/s and latency percentiles, and the cost of one uncached verification.

The page caches each credential's report until its status changes
(``plugin.web.verify_cache``), so steady-state views cost one fingerprint query and a
template render; the first view in each worker pays for a full verification.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_database(pg: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url
    base = make_url(pg.replace("postgresql+psycopg", "postgresql"))
    name = f"mc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), name


def drop_database(pg: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    base = make_url(pg.replace("postgresql+psycopg", "postgresql"))
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"microcred serve did not answer on port {port}")


def drive(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        bad = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0
    return {"requests": len(latencies), "errors": errors[0], "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(50), 1), "p90_ms": round(pct(90), 1),
            "p99_ms": round(pct(99), 1), "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pg", default=os.environ.get("MICROCRED_TEST_POSTGRES_URL",
                                                   "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    from plugin.storage.secrets import generate_kek
    port = free_port()
    db_url, db_name = make_database(args.pg)
    instance = tempfile.mkdtemp(prefix="mc-bench-")
    env = dict(os.environ, MICROCRED_ENV="development", DATABASE_URL=db_url,
               MICROCRED_BASE_URL=f"http://127.0.0.1:{port}", MICROCRED_SECRET_KEY="b" * 48,
               MICROCRED_KEK=generate_kek(), MICROCRED_INSTANCE_DIR=instance, MICROCRED_LOG_LEVEL="WARNING",
               MICROCRED_CONTEXTS_FETCH="false", MICROCRED_MAIL_BACKEND="file")
    os.environ.update(env)
    server = None
    results: dict = {"clients": args.clients, "workers": args.workers, "threads": args.threads,
                     "seconds": args.seconds, "cpus": os.cpu_count(),
                     "loadavg_before": os.getloadavg()[0]}
    try:
        from plugin.issuance import service as issuance
        from plugin.issuance.demo_data import run_headless
        from plugin.services import build_services
        from plugin.settings import Settings
        services = build_services(Settings.from_env())
        summary = run_headless(services, Path(instance) / "files")
        public_id = summary["credential"]

        # The cost of one full verification (what the cache saves), in this process.
        from plugin.verification.resolver import tool_resolver
        from plugin.verification.verify import verify
        from plugin.storage.models import IssuedCredential
        from sqlalchemy import select
        with services.session() as s:
            doc = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one().document
        resolver = tool_resolver(services)
        verify(doc, resolver)
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 2.0:
            assert verify(doc, resolver).ok
            n += 1
        results["uncached_verify_ms"] = round((time.perf_counter() - t0) / n * 1000, 2)

        server = subprocess.Popen([sys.executable, "-m", "plugin", "serve", "--host", "127.0.0.1", "--port",
                                   str(port), "--workers", str(args.workers), "--threads", str(args.threads)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  start_new_session=True)
        wait_up(port)
        path = f"/verify/{public_id}"
        for warm in range(args.workers * args.threads * 2):  # first view in each worker verifies
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", path)
            c.getresponse().read()
        results["html"] = drive(port, path, {"Accept": "text/html"}, args.clients, args.seconds)
        results["json"] = drive(port, path, {"Accept": "application/json"}, args.clients, args.seconds)
        with services.session() as s:
            row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
            issuance.revoke(s, row, "benchmark", actor="bench")
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path, headers={"Accept": "application/json"})
        status = json.loads(c.getresponse().read())["status"]
        assert status == "revoked", status
        results["html_after_revocation"] = drive(port, path, {"Accept": "text/html"}, args.clients,
                                                 args.seconds / 2)
        results["loadavg_after"] = os.getloadavg()[0]
        services.engine.dispose()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        drop_database(args.pg, db_name)

    print(f"microcred serve: {args.workers} workers x {args.threads} threads, PostgreSQL; "
          f"{args.clients} clients on loopback; {os.cpu_count()} CPUs, load {results['loadavg_before']:.1f}")
    print(f"one uncached verification (in-process): {results['uncached_verify_ms']} ms")
    print(f"{'scenario':<24}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for name in ("html", "json", "html_after_revocation"):
        r = results[name]
        print(f"{name:<24}{r['rps']:>8}{r['p50_ms']:>9}{r['p90_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}"
              f"{r['errors']:>8}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
