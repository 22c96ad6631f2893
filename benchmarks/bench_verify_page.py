#!/usr/bin/env python3
"""Load on the public verification page (a script, not a test).

    .venv/bin/python benchmarks/bench_verify_page.py [--clients 16] [--seconds 10] [--workers 2] [--threads 4]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--json out.json]

1. creates a throw-away PostgreSQL database and issues one credential in it (the demo issuer
   and definition, ``benchmarks/_support.issue_one``);
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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (DEFAULT_PG, Server, bench_env, drive, drop_database, free_port, issue_one,  # noqa: E402
                      make_database, write_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--verify-seconds", type=float, default=2.0, help="how long to time uncached verifications")
    ap.add_argument("--pg", default=DEFAULT_PG)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    port = free_port()
    db_url, db_name = make_database(args.pg)
    env = bench_env(db_url, port)
    os.environ.update(env)
    server = None
    results: dict = {"clients": args.clients, "workers": args.workers, "threads": args.threads,
                     "seconds": args.seconds, "cpus": os.cpu_count(),
                     "loadavg_before": os.getloadavg()[0]}
    try:
        from sqlalchemy import select

        from plugin.issuance import service as issuance
        from plugin.services import build_services
        from plugin.settings import Settings
        from plugin.storage.models import IssuedCredential
        from plugin.verification.resolver import tool_resolver
        from plugin.verification.verify import verify
        services = build_services(Settings.from_env())
        public_id = issue_one(services)

        # The cost of one full verification (what the cache saves), in this process.
        with services.session() as s:
            doc = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one().document
        resolver = tool_resolver(services)
        verify(doc, resolver)
        t0, n = time.perf_counter(), 0
        while n == 0 or time.perf_counter() - t0 < args.verify_seconds:
            assert verify(doc, resolver).ok
            n += 1
        results["uncached_verify_ms"] = round((time.perf_counter() - t0) / n * 1000, 2)

        server = Server(env, port, workers=args.workers, threads=args.threads)
        path = f"/verify/{public_id}"
        for _ in range(args.workers * args.threads * 2):  # first view in each worker verifies
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
            server.stop()
        drop_database(db_name, args.pg)

    print(f"microcred serve: {args.workers} workers x {args.threads} threads, PostgreSQL; "
          f"{args.clients} clients on loopback; {os.cpu_count()} CPUs, load {results['loadavg_before']:.1f}")
    print(f"one uncached verification (in-process): {results['uncached_verify_ms']} ms")
    print(f"{'scenario':<24}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for name in ("html", "json", "html_after_revocation"):
        r = results[name]
        print(f"{name:<24}{r['rps']:>8}{r['p50_ms']:>9}{r['p90_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}"
              f"{r['errors']:>8}")
    write_json(args.json_out, results)


if __name__ == "__main__":
    main()
